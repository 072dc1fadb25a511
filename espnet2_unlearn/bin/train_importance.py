"""The training data's importance of every weight of a trained model (the
diagonal of the Fisher information), stored beside the model as numbers so
that selective dampening at unlearning time reads no training data
(espnet2_unlearn/unlearn/dampening.py).  Stage 4 runs it after training:

    python -m espnet2_unlearn.bin.train_importance --model_dir exp/ser_train_ser \\
        --model_file train.loss.ave.pth \\
        --data_path_and_name_and_type dump/fbank/train/feats.scp,speech,kaldi_ark \\
        --data_path_and_name_and_type dump/fbank/train/text,label,text

writes exp/ser_train_ser/train_importance.pth.
"""

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import yaml
from espnet2.tasks.cls import CLSTask
from espnet2.utils.types import str2triple_str

from espnet2_unlearn.checksums import sha256_file
from espnet2_unlearn.unlearn.dampening import IMPORTANCE_FILE, fisher_diagonal, save_importance
from espnet2_unlearn.unlearn.forget_set import load_forget_set


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", type=Path, required=True)
    p.add_argument("--model_file", default="train.loss.ave.pth")
    p.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append", required=True,
                   help="the training data, as for ESPnet's training (speech and label)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    config, model_file = args.model_dir / "config.yaml", args.model_dir / args.model_file
    labels = [path for path, name, _ in args.data_path_and_name_and_type if name == "label"]
    for f in [config, model_file] + [Path(path) for path, _, _ in args.data_path_and_name_and_type]:
        if not f.is_file():
            sys.exit(f"train_importance: {f} does not exist")
    if not labels:
        sys.exit("train_importance: no label file among --data_path_and_name_and_type (name 'label')")
    ids = [line.split(maxsplit=1)[0] for line in Path(labels[0]).read_text(encoding="utf-8").splitlines() if line]
    start = time.perf_counter()
    model, _ = CLSTask.build_model_from_file(str(config), str(model_file), "cpu")
    model_args = argparse.Namespace(**yaml.safe_load(config.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as d:
        key_file = Path(d) / "train.ids"
        key_file.write_text("".join(u + "\n" for u in ids), encoding="utf-8")
        data = load_forget_set(ids, args.data_path_and_name_and_type, model_args, key_file)
    importance = fisher_diagonal(model, data.speech, data.labels)
    record = {"model_file": str(model_file), "model_sha256": sha256_file(model_file), "num_utts": len(ids),
              "data": [",".join(t) for t in args.data_path_and_name_and_type]}
    save_importance(importance, args.model_dir / IMPORTANCE_FILE, record)
    logging.info(f"importance of {sum(t.numel() for t in importance.values())} weights over {len(ids)} utterances "
                 f"in {time.perf_counter() - start:.1f} s: {args.model_dir / IMPORTANCE_FILE}")


if __name__ == "__main__":
    main()

"""Per-layer statistics of a trained model's training data (input Gram
matrices and K-FAC output-gradient factors, espnet2_unlearn/unlearn/
layer_statistics.py), stored beside the model as numbers so that projected
updates and the curvature step of unlearning read no training data.  Stage 4
runs it after training; for a model of another recipe, run it once with that
recipe's training data, before the first deletion request:

    python -m espnet2_unlearn.bin.train_statistics --model_dir exp/cls_train_raw \\
        --model_file valid.acc.best.pth \\
        --data_path_and_name_and_type dump/raw/train/wav.scp,speech,sound \\
        --data_path_and_name_and_type dump/raw/train/text,label,text

writes exp/cls_train_raw/train_statistics.pth.
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
from tqdm import tqdm

from espnet2_unlearn.checksums import sha256_file
from espnet2_unlearn.unlearn import layer_statistics
from espnet2_unlearn.unlearn.forget_set import load_forget_set


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", type=Path, required=True)
    p.add_argument("--model_file", default="train.loss.ave.pth")
    p.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append", required=True,
                   help="the training data, as for ESPnet's training (speech and label)")
    p.add_argument("--seed", type=int, default=0, help="of the labels drawn from the model's predictions")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    config, model_file = args.model_dir / "config.yaml", args.model_dir / args.model_file
    labels = [path for path, name, _ in args.data_path_and_name_and_type if name == "label"]
    for f in [config, model_file] + [Path(path) for path, _, _ in args.data_path_and_name_and_type]:
        if not f.is_file():
            sys.exit(f"train_statistics: {f} does not exist")
    if not labels:
        sys.exit("train_statistics: no label file among --data_path_and_name_and_type (name 'label')")
    ids = [line.split(maxsplit=1)[0] for line in Path(labels[0]).read_text(encoding="utf-8").splitlines() if line]
    start = time.perf_counter()
    model, _ = CLSTask.build_model_from_file(str(config), str(model_file), "cpu")
    model_args = argparse.Namespace(**yaml.safe_load(config.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as d:
        key_file = Path(d) / "train.ids"
        key_file.write_text("".join(u + "\n" for u in ids), encoding="utf-8")
        data = load_forget_set(ids, args.data_path_and_name_and_type, model_args, key_file)
    try:
        stats = layer_statistics.accumulate(
            model, tqdm(data.speech, desc="statistics", mininterval=10, file=sys.stderr), data.utts, args.seed)
    except layer_statistics.StatisticsError as e:
        sys.exit(f"train_statistics: {e}")
    record = {"model_file": str(model_file), "model_sha256": sha256_file(model_file), "num_utts": len(ids),
              "data": [",".join(t) for t in args.data_path_and_name_and_type], "seed": args.seed,
              "downdated_by": []}
    out = args.model_dir / layer_statistics.STATISTICS_FILE
    layer_statistics.save(stats, out, record)
    logging.info(f"statistics of {len(stats['layers'])} layers over {len(ids)} utterances in "
                 f"{time.perf_counter() - start:.1f} s: {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

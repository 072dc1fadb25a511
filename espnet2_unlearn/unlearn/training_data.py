"""What a command that records statistics of a model's training data once
(bin/train_statistics.py) needs: its options, and
reading the model and its training utterances through ESPnet's iterator and
the model's own preprocessing."""

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Dict, Tuple

import yaml
from tqdm import tqdm
from espnet2.utils.types import str2triple_str

from espnet2_unlearn.checksums import sha256_file
from espnet2_unlearn.model_file import load_model
from espnet2_unlearn.unlearn.forget_set import ForgetSet, load_forget_set
from espnet2_unlearn.unlearn.front_end import detach_front_end, features


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model_dir", type=Path, required=True)
    parser.add_argument("--model_file", default="train.loss.ave.pth")
    parser.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append", required=True,
                        help="the training data, as for ESPnet's training (speech and label)")


def load(args: argparse.Namespace) -> Tuple[object, ForgetSet, Dict]:
    """(model without its front-end, training utterances as the layers after
    it read them, record of where they came from); a ValueError names a
    missing file or a model file that does not load strictly."""
    config, model_file = args.model_dir / "config.yaml", args.model_dir / args.model_file
    labels = [path for path, name, _ in args.data_path_and_name_and_type if name == "label"]
    for f in [config, model_file] + [Path(path) for path, _, _ in args.data_path_and_name_and_type]:
        if not f.is_file():
            raise ValueError(f"{f} does not exist")
    if not labels:
        raise ValueError("no label file among --data_path_and_name_and_type (name 'label')")
    ids = [line.split(maxsplit=1)[0] for line in Path(labels[0]).read_text(encoding="utf-8").splitlines() if line]
    model, _ = load_model(config, model_file, "cpu")  # a ModelFileError is a ValueError
    front_end = detach_front_end(model)
    model_args = argparse.Namespace(**yaml.safe_load(config.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as d:
        key_file = Path(d) / "train.ids"
        key_file.write_text("".join(u + "\n" for u in ids), encoding="utf-8")
        data = load_forget_set(ids, args.data_path_and_name_and_type, model_args, key_file)
    # The statistics are of the layers unlearning moves, on what they read: past the front-end.
    data = ForgetSet(data.utts, features(front_end, tqdm(data.speech, desc="front-end", mininterval=10,
                                                          file=sys.stderr, disable=front_end is None)), data.labels)
    record = {"model_file": str(model_file), "model_sha256": sha256_file(model_file), "num_utts": len(ids),
              "data": [",".join(t) for t in args.data_path_and_name_and_type]}
    return model, data, record

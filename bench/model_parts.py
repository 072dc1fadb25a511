"""Shared by the stage-5 micro benches: the trained source model and a
forget set, loaded the way stage 5 loads them (run from a recipe directory
after `./run.sh --stop_stage 4`)."""

import argparse
import tempfile
from pathlib import Path

import torch
import yaml
from espnet2_unlearn.espnet_imports import CLSTask

from espnet2_unlearn.unlearn.forget_set import load_forget_set


def setup(doc: str, **options):
    """(args, model, forget set) from the command line: the shared options
    plus `options` (name -> (type, default))."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, (kind, default) in options.items():
        p.add_argument(f"--{name}", type=kind, default=default)
    _add_arguments(p)
    args = p.parse_args()
    return (args, *load(args))


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ser_exp", type=Path, default=Path("exp/ser_train_ser"))
    p.add_argument("--model", default="train.loss.ave.pth")
    p.add_argument("--forget_list", type=Path, default=Path("data/bench/forget_n50_s0"))
    p.add_argument("--threads", type=int, default=1)


def load(args):
    """(model in eval mode, ForgetSet) for args.forget_list."""
    torch.set_num_threads(args.threads)
    config = args.ser_exp / "config.yaml"
    model, model_args = CLSTask.build_model_from_file(config, args.ser_exp / args.model, "cpu")
    model.eval()
    conf = yaml.safe_load(config.read_text())
    ids = [line.split()[0] for line in (args.forget_list / "text").read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as d:
        key_file = Path(d) / "forget.ids"
        key_file.write_text("".join(u + "\n" for u in sorted(ids)))
        forget = load_forget_set(ids, conf["train_data_path_and_name_and_type"], model_args, key_file)
    return model, forget

"""A small untrained ESPnet classification model and a made-up forget set,
for tests of the unlearning pieces (no training needed)."""

import argparse

import numpy as np
import torch

from espnet2.tasks.cls import CLSTask
from espnet2_unlearn.unlearn.forget_set import ForgetSet

CLASSES = ["angry", "happy", "neutral", "sad"]


def tiny_model(seed: int = 0, stats_file=None, input_layer: str = "linear"):
    """With stats_file (a path to write), the model normalises its input with
    global_mvn as every recipe's model does; features of mean 6 and standard
    deviation 2 there (tiny_forget_set(mean=6, std=2))."""
    torch.manual_seed(seed)
    normalize = ["--normalize", "none"]
    if stats_file is not None:
        count = 1000
        np.savez(stats_file, count=np.array(count), sum=np.full(8, 6.0 * count),
                 sum_square=np.full(8, (36.0 + 4.0) * count))
        normalize = ["--normalize", "global_mvn", "--normalize_conf", f"stats_file={stats_file}"]
    parser = CLSTask.get_parser()
    args = parser.parse_args([
        "--token_list", "x", "--output_dir", "x", "--input_size", "8",
        "--encoder", "transformer", "--encoder_conf", "output_size=16", "--encoder_conf", "attention_heads=2",
        "--encoder_conf", "linear_units=16", "--encoder_conf", "num_blocks=1", "--encoder_conf", f"input_layer={input_layer}",
    ] + normalize)
    args.token_list = CLASSES + ["<unk>"]
    return CLSTask.build_model(argparse.Namespace(**vars(args))).eval()


def tiny_forget_set(n: int = 6, seed: int = 0, mean: float = 0.0, std: float = 1.0) -> ForgetSet:
    g = torch.Generator().manual_seed(seed)
    speech = [mean + std * torch.randn(int(torch.randint(12, 20, (1,), generator=g)), 8, generator=g)
              for _ in range(n)]
    labels = torch.randint(0, len(CLASSES), (n,), generator=g)
    return ForgetSet(utts=[f"u{i}" for i in range(n)], speech=speech, labels=labels)

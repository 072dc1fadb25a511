"""A recipe directory holding a small untrained model saved as ESPnet saves
one (config.yaml, train.loss.ave.pth, valid.acc.best.pth, checkpoint.pth,
the statistics stage 4 writes) and a few utterances of real kaldiio
features: for the tests of what stage 5 refuses, which need a model and
data that look right but no training."""

import json
import shutil
from pathlib import Path

import kaldiio
import numpy as np
import torch
import yaml

from helpers import ROOT, run
from espnet2_unlearn.espnet_imports import CLSTask

CLASSES = ["angry", "happy", "neutral", "sad"]
EXP = "exp/ser_tiny"  # the name the tiny recipe's model has


def make_small_recipe(d: Path, speakers: int = 3, per_class: int = 3, dim: int = 8) -> Path:
    d.mkdir(parents=True)
    shutil.copytree(ROOT / "conf", d / "conf")
    rng = np.random.default_rng(0)
    utts = sorted(f"spk{s:02d}_{c}_{i:03d}" for s in range(1, speakers + 1) for c in CLASSES for i in range(per_class))
    feats = d / "dump/fbank/train"
    feats.mkdir(parents=True)
    with kaldiio.WriteHelper(f"ark,scp:{feats / 'feats.ark'},{feats / 'feats.scp'}") as w:
        for u in utts:
            w(u, (6 + 2 * rng.standard_normal((int(rng.integers(20, 40)), dim))).astype(np.float32))
    scp = (feats / "feats.scp").read_text().replace(f"{d}/", "")  # relative, as a recipe's are
    (feats / "feats.scp").write_text(scp)
    for where in (feats, d / "data/train"):
        where.mkdir(parents=True, exist_ok=True)
        (where / "text").write_text("".join(f"{u} {u.split('_')[1]}\n" for u in utts))
        (where / "utt2spk").write_text("".join(f"{u} {u.split('_')[0]}\n" for u in utts))
    (d / "data/heldout").mkdir()
    (d / "data/heldout/utt2spk").write_text("spk01_sad_900 spk01\n")

    stats = d / "exp/ser_stats/train/feats_stats.npz"
    stats.parent.mkdir(parents=True)
    np.savez(stats, count=np.array(1000), sum=np.full(dim, 6000.0), sum_square=np.full(dim, 40000.0))
    exp = d / EXP
    exp.mkdir(parents=True)
    args = CLSTask.get_parser().parse_args([
        "--token_list", "x", "--output_dir", str(exp), "--input_size", str(dim),
        "--encoder", "transformer", "--encoder_conf", "output_size=16", "--encoder_conf", "attention_heads=2",
        "--encoder_conf", "linear_units=16", "--encoder_conf", "num_blocks=1", "--encoder_conf", "input_layer=linear",
        "--normalize", "global_mvn", "--normalize_conf", f"stats_file={stats}"])
    args.token_list = CLASSES + ["<unk>"]
    torch.manual_seed(0)
    model = CLSTask.build_model(args)
    conf = {**vars(args), "normalize_conf": {"stats_file": "exp/ser_stats/train/feats_stats.npz"}}  # as a recipe's
    (exp / "config.yaml").write_text(yaml.safe_dump(conf, sort_keys=False))
    for name in ("train.loss.ave.pth", "valid.acc.best.pth"):
        torch.save(model.state_dict(), exp / name)
    torch.save({"model": model.state_dict(), "reporter": {}, "optimizers": [], "schedulers": []},
               exp / "checkpoint.pth")
    reference = {"accuracy": 0.5, "loss_quantiles": {"0.5": 1.0}}
    (exp / "reference_stats.json").write_text(json.dumps({"model": "train.loss.ave.pth",
                                                          "sets": {"heldout": reference, "valid": reference}}))
    run(f"python -m espnet2_unlearn.bin.train_statistics --model_dir {EXP} --model_file train.loss.ave.pth "
        "--data_path_and_name_and_type dump/fbank/train/feats.scp,speech,kaldi_ark "
        "--data_path_and_name_and_type dump/fbank/train/text,label,text", cwd=d)
    return d

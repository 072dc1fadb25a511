"""A source whose forget set already meets the target takes no step and
builds nothing for one: on the small untrained model (tests/small_recipe.py)."""

import json

import torch

from helpers import run
from unlearn_runs import EXP, source_hashes, unlearn


def test_a_forget_set_that_already_meets_the_target_costs_no_update(small, tmp_path):
    d = small
    run(f"python -m espnet2_unlearn.bin.make_forget --num_utts 10 --seed 1 data/train {tmp_path / 'forget10'}", cwd=d)
    before = source_hashes(d)
    unlearn(d, tmp_path / "met", tmp_path / "forget10", "--forget_target 1.0")
    report = json.loads((tmp_path / "met/forget_report.json").read_text())
    assert report["steps"] == 0 and report["target"]["reached"]
    # no adversarial set, no elastic weights, no projection were made
    assert report["adversarial"]["num_examples_made"] == 0 and report["projection"] == {}
    assert not {"pgd", "mas", "statistics"} & set(report["phases_s"])
    # the published model is the source's, and the source is untouched
    source = torch.load(d / EXP / "train.loss.ave.pth")
    published = torch.load(tmp_path / "met/unlearned.pth")
    assert all(torch.equal(source[k], published[k]) for k in source)
    assert source_hashes(d) == before

import json

import pytest

from espnet2_unlearn.unlearn.stopping import StopRule, resolve_target


def write_stats(d):
    d.mkdir(exist_ok=True)
    (d / "reference_stats.json").write_text(json.dumps({"sets": {
        "heldout": {"accuracy": 0.7, "loss_quantiles": {"0.5": 0.4}},
        "valid": {"accuracy": 0.6, "loss_quantiles": {"0.5": 0.9}},
    }}))


def test_auto_target_follows_the_request(tmp_path):
    write_stats(tmp_path)
    assert resolve_target("auto", "acc", tmp_path, "utterance")[0] == 0.7
    assert resolve_target("auto", "acc", tmp_path, "speaker")[0] == 0.6
    assert resolve_target("auto", "loss", tmp_path, "utterance")[0] == 0.4
    assert resolve_target(0.25, "acc", tmp_path, "speaker") == (0.25, "given")


def test_auto_falls_back_to_the_training_log(tmp_path):
    (tmp_path / "train.log").write_text(
        "x INFO: 1epoch results: [train] loss=1.0, acc=0.5, [valid] loss=1.2, acc=0.55, time=1\n"
        "x INFO: 2epoch results: [train] loss=0.8, acc=0.7, [valid] loss=1.1, acc=0.61, time=1\n")
    value, note = resolve_target("auto", "acc", tmp_path, "utterance")
    assert value == 0.61 and "train.log" in note


def test_auto_without_any_reference_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="neither reference_stats.json nor a training log"):
        resolve_target("auto", "acc", tmp_path, "utterance")


def test_stop_rule():
    assert StopRule("acc", 0.6, 10).reached(0.6, 0.0)
    assert not StopRule("acc", 0.6, 10).reached(0.61, 0.0)
    assert StopRule("loss", 0.5, 10).reached(1.0, 0.5)

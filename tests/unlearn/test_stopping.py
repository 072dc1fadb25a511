import json
import math

import numpy as np
import pytest
from scipy.stats import ks_2samp

from espnet2_unlearn.unlearn.stopping import StopRule, ks_critical, ks_distance, loss_reference, resolve_target


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


def write_losses(d, n, losses):
    """reference_stats.json whose held-out losses are those given (n utterances)."""
    d.mkdir(exist_ok=True)
    table = {str(q / 100): float(np.quantile(losses, q / 100)) for q in range(101)}
    (d / "reference_stats.json").write_text(json.dumps({"sets": {
        "heldout": {"accuracy": 0.7, "num_utts": n, "loss_quantiles": {"0.5": float(np.median(losses))},
                    "loss_percentiles": table}}}))


def test_ks_distance_matches_scipy_against_the_recorded_percentiles(tmp_path):
    rng = np.random.default_rng(0)
    held_out = rng.exponential(1.0, 400)
    write_losses(tmp_path, 400, held_out)
    reference = loss_reference(tmp_path, "utterance")
    assert reference.num_utts == 400 and "400 utterances" in reference.note
    for sample in (rng.exponential(1.0, 50), rng.exponential(0.2, 50)):  # alike, and over-confident
        exact = ks_2samp(sample, held_out).statistic
        assert ks_distance(sample, reference) == pytest.approx(exact, abs=0.02)
    assert ks_distance(rng.exponential(0.2, 50), reference) > ks_critical(50, 400, 0.05)


def test_ks_critical_is_the_two_sample_quantile():
    # the classic 5 % large-sample table: 1.358 sqrt((n + m) / (n m))
    assert ks_critical(50, 400, 0.05) == pytest.approx(1.358 * math.sqrt(450 / 20000), rel=1e-3)
    # a held-out sample of 50 is that far from the rest about half the time
    rng = np.random.default_rng(1)
    exceed = np.mean([ks_2samp(rng.normal(size=50), rng.normal(size=400)).statistic > ks_critical(50, 400, 0.5)
                      for _ in range(400)])
    assert 0.35 < exceed < 0.6


def test_the_distribution_rule_needs_a_reference_of_20_utterances(tmp_path):
    write_losses(tmp_path, 12, np.linspace(0, 2, 12))
    with pytest.raises(ValueError, match="--stop_metric distribution.* 12 utterances, fewer than 20"):
        loss_reference(tmp_path, "utterance")
    with pytest.raises(ValueError, match="no 'valid' set"):
        loss_reference(tmp_path, "speaker")
    with pytest.raises(ValueError, match="reference_stats.json does not exist"):
        loss_reference(tmp_path / "elsewhere", "utterance")


def test_the_distribution_rule_stops_at_or_below_its_distance(tmp_path):
    write_losses(tmp_path, 400, np.linspace(0, 2, 400))
    rule = StopRule("distribution", 0.1, 10, loss_reference(tmp_path, "utterance"))
    assert rule.reached(0.0, 0.0, np.linspace(0, 2, 50))
    assert not rule.reached(0.0, 0.0, np.linspace(0, 0.5, 50))
    assert StopRule("acc", 0.5, 10).distance(np.zeros(3)) is None

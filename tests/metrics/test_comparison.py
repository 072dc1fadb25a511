import numpy as np
import pytest

from espnet2_unlearn.metrics.comparison import bars, compare, gap_to_gold, speedups, within


def scores(acc):
    return {"accuracy": acc, "uar": acc, "macro_f1": acc, "num_utts": 4}


def model(forget, retain, test, efficacy, **extra):
    return {"forget": scores(forget), "retain": scores(retain), "test": scores(test),
            "mia": {"efficacy": efficacy}, **extra}


def outcome(test_correct, forget_correct, called_nonmember, n_classes=4):
    test_correct = np.asarray(test_correct, bool)
    return {"test_refs": np.arange(len(test_correct)) % n_classes, "test_correct": test_correct,
            "forget_correct": np.asarray(forget_correct, bool),
            "forget_called_nonmember": np.asarray(called_nonmember, bool)}


def test_gap_to_gold_is_absolute_points_and_their_mean():
    gaps = gap_to_gold(model(0.60, 0.90, 0.50, 0.40), model(0.70, 0.95, 0.52, 0.30))
    assert gaps["forget_acc"] == pytest.approx(10.0)
    assert gaps["retain_acc"] == pytest.approx(5.0)
    assert gaps["test_uar"] == pytest.approx(2.0)
    assert gaps["mia_efficacy"] == pytest.approx(10.0)
    assert gaps["mean"] == pytest.approx(27.0 / 4)


def test_speedups_for_each_timing_both_models_have():
    unlearned = model(0, 0, 0, 0, compute_time_s=2.0, process_time_s=10.0)
    gold = model(0, 0, 0, 0, compute_time_s=300.0, process_time_s=400.0)
    assert speedups(unlearned, gold) == {"compute": 150.0, "process": 40.0}
    assert speedups(model(0, 0, 0, 0), gold) == {}


def test_interval_status():
    assert within({"low": -1.0, "high": 0.9}, float("-inf"), 1.0) == "met"
    assert within({"low": 1.2, "high": 3.0}, float("-inf"), 1.0) == "not met"
    assert within({"low": 0.5, "high": 1.5}, float("-inf"), 1.0) == "not resolved"
    assert within({"value": 0.0, "low": None, "high": None}, -5, 5) == "not resolved"
    assert within({"low": -5.0, "high": 5.0}, -5, 5) == "met"  # a gap of exactly the bar meets it


def test_bars_from_paired_intervals():
    n = 2000
    orig = outcome(np.arange(n) % 5 != 0, [True] * 40, [False] * 40)  # test 80 %
    same = outcome(np.arange(n) % 5 != 0, [True] * 20 + [False] * 20, [True] * 20 + [False] * 20)
    gold = outcome(np.arange(n) % 5 != 0, [True] * 21 + [False] * 19, [True] * 22 + [False] * 18)
    worse = outcome(np.arange(n) % 2 == 0, [True] * 40, [False] * 40)  # test 50 %
    metrics = {"models": {
        "original": model(1.0, 1.0, 0.8, 0.0),
        "unlearned": model(0.5, 1.0, 0.8, 0.5, compute_time_s=2.0, process_time_s=10.0, peak_rss_mib=1500),
        "gold": model(0.525, 1.0, 0.8, 0.55, compute_time_s=300.0, process_time_s=400.0),
        "bad": model(1.0, 1.0, 0.5, 0.0, compute_time_s=30.0, peak_rss_mib=3000)}}
    outcomes = {"original": orig, "unlearned": same, "gold": gold, "bad": worse}
    compare(metrics, outcomes, seed=0)
    b = metrics["bars"]
    assert b["model"] == "unlearned"
    assert b["utility"]["status"] == "met" and b["utility"]["value"]["value"] == pytest.approx(0.0)
    # forget acc 50 vs 52.5 and MIA 50 vs 55 on 40 utterances: intervals straddle +-5
    assert b["forgetting"]["status"] == "not resolved"
    assert b["speed (compute)"]["status"] == "met" and b["speed (compute)"]["value"] == pytest.approx(150.0)
    assert b["speed (process)"]["status"] == "not met"
    assert b["memory"]["status"] == "met"
    bad = bars(metrics["models"]["bad"], metrics["models"]["gold"])
    assert bad["utility"]["status"] == "not met" and bad["forgetting"]["status"] == "not met"
    assert bad["memory"]["status"] == "not met"
    vs = metrics["models"]["bad"]["vs"]
    assert set(vs) == {"original", "gold"} and vs["original"]["test_uar"]["value"] == pytest.approx(-30.0)
    assert "gap_to_gold" not in metrics["models"]["gold"] and "original" in metrics["models"]["gold"]["vs"]


def test_without_gold_only_utility_and_memory():
    n = 100
    outcomes = {"original": outcome([True] * n, [True] * 10, [False] * 10),
                "unlearned": outcome([True] * n, [False] * 10, [True] * 10)}
    metrics = {"models": {"original": model(1, 1, 1, 0), "unlearned": model(0, 1, 1, 1, peak_rss_mib=100)}}
    compare(metrics, outcomes, seed=0)
    assert set(metrics["bars"]) == {"model", "utility", "memory"}

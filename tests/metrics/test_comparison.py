import numpy as np
import pytest

from espnet2_unlearn.metrics.comparison import bars, compare, gap_to_gold, speedups, vs_gold_seeds, within


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
        "gold": model(0.525, 1.0, 0.8, 0.55, compute_time_s=300.0, process_time_s=400.0, num_train_utts=6000),
        "bad": model(1.0, 1.0, 0.5, 0.0, compute_time_s=30.0, peak_rss_mib=3000)}}
    outcomes = {"original": orig, "unlearned": same, "gold": gold, "bad": worse}
    compare(metrics, outcomes, seed=0)
    b = metrics["bars"]
    assert b["model"] == "unlearned"
    assert b["utility"]["status"] == "met" and b["utility"]["value"]["value"] == pytest.approx(0.0)
    assert b["utility floor"]["status"] == "met" and "gold" in b["utility floor"]["what"]
    # forget acc 50 vs 52.5 and MIA 50 vs 55 on 40 utterances: gold inside both
    # intervals, both gaps within 5 points
    assert b["forgetting"]["status"] == "met"
    assert b["forgetting (pooled)"]["status"] == "not resolved" and "bench" in b["forgetting (pooled)"]["what"]
    # Gold trained on 6000 utterances: speed is judged; compute 150x >= 100, process 40x < 50.
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


def test_forgetting_needs_gold_inside_the_interval_and_a_small_gap():
    from espnet2_unlearn.metrics.comparison import forgetting_status

    def d(value, low, high):
        return {"value": value, "low": low, "high": high, "n": 50}
    inside = d(-2.0, -14.0, 10.0)
    assert forgetting_status({"forget_acc": inside, "mia_efficacy": inside}) == "met"
    # gold outside the interval (contradicted), though the point gap is small
    assert forgetting_status({"forget_acc": inside, "mia_efficacy": d(4.0, 1.0, 7.0)}) == "not met"
    # gold inside, but the point gap is over the bar
    assert forgetting_status({"forget_acc": d(-8.0, -20.0, 4.0), "mia_efficacy": inside}) == "not met"
    assert forgetting_status({"forget_acc": d(0.0, None, None), "mia_efficacy": inside}) == "not resolved"


def test_speed_below_a_real_corpus_size_is_reported_not_judged():
    b = bars(model(0, 0, 0, 0, compute_time_s=1.0, process_time_s=1.0, vs={}),
             model(0, 0, 0, 0, compute_time_s=500.0, process_time_s=600.0, num_train_utts=672))
    assert b == {}  # no paired differences: nothing judged
    m = model(0, 0, 0, 0, compute_time_s=1.0, process_time_s=1.0, first_model_call_s=17.0)
    m["vs"] = {"gold": {k: {"value": 0.0, "low": -1.0, "high": 1.0, "n": 50}
                        for k in ("test_uar", "forget_acc", "mia_efficacy")}}
    b = bars(m, model(0, 0, 0, 0, compute_time_s=500.0, process_time_s=600.0, num_train_utts=672))
    assert b["speed (compute)"]["status"] == "not resolved" and b["speed (compute)"]["value"] == 500.0
    assert "5000 training utterances" in b["speed (process)"]["what"] and "672" in b["speed (process)"]["what"]
    assert b["start-up"]["status"] == "not met" and b["start-up"]["value"] == 17.0


def test_pooled_forgetting_weights_sets_by_size_and_refuses_one_set():
    from espnet2_unlearn.metrics.comparison import pooled_forgetting

    def sets(n, model_right, gold_right):
        m = {"forget_correct": [1] * model_right + [0] * (n - model_right), "forget_called_nonmember": [0] * n}
        g = {"forget_correct": [1] * gold_right + [0] * (n - gold_right), "forget_called_nonmember": [0] * n}
        return m, g
    # 10 utterances at +10 points and 90 at 0: pooled +1 point
    p = pooled_forgetting([sets(10, 6, 5), sets(90, 45, 45)], seed=0)
    assert p["value"]["forget_acc"]["value"] == pytest.approx(1.0)
    assert p["value"]["forget_acc"]["low"] <= 1.0 <= p["value"]["forget_acc"]["high"]
    assert p["value"]["mia_efficacy"] == {"value": 0.0, "low": 0.0, "high": 0.0, "n": 100}
    assert p["num_sets"] == 2 and p["status"] == "met"
    far = pooled_forgetting([sets(100, 90, 50), sets(100, 90, 50)], seed=0)
    assert far["status"] == "not met" and far["value"]["forget_acc"]["value"] == pytest.approx(40.0)
    with pytest.raises(ValueError, match="at least 2 forget sets"):
        pooled_forgetting([sets(50, 25, 25)])


def seed_outcomes(n, uars, rng):
    """Test correctness of retrainings at the given UARs (4 classes, each
    utterance right with that probability)."""
    return [rng.random(n) < u for u in uars]


def test_the_utility_floor_against_gold_seeds_counts_their_spread():
    rng = np.random.default_rng(0)
    n = 4000
    refs = np.arange(n) % 4
    model_correct = rng.random(n) < 0.56
    tight = vs_gold_seeds(model_correct, seed_outcomes(n, [0.565] * 5, rng), refs, seed=0)
    loose = vs_gold_seeds(model_correct, seed_outcomes(n, [0.53, 0.60, 0.545, 0.585, 0.565], rng), refs, seed=0)
    assert tight["num_seeds"] == loose["num_seeds"] == 5
    assert tight["seed_sd"] < 1.5 < loose["seed_sd"]
    for d in (tight, loose):
        assert d["low"] < d["value"] < d["high"] and d["value"] == pytest.approx(
            100 * model_correct.mean() - d["seed_mean"], abs=1.0)
    # the seeds' spread widens the interval beyond the utterances' own
    assert loose["high"] - loose["low"] > (tight["high"] - tight["low"]) + 1.0
    with pytest.raises(ValueError, match="at least 2"):
        vs_gold_seeds(model_correct, [model_correct], refs, seed=0)


def test_with_gold_seeds_the_utility_floor_is_judged_against_their_mean():
    rng = np.random.default_rng(1)
    n = 3000
    base = outcome(rng.random(n) < 0.8, [True] * 20, [False] * 20)
    gold = outcome(rng.random(n) < 0.8, [True] * 20, [False] * 20)
    metrics = {"models": {"original": model(1.0, 1.0, 0.8, 0.0), "unlearned": model(0.5, 1.0, 0.8, 0.5),
                          "gold": model(0.5, 1.0, 0.8, 0.5)}}
    compare(metrics, {"original": base, "unlearned": base, "gold": gold}, seed=0,
            gold_seeds=seed_outcomes(n, [0.78, 0.82, 0.80], rng))
    floor = metrics["bars"]["utility floor"]
    assert "mean of 4 gold seeds" in floor["what"]
    assert metrics["models"]["unlearned"]["vs"]["gold_seeds"]["test_uar"]["num_seeds"] == 4
    assert "gold_seeds" not in metrics["models"]["gold"]["vs"]
    # no seeds beyond gold: gold alone, as before
    compare(metrics, {"original": base, "unlearned": base, "gold": gold}, seed=0)
    assert metrics["bars"]["utility floor"]["what"].startswith("test UAR lost against gold")

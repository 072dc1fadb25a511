import pytest

from espnet2_unlearn.metrics.comparison import bars, compare, gap_to_gold, speedup


def scores(acc):
    return {"accuracy": acc, "uar": acc, "macro_f1": acc, "num_utts": 4}


def model(forget, retain, test, efficacy, **extra):
    return {"forget": scores(forget), "retain": scores(retain), "test": scores(test),
            "mia": {"efficacy": efficacy}, **extra}


def test_gap_to_gold_is_absolute_points_and_their_mean():
    gaps = gap_to_gold(model(0.60, 0.90, 0.50, 0.40), model(0.70, 0.95, 0.52, 0.30))
    assert gaps["forget_acc"] == pytest.approx(10.0)
    assert gaps["retain_acc"] == pytest.approx(5.0)
    assert gaps["test_uar"] == pytest.approx(2.0)
    assert gaps["mia_efficacy"] == pytest.approx(10.0)
    assert gaps["mean"] == pytest.approx(27.0 / 4)


def test_speedup_needs_both_wall_times():
    assert speedup(model(0, 0, 0, 0, wall_time_s=2.0), model(0, 0, 0, 0, wall_time_s=300.0)) == 150.0
    assert speedup(model(0, 0, 0, 0), model(0, 0, 0, 0, wall_time_s=300.0)) is None


def test_bars_met_and_missed():
    original = model(0.95, 0.95, 0.60, 0.1)
    gold = model(0.66, 0.95, 0.60, 0.5, wall_time_s=300.0)
    good = model(0.68, 0.94, 0.595, 0.47, wall_time_s=2.0, peak_rss_mib=1500)
    b = bars(good, original, gold)
    assert b["utility"]["met"] and b["utility"]["value"] == pytest.approx(0.5)
    assert b["forgetting"]["met"] and b["forgetting"]["value"] == pytest.approx(3.0)
    assert b["speed"]["met"] and b["speed"]["value"] == pytest.approx(150.0)
    assert b["memory"]["met"]
    bad = model(0.90, 0.90, 0.50, 0.2, wall_time_s=30.0, peak_rss_mib=3000)
    b = bars(bad, original, gold)
    assert not any(v["met"] for v in b.values())
    # Without a gold model only the utility bar can be judged.
    assert set(bars(bad, original, None)) == {"utility", "memory"}


def test_compare_adds_gaps_to_every_model_but_gold():
    metrics = {"models": {"original": model(0.95, 0.95, 0.6, 0.1), "unlearned": model(0.7, 0.9, 0.58, 0.45),
                          "gold": model(0.66, 0.95, 0.6, 0.5)}}
    compare(metrics)
    assert "gap_to_gold" in metrics["models"]["original"] and "gap_to_gold" in metrics["models"]["unlearned"]
    assert "gap_to_gold" not in metrics["models"]["gold"]
    assert metrics["bars"]["model"] == "unlearned" and "forgetting" in metrics["bars"]


def test_a_gap_of_exactly_the_bar_meets_it():
    gold = model(0.66, 0.95, 0.60, 0.23)
    assert bars(model(0.63, 0.95, 0.60, 0.28), model(0.95, 0.95, 0.60, 0.1), gold)["forgetting"]["met"]

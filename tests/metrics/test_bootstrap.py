import numpy as np
import pytest

from espnet2_unlearn.metrics import bootstrap


def test_resamples_are_seeded_and_shared_by_models_of_the_same_set():
    a = bootstrap.resample_indices(50, seed=3)
    assert np.array_equal(a, bootstrap.resample_indices(50, seed=3))
    assert not np.array_equal(a, bootstrap.resample_indices(50, seed=4))
    assert a.shape == (bootstrap.NUM_RESAMPLES, 50) and a.min() >= 0 and a.max() < 50


def test_identical_models_differ_by_exactly_zero():
    rng = np.random.default_rng(0)
    correct = rng.random(200) < 0.6
    refs = rng.integers(0, 4, 200)
    d = bootstrap.paired_difference(correct, correct, seed=0, refs=refs)
    assert d == {"value": 0.0, "low": 0.0, "high": 0.0, "n": 200}


def test_uar_point_value_is_the_mean_recall():
    refs = np.array([0, 0, 0, 0, 1, 1] * 5)
    a = np.array([1, 1, 1, 1, 0, 0] * 5, bool)  # recall 1.0 and 0.0
    b = np.array([1, 1, 0, 0, 1, 1] * 5, bool)  # recall 0.5 and 1.0
    d = bootstrap.paired_difference(a, b, seed=0, refs=refs)
    assert d["value"] == pytest.approx(100 * (0.5 - 0.75))
    assert d["low"] <= d["value"] <= d["high"]


def test_paired_interval_is_narrower_than_unpaired_for_related_models():
    # Two models that agree on 95 % of 2000 utterances: the paired interval
    # of their difference is far narrower than either model's own interval.
    rng = np.random.default_rng(1)
    a = rng.random(2000) < 0.6
    b = a.copy()
    flip = rng.choice(2000, 100, replace=False)
    b[flip] = ~b[flip]
    d = bootstrap.paired_difference(a, b, seed=0)
    single = bootstrap.single(a, seed=0)
    assert d["high"] - d["low"] < 0.5 * (single["high"] - single["low"])
    assert d["low"] <= d["value"] <= d["high"]


def test_too_few_utterances_say_so():
    d = bootstrap.paired_difference([True], [False], seed=0)
    assert d["low"] is None and d["value"] == 100.0
    assert bootstrap.format_interval(d) == "+100.0 (n=1: too few for an interval)"


def test_format_uses_signed_points():
    assert bootstrap.format_interval({"value": -0.44, "low": -1.1, "high": 0.3, "n": 50}) == \
        "\u22120.4 [\u22121.1, +0.3]"
    assert bootstrap.format_interval({"value": 1.0, "low": 0.2, "high": 2.0, "n": 50}, signed=False) == \
        "1.0 [0.2, 2.0]"


def test_mismatched_models_are_refused():
    with pytest.raises(ValueError, match="paired comparison of 3 and 2"):
        bootstrap.paired_difference([True] * 3, [True] * 2, seed=0)

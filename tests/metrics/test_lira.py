import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from espnet2_unlearn.metrics import lira


def references(n=60, models=4, shift=2.0, spread=0.5, seed=0):
    """Confidences of 'in' and 'out' reference models: per utterance an out
    mean, the in mean shift above it."""
    rng = np.random.default_rng(seed)
    mu_out = rng.normal(0, 1.5, n)
    phi_in = mu_out + shift + rng.normal(0, spread, (models, n))
    phi_out = mu_out + rng.normal(0, spread, (models, n))
    return rng, mu_out, phi_in, phi_out


def test_logit_confidence():
    probs = np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]])
    phi = lira.logit_confidence(probs, np.array([0, 0, 1]))
    assert phi[:2] == pytest.approx([0.0, np.log(9)])
    assert np.isfinite(phi[2]) and phi[2] < -20  # clipped, not -inf


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(3)
    pos, neg = rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 30).astype(float)
    expected = roc_auc_score(np.r_[np.ones(40), np.zeros(30)], np.r_[pos, neg])
    assert lira.auc(pos, neg) == pytest.approx(expected)
    both = lira.auc(np.stack([pos, pos + 10]), np.stack([neg, neg]))
    assert both == pytest.approx([expected, 1.0])


def test_tpr_at_fpr():
    neg = np.arange(100, dtype=float)  # 1 % lets the highest one through
    assert lira.tpr_at(np.array([97.5, 98.5, 50.0, 120.0]), neg, 0.01) == 0.5
    assert lira.tpr_at(np.array([95.5]), neg, 0.05) == 1.0 and lira.tpr_at(np.array([93.5]), neg, 0.05) == 0.0


def test_members_are_found_and_retrained_models_are_not():
    rng, mu_out, phi_in, phi_out = references()
    n = len(mu_out)
    models = {"original": mu_out + 2.0 + rng.normal(0, 0.5, n), "gold": mu_out + rng.normal(0, 0.5, n),
              "halfway": mu_out + 1.0 + rng.normal(0, 0.5, n)}
    result = lira.attack(models, phi_in, phi_out, seed=0)
    r, floor = result["models"], result["floor"]
    assert r["original"]["auc"] > 0.95 and r["original"]["tpr_at_5pct_fpr"] > 0.5
    assert abs(r["gold"]["auc"] - 0.5) < 0.1 and r["gold"]["tpr_at_1pct_fpr"] < 0.1
    assert r["gold"]["auc"] < r["halfway"]["auc"] < r["original"]["auc"]
    # The floor: gold and each out model attacked with fits on the others; gold's own AUC is its first.
    assert floor["num_seeds"] == 5 and floor["aucs"][0] == pytest.approx(r["gold"]["auc"])
    assert abs(floor["mean"] - 0.5) < 0.1 and floor["sd"] == pytest.approx(np.std(floor["aucs"], ddof=1))
    d = r["original"]["auc_vs_floor"]
    assert d["floor"] == "5 retrained seeds" and d["value"] == pytest.approx(r["original"]["auc"] - floor["mean"])
    assert d["low"] <= d["value"] <= d["high"] and d["low"] > 0.3
    assert "auc_vs_floor" not in r["gold"]
    lo, hi = r["gold"]["auc_interval"]["low"], r["gold"]["auc_interval"]["high"]
    assert lo < 0.5 < hi
    assert result == lira.attack(models, phi_in, phi_out, seed=0)  # the same seed, the same figures


def test_a_model_scored_on_other_utterances_is_refused():
    _, mu_out, phi_in, phi_out = references(n=20)
    with pytest.raises(ValueError, match="20"):
        lira.attack({"m": mu_out[:10]}, phi_in, phi_out)


@pytest.mark.parametrize("models_in, models_out", [(1, 4), (4, 1)])
def test_too_few_reference_models_are_refused(models_in, models_out):
    _, mu_out, phi_in, phi_out = references(n=20)
    with pytest.raises(ValueError, match="at least 2"):
        lira.attack({"m": mu_out}, phi_in[:models_in], phi_out[:models_out])


def test_models_certain_of_every_utterance_give_finite_scores():
    """float32 probabilities of exactly 1 (tiny models that memorise) and
    reference models that all saturate: no inf, no NaN."""
    n = 12
    probs = np.zeros((n, 4), np.float32)
    probs[:, 0] = 1.0
    phi = lira.logit_confidence(probs, np.zeros(n, int))
    assert np.isfinite(phi).all() and phi[0] > 20
    saturated = np.tile(phi, (3, 1))
    r = lira.attack({"original": phi, "gold": phi - 1.0}, saturated, saturated - 0.5, seed=0)["models"]
    for m in r.values():
        assert np.isfinite(m["auc"]) and np.isfinite(m["auc_interval"]["low"])
    assert np.isfinite(r["original"]["auc_vs_floor"]["value"])


def test_two_out_models_are_enough_for_the_left_out_folds():
    """Each fold leaves one out model in the fit: the spread comes from the in models then."""
    rng, mu_out, phi_in, phi_out = references(n=30, models=2)
    r = lira.attack({"original": mu_out + 2.0 + rng.normal(0, 0.5, 30), "gold": mu_out + rng.normal(0, 0.5, 30)},
                    phi_in, phi_out, seed=0)["models"]
    assert r["original"]["auc"] > 0.9 and abs(r["gold"]["auc"] - 0.5) < 0.2
    assert np.isfinite(r["original"]["auc_vs_floor"]["low"])


def test_the_floor_carries_the_seeds_spread():
    """Retrained seeds that differ in how sure they are of a whole class
    (one shift over many utterances): the floor's interval widens with that
    spread, while the utterances alone would call a model that is one more
    such seed far from the floor."""
    rng, mu_out, phi_in, phi_out = references(n=60, models=4, seed=1)
    cls = np.arange(60) % 4
    class_bias = lambda: rng.normal(0, 1.0, 4)[cls]  # noqa: E731
    phi_out = phi_out + np.stack([class_bias() for _ in range(4)])
    models = {"gold": mu_out + class_bias() + rng.normal(0, 0.5, 60),
              "another_retraining": mu_out + class_bias() + rng.normal(0, 0.5, 60)}
    result = lira.attack(models, phi_in, phi_out, seed=0)
    d = result["models"]["another_retraining"]["auc_vs_floor"]
    seeds_alone = 1.96 * result["floor"]["sd"] / np.sqrt(result["floor"]["num_seeds"])
    assert d["high"] - d["low"] > 2 * seeds_alone and d["low"] < 0 < d["high"]


def test_no_floor_without_the_retrained_model():
    _, mu_out, phi_in, phi_out = references(n=20)
    result = lira.attack({"original": mu_out + 2.0}, phi_in, phi_out)
    assert "floor" not in result and "auc_vs_floor" not in result["models"]["original"]

import numpy as np
import pytest

from espnet2_unlearn.metrics.membership import attack_features, loss_auc, mia_efficacy


def test_attack_features():
    probs = np.array([[0.5, 0.5], [0.9, 0.1]])
    f = attack_features(probs, np.array([0, 1]))
    assert f[:, 0] == pytest.approx([np.log(2), -np.log(0.1)])
    assert f[0, 1] == pytest.approx(np.log(2)) and f[:, 2] == pytest.approx([0.5, 0.9])


def test_separable_members_and_nonmembers():
    rng = np.random.default_rng(0)
    members = rng.normal([0.05, 0.1, 0.98], 0.01, (200, 3))
    nonmembers = rng.normal([1.5, 1.0, 0.5], 0.05, (200, 3))
    # A forget set that looks like non-members is called non-member; one that
    # looks like members is not.
    assert mia_efficacy(members, nonmembers, nonmembers[:50])["efficacy"] == 1.0
    assert mia_efficacy(members, nonmembers, members[:50])["efficacy"] == 0.0
    assert loss_auc(nonmembers[:, 0], members[:, 0]) == 1.0


def test_identical_distributions_are_a_coin_flip():
    rng = np.random.default_rng(1)
    same = rng.normal(0, 1, (4000, 3))
    result = mia_efficacy(same[:1000], same[1000:2000], same[2000:])
    assert abs(result["attack_train_accuracy"] - 0.5) < 0.06
    assert abs(loss_auc(same[:2000, 0], same[2000:, 0]) - 0.5) < 0.03
    assert loss_auc([1.0, 1.0], [1.0]) == 0.5

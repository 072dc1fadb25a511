"""Membership inference on per-utterance outputs: does a model still treat
the forget set like the data it was trained on?

- MIA-efficacy: a logistic-regression attack on (loss, entropy, max
  probability), trained on a balanced sample of members (retain set) and
  non-members, applied to the forget set; the figure is the share of the
  forget set it calls non-member.
- Loss AUC: the probability that a forget utterance has a higher loss than
  a non-member one (ties count half); 0.5 means indistinguishable.
"""

from typing import Dict

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def attack_features(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N, 3): cross-entropy on the true label, entropy, max probability."""
    p = np.clip(probs, 1e-12, 1.0)
    loss = -np.log(p[np.arange(len(labels)), labels])
    entropy = -(p * np.log(p)).sum(axis=1)
    return np.stack([loss, entropy, p.max(axis=1)], axis=1)


def mia_efficacy(member: np.ndarray, nonmember: np.ndarray, forget: np.ndarray, seed: int = 0) -> Dict[str, float]:
    """Attack features of members, non-members and the forget set (rows of
    attack_features).  The larger group is subsampled to the smaller one."""
    rng = np.random.default_rng(seed)
    n = min(len(member), len(nonmember))
    if n == 0 or len(forget) == 0:
        raise ValueError("membership inference needs members, non-members and a forget set")
    m = member[rng.choice(len(member), n, replace=False)]
    nm = nonmember[rng.choice(len(nonmember), n, replace=False)]
    x = np.concatenate([m, nm])
    y = np.concatenate([np.ones(n), np.zeros(n)])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    attack = LogisticRegression(max_iter=1000).fit((x - mean) / std, y)
    called_member = attack.predict((forget - mean) / std)
    train_acc = float((attack.predict((x - mean) / std) == y).mean())
    return {"efficacy": float((called_member == 0).mean()), "attack_train_accuracy": train_acc, "balanced_n": n,
            "called_nonmember": called_member == 0}


def loss_auc(forget_loss: np.ndarray, nonmember_loss: np.ndarray) -> float:
    """P(forget loss > non-member loss) + P(equal) / 2: the ROC AUC of the
    loss as a score for "forget" against "non-member"."""
    a, b = np.asarray(forget_loss, float), np.asarray(nonmember_loss, float)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("loss AUC needs both groups")
    return float(roc_auc_score(np.r_[np.ones(len(a)), np.zeros(len(b))], np.r_[a, b]))

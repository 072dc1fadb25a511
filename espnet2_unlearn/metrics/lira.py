"""A per-utterance likelihood-ratio membership attack (LiRA, Carlini et al.,
S&P 2022), asked as unlearning evaluations ask it (U-LiRA, Hayes et al.,
SaTML 2025): can an attacker who holds reference models tell a model's
outputs on the forget utterances from those of a model retrained without them?

Per forget utterance u, the logit-scaled confidence of its true class,
phi = log p_y - log(1 - p_y), varies over training seeds about one mean
under models that trained on u ("in": the source's config on all of train)
and another under models that did not ("out": retrained without the forget
set).  A model's score on u is log N(phi; mu_in(u), sd) - log N(phi;
mu_out(u), sd); with a handful of reference models per utterance one
spread is pooled over utterances and both sides (LiRA's fixed variance).

The attack's AUC on a model: positives are the model's scores on the forget
utterances; negatives are the scores of retrained models that the fit did
not see.  Each out model in turn is left out of the fit and scored by it
(leave-one-out), and the model under attack is scored by the same fits, so
both sides meet the same fits.  0.5: its forget outputs look retrained; 1:
they give every utterance away.

The noise floor: what a model retrained without the forget set scores.  One
retrained seed is not enough: seeds differ in how sure they are of whole
classes, and that moves every utterance of a class at once (on the built-in
corpus at 6 epochs five retrained seeds scored 0.30 to 0.70).  So each
retrained model (gold and the out models) is attacked in turn with fits on
the others, and a model is judged against the mean of those AUCs, with an
interval that adds the seeds' variance over their number to the utterances'
(as the utility floor does, metrics/comparison.py).
"""

from typing import Dict, Sequence

import numpy as np
from scipy.stats import rankdata

from espnet2_unlearn.metrics import bootstrap

FPRS = (0.01, 0.05)  # false-positive rates the true-positive rate is read at
MIN_REFERENCE_MODELS = 2  # per side: a spread needs two, leave-one-out two out models


def logit_confidence(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(n,) log p_y - log(1 - p_y), with p clipped away from 0 and 1 (in
    float64: float32 cannot hold 1 - 1e-12, and a model sure of an
    utterance would score it +inf)."""
    p = np.clip(np.asarray(probs, np.float64)[np.arange(len(labels)), labels], 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


# The smallest spread a fit may have: reference models that all saturate
# (every one certain of every utterance) would otherwise give a spread of 0.
MIN_SD = 1e-2


def _pooled_sd(*sides: np.ndarray) -> float:
    """Each side (models, n): the spread of a confidence about its
    utterance's mean on that side, pooled over utterances and over the sides
    with at least two models (degrees of freedom added up)."""
    squares = sum(float(((phi - phi.mean(axis=0)) ** 2).sum()) for phi in sides if len(phi) > 1)
    dof = sum((len(phi) - 1) * phi.shape[1] for phi in sides if len(phi) > 1)
    return max(float(np.sqrt(squares / dof)), MIN_SD)


def likelihood_ratio(phi: np.ndarray, phi_in: np.ndarray, phi_out: np.ndarray) -> np.ndarray:
    """Scores (..., n) of confidences phi (..., n) under Gaussians fitted to
    phi_in (models, n) and phi_out (models, n), one spread for both (LiRA's
    fixed variance: a few models per side cannot tell two spreads apart, and
    a left-out fold may leave one out model)."""
    sd = _pooled_sd(phi_in, phi_out)
    z_in = (phi - phi_in.mean(axis=0)) / sd
    z_out = (phi - phi_out.mean(axis=0)) / sd
    return 0.5 * (z_out ** 2 - z_in ** 2)


def auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """ROC AUC of positives against negatives along the last axis (ties
    count half), for each leading index."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    ranks = rankdata(np.concatenate([pos, neg], axis=-1), axis=-1)
    n_pos, n_neg = pos.shape[-1], neg.shape[-1]
    return (ranks[..., :n_pos].sum(axis=-1) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def _interval(point: float, resampled: np.ndarray, n: int) -> Dict:
    """In AUC units (bootstrap.interval's are points), none below bootstrap.MIN_UTTS utterances."""
    if n < bootstrap.MIN_UTTS:
        return {"value": point, "low": None, "high": None, "n": n}
    low, high = np.percentile(resampled, [2.5, 97.5])
    return {"value": point, "low": float(low), "high": float(high), "n": n}


def tpr_at(pos: np.ndarray, neg: np.ndarray, fpr: float) -> float:
    """The share of positives above the highest threshold that lets at most
    fpr of the negatives through."""
    allowed = int(np.floor(fpr * len(neg)))
    threshold = np.sort(neg)[::-1][min(allowed, len(neg) - 1)]
    return float(np.mean(pos > threshold))


def fold_scores(phi_model: np.ndarray, phi_in: np.ndarray, phi_out: np.ndarray):
    """(folds, n) scores of the model and of the left-out out model, one
    fold per out model."""
    folds = range(len(phi_out))
    model = np.stack([likelihood_ratio(phi_model, phi_in, np.delete(phi_out, j, axis=0)) for j in folds])
    left_out = np.stack([likelihood_ratio(phi_out[j], phi_in, np.delete(phi_out, j, axis=0)) for j in folds])
    return model, left_out


def check_references(phi_in: np.ndarray, phi_out: np.ndarray) -> None:
    for side, phi in (("in", phi_in), ("out", phi_out)):
        if phi.ndim != 2 or len(phi) < MIN_REFERENCE_MODELS:
            raise ValueError(f"the likelihood-ratio attack needs at least {MIN_REFERENCE_MODELS} '{side}' "
                             f"reference models, got {0 if phi.ndim != 2 else len(phi)}")
    if phi_in.shape[1] != phi_out.shape[1]:
        raise ValueError("the 'in' and 'out' reference models were scored on different utterances")


def _attacked(phi: np.ndarray, phi_in: np.ndarray, phi_out: np.ndarray, idx: np.ndarray):
    """(positives, negatives, AUC on each resample of utterances idx)."""
    model, negative = fold_scores(np.asarray(phi, float), phi_in, phi_out)
    # Resampling utterances keeps each utterance's folds together.
    resampled = auc(model[:, idx].transpose(1, 0, 2).reshape(len(idx), -1),
                    negative[:, idx].transpose(1, 0, 2).reshape(len(idx), -1))
    return model.ravel(), negative.ravel(), resampled


def seed_floor(phi_retrained: np.ndarray, phi_in: np.ndarray, idx: np.ndarray):
    """Each retrained model (models, n) attacked with fits on the others:
    (AUC per model, AUCs per model and resample)."""
    points, resampled = [], []
    for j in range(len(phi_retrained)):
        pos, neg, res = _attacked(phi_retrained[j], phi_in, np.delete(phi_retrained, j, axis=0), idx)
        points.append(float(auc(pos, neg)))
        resampled.append(res)
    return np.array(points), np.array(resampled)


def attack(phi_models: Dict[str, np.ndarray], phi_in: np.ndarray, phi_out: np.ndarray, seed: int = 0,
           floor: str = "gold", fprs: Sequence[float] = FPRS) -> Dict:
    """Per model (name -> (n,) confidences on the forget utterances, in one
    order): the attack's AUC with a 95 % interval resampling utterances, and
    its TPR at each of fprs.  When floor (a model retrained without the
    forget set) is among them, the seed floor over it and phi_out ("floor":
    per-seed AUCs, their mean and spread) and each other model's AUC minus
    that mean, its interval from the utterances (paired) and the seeds."""
    check_references(phi_in, phi_out)
    n = phi_in.shape[1]
    idx = bootstrap.resample_indices(n, seed)
    scored, resampled = {}, {}
    for name, phi in phi_models.items():
        if len(phi) != n:
            raise ValueError(f"model {name}: {len(phi)} forget utterances scored, the references {n}")
        pos, neg, resampled[name] = _attacked(phi, phi_in, phi_out, idx)
        point = float(auc(pos, neg))
        scored[name] = {"auc": point, "auc_interval": _interval(point, resampled[name], n),
                        **{f"tpr_at_{100 * f:g}pct_fpr": tpr_at(pos, neg, f) for f in fprs},
                        "num_utts": n, "num_in_models": len(phi_in), "num_out_models": len(phi_out)}
    if floor not in scored:
        return {"models": scored}
    points, floor_resampled = seed_floor(np.vstack([np.asarray(phi_models[floor], float)[None], phi_out]),
                                         phi_in, idx)
    k, seed_var = len(points), float(np.var(points, ddof=1))
    for name, s in scored.items():
        if name == floor:
            continue
        point = s["auc"] - float(points.mean())
        spread = float(np.sqrt(np.var(resampled[name] - floor_resampled.mean(axis=0), ddof=1) + seed_var / k))
        low, high = (None, None) if n < bootstrap.MIN_UTTS else (point - 1.96 * spread, point + 1.96 * spread)
        s["auc_vs_floor"] = {"value": point, "low": low, "high": high, "n": n, "floor": f"{k} retrained seeds"}
    return {"models": scored, "floor": {"model": floor, "aucs": points.tolist(), "mean": float(points.mean()),
                                        "sd": float(np.sqrt(seed_var)), "num_seeds": k}}

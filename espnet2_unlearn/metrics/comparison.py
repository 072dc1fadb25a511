"""Comparing models with each other: the gap to the gold standard, paired
intervals of the differences that the bars judge, the speed-ups over
retraining, and the bars themselves (docs/design.md, "Bars")."""

from typing import Dict, Optional

import numpy as np

from espnet2_unlearn.metrics import bootstrap

# (key, set, metric): the four figures the gap to gold is taken over.
GAP_METRICS = (
    ("forget_acc", "forget", "accuracy"),
    ("retain_acc", "retain", "accuracy"),
    ("test_uar", "test", "uar"),
    ("mia_efficacy", "mia", "efficacy"),
)

UTILITY_BAR = 1.0      # points of test UAR lost at most, against gold (floor) and the original (promise)
FORGETTING_BAR = 5.0   # points from gold, forget accuracy and MIA efficacy
SPEEDUP_BARS = {"compute": 100.0, "process": 50.0}  # times faster than gold retraining ...
SPEED_CORPUS_UTTS = 5000  # ... judged at a real corpus's size (IEMOCAP's), not below
STARTUP_BAR_S = 5.0    # seconds from process start to the first model call of stage 5
MEMORY_BAR_MIB = 2048  # peak RSS
ATTACK_BAR = 0.05      # per-utterance attack AUC from the retrained seeds' mean (metrics/lira.py)
MIN_POOLED_SETS = 2    # the pooled forgetting bar needs a bench of at least this many forget sets
FORGET_METRICS = ("forget_acc", "mia_efficacy")  # what the forgetting bars judge, against gold

# The two ways of timing a run (docs/design.md, "Timings"): the work inside the
# process, and the whole process from start to exit as the stage saw it.
TIMINGS = {"compute": "compute_time_s", "process": "process_time_s"}


def headline(m: Dict) -> Dict[str, float]:
    return {key: m[s][k] for key, s, k in GAP_METRICS}


def gap_to_gold(model: Dict, gold: Dict) -> Dict[str, float]:
    """|model - gold| per metric, in points, and their mean."""
    a, g = headline(model), headline(gold)
    # Rounded so that, e.g., 28 % vs 23 % is exactly 5 points for the bars.
    gaps = {key: round(100 * abs(a[key] - g[key]), 6) for key in a}
    gaps["mean"] = sum(gaps.values()) / len(GAP_METRICS)
    return gaps


def speedups(model: Dict, gold: Dict) -> Dict[str, float]:
    """Gold's time over the model's, for each timing both have."""
    out = {}
    for name, key in TIMINGS.items():
        if model.get(key) and gold.get(key):
            out[name] = gold[key] / model[key]
    return out


def paired(outcomes: Dict, a: str, b: str, seed: int) -> Dict[str, Dict]:
    """a - b in points with paired 95 % intervals: test UAR and forget
    accuracy over the same resampled utterances, MIA efficacy over the same
    resampled forget utterances (each model's attack fixed)."""
    oa, ob = outcomes[a], outcomes[b]
    return {
        "test_uar": bootstrap.paired_difference(oa["test_correct"], ob["test_correct"], seed, refs=oa["test_refs"]),
        "forget_acc": bootstrap.paired_difference(oa["forget_correct"], ob["forget_correct"], seed),
        "mia_efficacy": bootstrap.paired_difference(oa["forget_called_nonmember"], ob["forget_called_nonmember"],
                                                    seed),
    }


def vs_gold_seeds(model_correct, seed_corrects, refs, seed: int) -> Dict:
    """Test UAR of a model minus the mean over gold seeds (gold and the
    reference models retrained without the forget set), in points.  Its 95 %
    interval joins two sources of doubt: the test utterances (a paired
    bootstrap, the same draws for the model and every seed) and the seeds (a
    retraining's UAR varies by seed; the mean of k seeds carries their
    variance over k), added as variances under a normal approximation."""
    refs = np.asarray(refs)
    n, k = len(refs), len(seed_corrects)
    if k < 2:
        raise ValueError(f"a mean over gold seeds needs at least 2 of them, got {k}")
    full, idx = np.arange(n)[None, :], bootstrap.resample_indices(n, seed)
    seeds_full = np.array([bootstrap.resampled_uar(refs, c, full)[0] for c in seed_corrects])
    seeds_resampled = np.mean([bootstrap.resampled_uar(refs, c, idx) for c in seed_corrects], axis=0)
    point = float(bootstrap.resampled_uar(refs, model_correct, full)[0] - seeds_full.mean())
    spread = float(np.sqrt(np.var(bootstrap.resampled_uar(refs, model_correct, idx) - seeds_resampled, ddof=1)
                           + np.var(seeds_full, ddof=1) / k))
    return {"value": 100 * point, "low": 100 * (point - 1.96 * spread), "high": 100 * (point + 1.96 * spread),
            "n": n, "num_seeds": k, "seed_mean": 100 * float(seeds_full.mean()),
            "seed_sd": 100 * float(np.std(seeds_full, ddof=1))}


def within(d: Dict, low: float, high: float) -> str:
    """Whether an interval lies inside [low, high]: met, not met (wholly
    outside) or not resolved (straddles a bound, or no interval)."""
    if d.get("low") is None:
        return "not resolved"
    if d["low"] >= low - 1e-9 and d["high"] <= high + 1e-9:
        return "met"
    if d["low"] > high or d["high"] < low:
        return "not met"
    return "not resolved"


def worst(*statuses: str) -> str:
    if "not met" in statuses:
        return "not met"
    return "met" if all(s == "met" for s in statuses) else "not resolved"


def negated(d: Dict) -> Dict:
    """b - a from a paired a - b (value and interval)."""
    return {"value": -d["value"], "low": None if d["high"] is None else -d["high"],
            "high": None if d["low"] is None else -d["low"], "n": d["n"]}


def utility_bar(d: Dict, reference: str) -> Dict:
    """From a paired (model - reference) test-UAR difference: the loss
    (reference - model), met when its upper end is at most UTILITY_BAR."""
    loss = negated(d)
    return {"value": loss, "bar": UTILITY_BAR, "status": within(loss, float("-inf"), UTILITY_BAR),
            "what": f"test UAR lost against {reference} (points, paired 95 % interval)"}


def forgetting_status(diffs: Dict[str, Dict]) -> str:
    """Per forget set: gold's figure inside the method's paired interval (the
    interval of model - gold holds 0: not contradicted) and the point gap at
    most FORGETTING_BAR, for forget accuracy and MIA efficacy both."""
    if any(d.get("low") is None for d in diffs.values()):
        return "not resolved"
    ok = all(d["low"] <= 1e-9 and d["high"] >= -1e-9 and abs(d["value"]) <= FORGETTING_BAR + 1e-9
             for d in diffs.values())
    return "met" if ok else "not met"


def speed_bars(model: Dict, gold: Dict) -> Dict[str, Dict]:
    """Speed-ups over gold; judged only at SPEED_CORPUS_UTTS training
    utterances or more (else reported and marked as judged elsewhere)."""
    out = {}
    n = gold.get("num_train_utts")
    at_size = n is not None and n >= SPEED_CORPUS_UTTS
    for name, s in speedups(model, gold).items():
        bar = SPEEDUP_BARS[name]
        out[f"speed ({name})"] = {
            "value": s, "bar": bar,
            "status": ("met" if s >= bar else "not met") if at_size else "not resolved",
            "what": f"gold retraining / unlearning, {name} time"
                    + ("" if at_size else f"; judged at >= {SPEED_CORPUS_UTTS} training utterances "
                       f"(gold trained on {int(n) if n is not None else 'an unknown number'}): bench/scaling.py")}
    return out


def bars(model: Dict, gold: Optional[Dict]) -> Dict[str, Dict]:
    """Each bar that one forget set's metrics can decide, from the model's
    paired differences (model["vs"]), timings and memory (docs/design.md,
    "Bars").  The pooled forgetting bar needs a bench (pooled_forgetting)."""
    result = {}
    vs = model.get("vs", {})
    if "gold_seeds" in vs:  # the mean of several retrainings, their spread in the interval
        d = vs["gold_seeds"]["test_uar"]
        result["utility floor"] = utility_bar(d, f"the mean of {d['num_seeds']} gold seeds (utterances and seeds)")
    elif gold is not None and "gold" in vs:
        result["utility floor"] = utility_bar(vs["gold"]["test_uar"], "gold")
    if "original" in vs:
        result["utility"] = utility_bar(vs["original"]["test_uar"], "the original model")
    if gold is not None and "gold" in vs:
        diffs = {k: vs["gold"][k] for k in FORGET_METRICS}
        result["forgetting"] = {
            "value": diffs, "bar": FORGETTING_BAR, "status": forgetting_status(diffs),
            "what": "forget accuracy and MIA efficacy minus gold's (points, paired 95 % intervals): gold inside "
                    "both intervals and both point gaps within the bar"}
        result["forgetting (pooled)"] = {
            "value": None, "bar": FORGETTING_BAR, "status": "not resolved",
            "what": f"size-weighted mean gaps to gold over a bench of >= {MIN_POOLED_SETS} forget sets: "
                    "judged by bench/compare.py, not on one forget set"}
        if "auc_vs_floor" in model.get("lira", {}):
            d = model["lira"]["auc_vs_floor"]
            result["attack"] = {
                "value": d, "bar": ATTACK_BAR, "status": within(d, -ATTACK_BAR, ATTACK_BAR),
                "what": "per-utterance likelihood-ratio attack AUC minus the mean over retrained seeds (each "
                        "attacked with fits on the others), 95 % interval from the utterances and the seeds"}
        result.update(speed_bars(model, gold))
    if model.get("first_model_call_s") is not None:
        t = model["first_model_call_s"]
        result["start-up"] = {"value": t, "bar": STARTUP_BAR_S, "status": "met" if t <= STARTUP_BAR_S else "not met",
                              "what": "seconds from the start of the unlearning process to its first model call"}
    if model.get("peak_rss_mib"):
        rss = model["peak_rss_mib"]
        result["memory"] = {"value": rss, "bar": MEMORY_BAR_MIB, "status": "met" if rss <= MEMORY_BAR_MIB else "not met",
                            "what": "peak RSS of the unlearning process (MiB)"}
    return result


def pooled_forgetting(runs, seed: int = 0) -> Dict:
    """The forgetting bar over a bench: runs is a list of (model, gold)
    per-utterance forget outcomes of each forget set ({"forget_correct",
    "forget_called_nonmember"}: 0/1 per utterance, in the same order for
    both).  The mean of model - gold over every utterance of every set (each
    set weighted by its size), with a 95 % interval from resampling
    utterances within every set; met when both intervals lie inside
    +-FORGETTING_BAR."""
    if len(runs) < MIN_POOLED_SETS:
        raise ValueError(f"the pooled forgetting bar needs at least {MIN_POOLED_SETS} forget sets, got {len(runs)}")
    keys = {"forget_acc": "forget_correct", "mia_efficacy": "forget_called_nonmember"}
    total = sum(len(m["forget_correct"]) for m, _ in runs)
    out = {}
    for name, key in keys.items():
        point, resampled = 0.0, 0.0
        for i, (m, g) in enumerate(runs):
            diff = np.asarray(m[key], float) - np.asarray(g[key], float)
            # Each set its own draws: sets of one size must not share them.
            idx = np.random.default_rng([seed, i, len(diff)]).integers(0, len(diff), (bootstrap.NUM_RESAMPLES,
                                                                                      len(diff)))
            point = point + diff.sum() / total
            resampled = resampled + diff[idx].sum(axis=1) / total
        low, high = np.percentile(resampled, [2.5, 97.5])
        out[name] = {"value": 100 * float(point), "low": 100 * float(low), "high": 100 * float(high), "n": total}
    statuses = [within(d, -FORGETTING_BAR, FORGETTING_BAR) for d in out.values()]
    return {"value": out, "bar": FORGETTING_BAR, "status": worst(*statuses), "num_sets": len(runs),
            "what": "size-weighted mean of forget accuracy and MIA efficacy minus gold's over the bench "
                    "(points, 95 % interval resampling utterances within every set)"}


def compare(metrics: Dict, outcomes: Dict, seed: int = 0, subject: str = "unlearned",
            reference: str = "original", gold: str = "gold", gold_seeds=()) -> None:
    """Adds to every model its paired differences against the original and
    against gold (vs), its gap to gold and speed-ups, and to metrics the bars
    of the subject model; in place.  outcomes holds each model's per-utterance
    results (evaluate.evaluate_model); gold_seeds, the test correctness of
    other retrainings without the forget set (reference models), in the
    order of outcomes' test utterances: with gold, the utility floor's mean."""
    models = metrics["models"]
    g = models.get(gold)
    seeds = ([outcomes[gold]["test_correct"]] if gold in outcomes else []) + list(gold_seeds)
    for name, m in models.items():
        m["vs"] = {ref: paired(outcomes, name, ref, seed) for ref in (reference, gold)
                   if ref in models and ref != name}
        if len(seeds) >= 2 and name != gold:
            m["vs"]["gold_seeds"] = {"test_uar": vs_gold_seeds(outcomes[name]["test_correct"], seeds,
                                                               outcomes[name]["test_refs"], seed)}
        if g is not None and name != gold:
            m["gap_to_gold"] = gap_to_gold(m, g)
            s = speedups(m, g)
            if s:
                m["speedup_over_gold"] = s
    if subject in models and reference in models:
        metrics["bars"] = {"model": subject, **bars(models[subject], g)}

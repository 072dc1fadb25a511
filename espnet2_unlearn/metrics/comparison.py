"""Comparing models with each other: the gap to the gold standard, paired
intervals of the differences that the bars judge, the speed-ups over
retraining, and the bars themselves (docs/design.md, "Bars")."""

from typing import Dict, Optional

from espnet2_unlearn.metrics import bootstrap

# (key, set, metric): the four figures the gap to gold is taken over.
GAP_METRICS = (
    ("forget_acc", "forget", "accuracy"),
    ("retain_acc", "retain", "accuracy"),
    ("test_uar", "test", "uar"),
    ("mia_efficacy", "mia", "efficacy"),
)

UTILITY_BAR = 1.0      # points of test UAR lost at most
FORGETTING_BAR = 5.0   # points from gold, forget accuracy and MIA efficacy
SPEEDUP_BAR = 100.0    # times faster than gold retraining
MEMORY_BAR_MIB = 2048  # peak RSS

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


def bars(model: Dict, gold: Optional[Dict]) -> Dict[str, Dict]:
    """Each bar that these metrics can decide, from the model's paired
    differences (model["vs"]), timings and memory."""
    result = {}
    vs = model.get("vs", {})
    if "original" in vs:
        d = vs["original"]["test_uar"]
        loss = {"value": -d["value"], "low": None if d["high"] is None else -d["high"],
                "high": None if d["low"] is None else -d["low"], "n": d["n"]}
        result["utility"] = {"value": loss, "bar": UTILITY_BAR, "status": within(loss, float("-inf"), UTILITY_BAR),
                             "what": "test UAR lost against the original model (points, paired 95 % interval)"}
    if gold is not None and "gold" in vs:
        statuses = [within(vs["gold"][k], -FORGETTING_BAR, FORGETTING_BAR) for k in ("forget_acc", "mia_efficacy")]
        result["forgetting"] = {
            "value": {k: vs["gold"][k] for k in ("forget_acc", "mia_efficacy")}, "bar": FORGETTING_BAR,
            "status": worst(*statuses),
            "what": "forget accuracy and MIA efficacy minus gold's (points, paired 95 % intervals)"}
        for name, s in speedups(model, gold).items():
            result[f"speed ({name})"] = {
                "value": s, "bar": SPEEDUP_BAR, "status": "met" if s >= SPEEDUP_BAR else "not met",
                "what": f"gold retraining / unlearning, {name} time"}
    if model.get("peak_rss_mib"):
        rss = model["peak_rss_mib"]
        result["memory"] = {"value": rss, "bar": MEMORY_BAR_MIB, "status": "met" if rss <= MEMORY_BAR_MIB else "not met",
                            "what": "peak RSS of the unlearning process (MiB)"}
    return result


def compare(metrics: Dict, outcomes: Dict, seed: int = 0, subject: str = "unlearned",
            reference: str = "original", gold: str = "gold") -> None:
    """Adds to every model its paired differences against the original and
    against gold (vs), its gap to gold and speed-ups, and to metrics the bars
    of the subject model; in place.  outcomes holds each model's per-utterance
    results (evaluate.evaluate_model)."""
    models = metrics["models"]
    g = models.get(gold)
    for name, m in models.items():
        m["vs"] = {ref: paired(outcomes, name, ref, seed) for ref in (reference, gold)
                   if ref in models and ref != name}
        if g is not None and name != gold:
            m["gap_to_gold"] = gap_to_gold(m, g)
            s = speedups(m, g)
            if s:
                m["speedup_over_gold"] = s
    if subject in models and reference in models:
        metrics["bars"] = {"model": subject, **bars(models[subject], g)}

"""Comparing models with each other: the gap to the gold standard, the
speed-up over retraining, and the bars of ARCHITECTURE §5."""

from typing import Dict, Optional

# (key, set, metric): the four figures the gap to gold is taken over (§4).
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


def headline(m: Dict) -> Dict[str, float]:
    return {key: m[s][k] for key, s, k in GAP_METRICS}


def gap_to_gold(model: Dict, gold: Dict) -> Dict[str, float]:
    """|model - gold| per metric, in points, and their mean."""
    a, g = headline(model), headline(gold)
    # Rounded so that, e.g., 28 % vs 23 % is exactly 5 points for the bars.
    gaps = {key: round(100 * abs(a[key] - g[key]), 6) for key in a}
    gaps["mean"] = sum(gaps.values()) / len(GAP_METRICS)
    return gaps


def speedup(model: Dict, gold: Dict) -> Optional[float]:
    t, t_gold = model.get("wall_time_s"), gold.get("wall_time_s")
    if not t or not t_gold:
        return None
    return t_gold / t


def bars(model: Dict, original: Dict, gold: Optional[Dict]) -> Dict[str, Dict]:
    """Each bar of §5 that these metrics can decide: its value, the bar, and
    whether it is met."""
    result = {}
    drop = round(100 * (original["test"]["uar"] - model["test"]["uar"]), 6)
    result["utility"] = {"value": drop, "bar": UTILITY_BAR, "met": drop <= UTILITY_BAR,
                         "what": "test UAR lost against the original model (points)"}
    if gold is not None:
        gaps = gap_to_gold(model, gold)
        worst = max(gaps["forget_acc"], gaps["mia_efficacy"])
        result["forgetting"] = {"value": worst, "bar": FORGETTING_BAR, "met": worst <= FORGETTING_BAR,
                                "what": "larger gap to gold of forget accuracy and MIA efficacy (points)"}
        s = speedup(model, gold)
        if s is not None:
            result["speed"] = {"value": s, "bar": SPEEDUP_BAR, "met": s >= SPEEDUP_BAR,
                               "what": "gold retraining wall time / unlearning wall time"}
    if model.get("peak_rss_mib"):
        rss = model["peak_rss_mib"]
        result["memory"] = {"value": rss, "bar": MEMORY_BAR_MIB, "met": rss <= MEMORY_BAR_MIB,
                            "what": "peak RSS of the unlearning process (MiB)"}
    return result


def compare(metrics: Dict, subject: str = "unlearned", reference: str = "original", gold: str = "gold") -> None:
    """Adds gap_to_gold and speedup_over_gold to every model and the bars of
    the subject model to metrics, in place."""
    models = metrics["models"]
    g = models.get(gold)
    for name, m in models.items():
        if g is not None and name != gold:
            m["gap_to_gold"] = gap_to_gold(m, g)
            s = speedup(m, g)
            if s is not None:
                m["speedup_over_gold"] = s
    if subject in models and reference in models:
        metrics["bars"] = {"model": subject, **bars(models[subject], models[reference], g)}

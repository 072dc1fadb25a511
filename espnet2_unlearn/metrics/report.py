"""RESULTS.md and its plots from the metrics of stage 6."""

from pathlib import Path
from typing import Dict, List

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from espnet2_unlearn.metrics.bootstrap import format_interval  # noqa: E402
from espnet2_unlearn.metrics.classification import confusion_matrix  # noqa: E402
from espnet2_unlearn.metrics.comparison import GAP_METRICS  # noqa: E402

HEADLINE_FILE = "headline.md"

# (label, set, metric) shown in the headline table and the bar plot.
LABELS = {"forget_acc": "forget acc", "retain_acc": "retain acc", "test_uar": "test UAR",
          "mia_efficacy": "MIA efficacy"}
HEADLINE = tuple((LABELS[key], s, k) for key, s, k in GAP_METRICS)


def _pct(x) -> str:
    return f"{100 * x:.1f}"


def headline_table(metrics: Dict) -> List[str]:
    with_gold = any("gap_to_gold" in m for m in metrics["models"].values())
    extra = ["forget loss AUC"] + (["mean gap to gold"] if with_gold else [])
    lines = ["| model | " + " | ".join([label for label, _, _ in HEADLINE] + extra) + " |",
             "|---" * (len(HEADLINE) + len(extra) + 1) + "|"]
    for name, m in metrics["models"].items():
        cells = [_pct(m[s][k]) for _, s, k in HEADLINE] + [f"{m['mia']['loss_auc_forget_vs_nonmember']:.3f}"]
        if with_gold:
            cells.append(f"{m['gap_to_gold']['mean']:.1f}" if "gap_to_gold" in m else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def gap_table(metrics: Dict) -> List[str]:
    rows = [(n, m["gap_to_gold"]) for n, m in metrics["models"].items() if "gap_to_gold" in m]
    if not rows:
        return []
    keys = [key for key, _, _ in GAP_METRICS]
    lines = ["## Gap to gold (points)", "",
             "| model | " + " | ".join(LABELS[k] for k in keys) + " | mean |",
             "|---" * (len(keys) + 2) + "|"]
    lines += [f"| {n} | " + " | ".join(f"{g[k]:.1f}" for k in keys + ["mean"]) + " |" for n, g in rows]
    return lines + [""]


def paired_tables(metrics: Dict) -> List[str]:
    """Per reference (original, gold): every other model's differences with
    their paired 95 % intervals."""
    lines = []
    for ref in ("original", "gold"):
        rows = [(n, m["vs"][ref]) for n, m in metrics["models"].items() if ref in m.get("vs", {})]
        if not rows:
            continue
        lines += [f"## Difference from {ref} (points, paired bootstrap 95 % interval)", "",
                  "| model | test UAR | forget acc | MIA efficacy |", "|---|---|---|---|"]
        lines += [f"| {n} | " + " | ".join(format_interval(d[k]) for k in ("test_uar", "forget_acc", "mia_efficacy"))
                  + " |" for n, d in rows]
        lines.append("")
    return lines


def auc_text(d: Dict, signed: bool = False) -> str:
    f = "{:+.3f}" if signed else "{:.3f}"
    if d.get("low") is None:
        return f.format(d["value"]) + f" (n={d['n']}: too few for an interval)"
    return f"{f.format(d['value'])} [{f.format(d['low'])}, {f.format(d['high'])}]"


def attack_table(metrics: Dict) -> List[str]:
    rows = [(n, m["lira"]) for n, m in metrics["models"].items() if "lira" in m]
    if not rows:
        return []
    first = rows[0][1]
    fprs = [k for k in first if k.startswith("tpr_at_")]
    lines = ["## Per-utterance attack (likelihood ratio)", "",
             f"Per forget utterance, Gaussians of its logit-scaled true-class confidence under "
             f"{first['num_in_models']} reference models trained on it and {first['num_out_models']} retrained "
             "without the forget set; AUC of each model's forget utterances against retrained models that the "
             "fit did not see (0.5: they look retrained; 95 % interval resampling utterances).", ""]
    floor = metrics.get("attack_floor")
    if floor:
        lines += [f"The noise floor: each of {floor['num_seeds']} retrained seeds (`{floor['model']}` and the out "
                  f"models) attacked with fits on the others scores "
                  + ", ".join(f"{a:.3f}" for a in floor["aucs"])
                  + f" (mean {floor['mean']:.3f}, sd {floor['sd']:.3f}); a model is judged by its AUC minus that "
                  "mean, its 95 % interval from the utterances and the seeds.", ""]
    lines += ["| model | AUC | " + " | ".join(f"TPR at {k[7:-7]} % FPR" for k in fprs) + " | AUC minus the floor |",
              "|---" * (len(fprs) + 3) + "|"]
    for n, a in rows:
        vs = auc_text(a["auc_vs_floor"], signed=True) if "auc_vs_floor" in a else "-"
        lines.append(f"| {n} | {auc_text(a['auc_interval'])} | "
                     + " | ".join(f"{100 * a[k]:.1f}" for k in fprs) + f" | {vs} |")
    return lines + [""]


def time_table(metrics: Dict) -> List[str]:
    keys = ("compute_time_s", "process_time_s")
    rows = [(n, m) for n, m in metrics["models"].items() if any(k in m for k in keys)]
    if not rows:
        return []
    lines = ["## Time", "",
             "Compute: the work inside the process (unlearning: from the first scoring of the forget set to the "
             "last step; training: from the first epoch to the last). Process: the whole command from start to "
             "exit as the stage timed it (start-up, loading, statistics, saving included).", "",
             "| model | compute s | process s | speed-up over gold, compute | speed-up, process | peak RSS (MiB) |",
             "|---|---|---|---|---|---|"]

    def num(m, k, fmt):
        return fmt.format(m[k]) if m.get(k) is not None else "-"
    for n, m in rows:
        s = m.get("speedup_over_gold", {})
        lines.append(f"| {n} | {num(m, 'compute_time_s', '{:.1f}')} | {num(m, 'process_time_s', '{:.1f}')} | "
                     f"{num(s, 'compute', '{:.1f}x')} | {num(s, 'process', '{:.1f}x')} | "
                     f"{num(m, 'peak_rss_mib', '{:.0f}')} |")
    return lines + [""]


def bars_table(metrics: Dict) -> List[str]:
    if "bars" not in metrics:
        return []
    b = dict(metrics["bars"])
    model = b.pop("model")
    lines = [f"## Bars for `{model}` (docs/design.md)", "",
             "met: the whole interval meets the bar; not met: the whole interval misses it; not resolved: the "
             "interval straddles the bar, or the bar is judged elsewhere (as its row says). Forgetting: gold's "
             "figure must lie inside the paired interval and the point gap within the bar.", "",
             "| bar | measured | required | status |", "|---|---|---|---|"]
    for name, v in b.items():
        lines.append(bar_row(name, v))
    return lines + [""]


def bar_row(name: str, v: Dict) -> str:
    """One row of a bar table: what, measured, required, status."""
    value = v["value"]
    if value is None:
        measured, op = "-", "within ±"
    elif name.startswith("utility"):
        measured, op = format_interval(value, signed=False), "upper end <="
    elif name == "attack":
        measured, op = auc_text(value, signed=True), "within ±"
    elif name.startswith("forgetting"):
        measured = "; ".join(f"{LABELS[k]} {format_interval(d)}" for k, d in value.items())
        op = "within ±"
    else:
        measured, op = f"{value:.1f}", ">=" if name.startswith("speed") else "<="
    return f"| {name}: {v['what']} | {measured} | {op} {v['bar']:g} | {v['status']} |"


def plot_bars(metrics: Dict, path: Path) -> None:
    names = list(metrics["models"])
    x = np.arange(len(HEADLINE))
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, name in enumerate(names):
        m = metrics["models"][name]
        ax.bar(x + i * width, [100 * m[s][k] for _, s, k in HEADLINE], width, label=name)
    ax.set_xticks(x + width * (len(names) - 1) / 2, [label for label, _, _ in HEADLINE])
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title(f"{metrics['num_forget_utts']} utterances forgotten ({metrics['forget_request']} request)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusions(confusions: Dict, classes: List[str], set_name: str, path: Path) -> None:
    names = list(confusions)
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        refs, hyps = confusions[name][set_name]
        cm = confusion_matrix(refs, hyps, classes)
        ax.imshow(cm, cmap="Blues")
        for (r, c), v in np.ndenumerate(cm):
            ax.text(c, r, str(v), ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(classes)), classes, rotation=45, fontsize=8)
        ax.set_yticks(range(len(classes)), classes, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("reference")
    fig.suptitle(f"confusion on the {set_name} set")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(metrics: Dict, confusions: Dict, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    plot_bars(metrics, out_dir / "methods.png")
    for set_name in ("test", "forget"):
        plot_confusions(confusions, metrics["classes"], set_name, out_dir / f"confusion_{set_name}.png")
    nonmember = next(iter(metrics["models"].values()))["mia"]["nonmember_set"]
    lines = [
        "# Unlearning results",
        "",
        f"Forget set: {metrics['num_forget_utts']} utterances ({metrics['forget_request']} request). "
        f"Membership inference: logistic regression on per-utterance loss, entropy and max probability, "
        f"trained on a balanced sample of retain (members) and `{nonmember}` (non-members); MIA efficacy "
        "is the share of the forget set it calls non-member. Loss AUC: P(forget loss > non-member loss).",
        "",
        *headline_table(metrics),
        "",
        "![per-method bars](methods.png)",
        "",
        "## Per set",
        "",
        "| model | set | utterances | accuracy | UAR | macro-F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in metrics["models"].items():
        for set_name in ("forget", "retain", "test"):
            s = m[set_name]
            lines.append(f"| {name} | {set_name} | {s['num_utts']} | {_pct(s['accuracy'])} | {_pct(s['uar'])} "
                         f"| {_pct(s['macro_f1'])} |")
    lines += [""] + paired_tables(metrics) + attack_table(metrics) + gap_table(metrics) + time_table(metrics) + bars_table(metrics)
    lines += ["![confusion, test](confusion_test.png)", "", "![confusion, forget](confusion_forget.png)", ""]
    tmp = out_dir / "RESULTS.md.tmp"
    tmp.write_text("\n".join(lines))
    tmp.replace(out_dir / "RESULTS.md")
    # the headline table alone, which the stage engine prints at its end
    tmp = out_dir / f"{HEADLINE_FILE}.tmp"
    tmp.write_text("\n".join(headline_table(metrics)) + "\n")
    tmp.replace(out_dir / HEADLINE_FILE)

"""The per-utterance attack and the bars, per method, on forget sets whose
stage 6 ran with reference models (run.sh --reference_seeds): one table per
forget set, read from the runs' eval/metrics.json (run from the recipe
directory):

    python bench/attack.py --output bench/ATTACK.md \\
        forget_rand50_seed0:exp/unlearn_forget_rand50_seed0 \\
        forget_rand50_seed0:exp/unlearn_forget_rand50_seed0_dist=distribution

Each argument is SET:UNLEARN_DIR[=NAME]: the first of a set gives every
model of its evaluation (original, the default, gold, the baselines; with
=NAME its unlearned model is the row NAME); a later one with =NAME adds that
run's unlearned model as the row NAME (another setting of stage 5 on the
same forget set, evaluated by its own stage 6 against the same gold and
reference models).
"""

import argparse
import shlex
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from espnet2_unlearn.metrics.bootstrap import format_interval  # noqa: E402
from espnet2_unlearn.metrics.comparison import bars  # noqa: E402
from espnet2_unlearn.metrics.report import auc_text  # noqa: E402


def auc_cell(d, signed: bool = True) -> str:
    return "-" if d is None else auc_text(d, signed)


def rows_of(metrics, report, only=None, name=None):
    gold = metrics["models"].get("gold")
    for model, m in metrics["models"].items():
        if only is not None and model != only:
            continue
        shown = name if name and model == "unlearned" else model
        a = m.get("lira")
        judged = bars(m, gold) if model not in ("original", "gold") else {}
        status = {k: judged[k]["status"] for k in ("utility floor", "utility", "forgetting", "attack") if k in judged}
        yield {
            "model": shown,
            "auc": auc_cell(None if a is None else a["auc_interval"], signed=False),
            "tpr1": "-" if a is None else f"{100 * a['tpr_at_1pct_fpr']:.1f}",
            "tpr5": "-" if a is None else f"{100 * a['tpr_at_5pct_fpr']:.1f}",
            "vs_gold": auc_cell(None if a is None else a.get("auc_vs_floor")),
            "forget": f"{100 * m['forget']['accuracy']:.1f}",
            "uar": f"{100 * m['test']['uar']:.1f}",
            "uar_vs_orig": format_interval(m["vs"]["original"]["test_uar"]) if "original" in m.get("vs", {}) else "-",
            "mia": f"{100 * m['mia']['efficacy']:.1f}",
            "steps": "-" if report is None or model != "unlearned" else str(report["steps"]),
            "bars": ", ".join(f"{k}: {v}" for k, v in status.items()) or "-",
        }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="SET:UNLEARN_DIR[=NAME]")
    p.add_argument("--output", type=Path)
    p.add_argument("--notes", type=Path, help="a Markdown file of how the runs were made, put under the header")
    args = p.parse_args(argv)
    tables, floors, order = {}, {}, []
    for spec in args.runs:
        forget_set, _, rest = spec.partition(":")
        run_dir, _, name = rest.partition("=")
        metrics_file = Path(run_dir) / "eval/metrics.json"
        if not metrics_file.is_file():
            sys.exit(f"attack: {metrics_file} does not exist (run stage 6 of {run_dir} first)")
        metrics = json.loads(metrics_file.read_text())
        report_file = Path(run_dir) / "forget_report.json"
        report = json.loads(report_file.read_text()) if report_file.is_file() else None
        first = forget_set not in tables
        if first:
            order.append(forget_set)
            tables[forget_set] = []
            floors[forget_set] = metrics.get("attack_floor")
        rows = rows_of(metrics, report, None if first else "unlearned", name or None)
        tables[forget_set] += list(rows)
    lines = ["# The per-utterance attack, per method", "",
             f"Made by `python bench/attack.py {shlex.join(sys.argv[1:] if argv is None else argv)}` in the recipe "
             "directory. Attack AUC (95 % interval over utterances), its TPR at 1 % and 5 % FPR, and AUC minus "
             "the noise floor (the mean AUC of the retrained seeds, each attacked with fits on the others; "
             "interval from the utterances and the seeds); forget accuracy, "
             "test UAR with the paired interval of its difference from the original, MIA efficacy (the population "
             "attack), stage-5 steps, and the bars of docs/design.md (utility floor against the mean of gold's seeds "
             "where reference models exist, else gold; forgetting against gold; attack: AUC minus the floor within "
             "±0.05).", ""]
    if args.notes:
        lines += [args.notes.read_text().strip(), ""]
    for forget_set in order:
        lines += [f"## {forget_set}", ""]
        floor = floors[forget_set]
        if floor:
            lines += [f"Noise floor: {floor['num_seeds']} retrained seeds score "
                      + ", ".join(f"{a:.3f}" for a in floor["aucs"]) + f" (mean {floor['mean']:.3f}, sd "
                      f"{floor['sd']:.3f}).", ""]
        lines += ["| model | attack AUC | TPR@1% | TPR@5% | AUC − floor | forget acc | test UAR | vs original | "
                  "MIA eff. | steps | bars |", "|---" * 11 + "|"]
        for r in tables[forget_set]:
            lines.append(f"| {r['model']} | {r['auc']} | {r['tpr1']} | {r['tpr5']} | {r['vs_gold']} | {r['forget']} "
                         f"| {r['uar']} | {r['uar_vs_orig']} | {r['mia']} | {r['steps']} | {r['bars']} |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.output:
        tmp = args.output.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(args.output)


if __name__ == "__main__":
    main()

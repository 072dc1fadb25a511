"""Hyper-parameter sweep of stage 5, on a trained recipe (run from its
directory after `./run.sh --stop_stage 4`, like bench/compare.py):

    python bench/sweep.py --sizes 50 --seeds 1 2 --output bench/SWEEP.md

Each setting is a named set of unlearn_train options (SETTINGS) on top of
the seed method's config, conf/unlearn_seed.yaml, as stage 7's baselines
are; `default` is conf/unlearn.yaml alone.  Its runs
go through bench/compare.py (stages 5 and 6 of `./run.sh`, run names
suffixed with the setting's name; the gold model of a forget set, if stage 7
made it, is shared by every setting).  Runs already done are reused, and so
is a stage-7 baseline of bench/compare.py whose options (ser.sh's
`baseline_args`) are exactly a setting's: it is the same run.  One
row per setting: test UAR minus the original's (mean over the forget sets,
then each run's paired 95 % interval), the upper end of the worst interval
(the utility bar asks for at most 1 point of loss), forget accuracy and MIA
efficacy minus gold's, steps, compute seconds, attack success rate, the
adversarial examples' largest distance from their sources (in adv_clip
units) and each term's mean share of the gradient.
"""

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (bench/compare.py: forget lists and runs)

# Options on top of the seed method's config (conf/unlearn_seed.yaml), as
# stage 7's baselines are; "default" alone is conf/unlearn.yaml as it is.
SEED_CONFIG = "conf/unlearn_seed.yaml"
# The rows of SWEEP.md and RETENTION.md for saliency masks, selective
# dampening, the K-FAC step and the nearest-adversarial target were measured
# with the code of their time; those mechanisms measured no help and were
# removed after commit e9d4aa5, which holds their code (docs/design.md,
# "Mechanisms that did not help").
SETTINGS = {  # every one measured at N = 50, seeds 1 and 2 (bench/SWEEP.md)
    "default": "",  # conf/unlearn.yaml: targeted relabeling, projected steps
    "seed": "",  # conf/unlearn_seed.yaml: random relabeling + adversarial + elastic (penalty), the seed method
    "pgd5": "--adv_steps 5 --adv_step_size 0.08",  # half the PGD work (bench/pgd_steps.py: 97 % attack success)
    "targeted": "--forget_loss targeted",  # = ser.sh's baseline targeted
    "targeted_adv3": "--forget_loss targeted --adv_weight 3",
    "targeted_lr3e-4": "--forget_loss targeted --optim_conf lr=3.0e-4",
    "targeted_heldout": "--forget_loss targeted --kept_target heldout",
    "relabel": "--adv_weight 0 --elastic_weight 0",  # = baseline relabel
    "lr1e-5": "--forget_loss relabel --optim_conf lr=1.0e-5 --max_steps 600",
    "update10": "--forget_loss relabel --elastic_mode update --elastic_weight 10",
    "ascent": "--forget_loss ascent",  # = baseline l2ul
    "ascent_lr3e-5": "--forget_loss ascent --optim_conf lr=3.0e-5 --max_steps 300",
    # Retention from training statistics (docs/design.md, "Unlearning" 6), measured on the bench's
    # 5 forget sets of 50 utterances and the two speakers (bench/RETENTION.md)
    "proj": "--update_transform projection --optim_conf lr=1.0e-3",  # the seed's terms, steps projected
    "proj_relabel": "--update_transform projection --optim_conf lr=1.0e-3 --adv_weight 0 --elastic_weight 0",
    "proj_targeted": "--update_transform projection --optim_conf lr=1.0e-3 --forget_loss targeted --max_steps 200",
    # single forget set (N = 50, seed 1): the energy and step size around "proj"
    "proj_lr1e-4": "--update_transform projection",
    "proj90_lr1e-4": "--update_transform projection --projection_energy 0.9",
    "proj97": "--update_transform projection --projection_energy 0.97 --optim_conf lr=1.0e-3",
    "proj99": "--update_transform projection --projection_energy 0.99 --optim_conf lr=1.0e-3",
    "proj_targeted100": "--update_transform projection --optim_conf lr=1.0e-3 --forget_loss targeted",
}


def baselines_by_options(ser_sh: Path = Path("ser.sh")) -> dict:
    """ser.sh's baseline_args, options -> baseline name (finetune, with no
    unlearning options, is not an unlearning run)."""
    found = re.findall(r'^\s*\[(\w+)\]="([^"]*)"', ser_sh.read_text(), flags=re.M) if ser_sh.exists() else []
    return {options: name for name, options in found if options or name == "seed"}


def benchmark_baseline(forget: Path, baseline: str):
    """(run, forget_report) of stage 7's baseline run of bench/compare.py for
    this forget list, or None when it is not there."""
    metrics = compare.metrics_file(forget, argparse.Namespace(name=""))
    report = Path(f"exp/baseline_{baseline}_{forget.name}/forget_report.json")
    if not (metrics.exists() and report.exists()):
        return None
    models = json.loads(metrics.read_text())["models"]
    if baseline not in models:
        return None
    run = {"models": {"unlearned": models[baseline], "gold": models.get("gold")}}
    return run, json.loads(report.read_text())


def summary(name, runs, reports):
    from espnet2_unlearn.metrics.comparison import bars

    deltas = [r["models"]["unlearned"]["vs"]["original"]["test_uar"] for r in runs]
    vs_gold = [r["models"]["unlearned"]["vs"]["gold"]["test_uar"] for r in runs
               if "gold" in r["models"]["unlearned"].get("vs", {})]
    judged = [bars(r["models"]["unlearned"], r["models"].get("gold")) for r in runs]
    u = [r["models"]["unlearned"] for r in runs]
    gold = [r["models"].get("gold") for r in runs]

    def mean(values):
        values = [v for v in values if v is not None]
        return sum(values) / len(values) if values else None

    def gap(f):
        return mean([f(a) - f(g) if g else None for a, g in zip(u, gold)])

    shares = {}
    for rep in reports:
        for row in rep.get("step_log", []):
            for term, share in row.get("gradient_share", {}).items():
                shares.setdefault(term, []).append(share)
    adv = [rep.get("adversarial", {}) for rep in reports]
    return {
        "setting": name,
        "test_uar_change": mean([d["value"] for d in deltas]),
        "vs_gold": mean([d["value"] for d in vs_gold]),
        "retain_acc": mean([100 * r["models"]["unlearned"]["retain"]["accuracy"] for r in runs]),
        # forget sets met per bar, of those that judged it
        "bars": {b: (sum(j[b]["status"] == "met" for j in judged if b in j), sum(b in j for j in judged))
                 for b in ("utility floor", "utility", "forgetting")},
        "intervals": [(d["value"], d["low"], d["high"]) for d in deltas],
        "worst_loss_upper": max((-d["low"] for d in deltas if d["low"] is not None), default=None),
        "forget_acc_gap": gap(lambda m: 100 * m["forget"]["accuracy"]),
        "mia_gap": gap(lambda m: 100 * m["mia"]["efficacy"]),
        "steps": mean([rep["steps"] for rep in reports]),
        "compute_s": mean([rep["compute_time_s"] for rep in reports]),
        "attack_success": mean([a.get("attack_success_rate") for a in adv]),
        "max_distance": max((a["max_distance_in_clip_units"] for a in adv
                             if a.get("max_distance_in_clip_units") is not None), default=None),
        "gradient_share": {t: sum(v) / len(v) for t, v in shares.items()},
    }


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def table(rows):
    out = ["| setting | options | test UAR change | per run: change [95 % interval] | worst loss (upper end) | "
           "test UAR − gold | retain acc | bars met: floor / promise / forgetting | "
           "forget acc − gold | MIA eff. − gold | steps | compute s | attack success | max dist. (clip units) | "
           "gradient share (forget / adv / elastic) |", "|---" * 15 + "|"]
    for r in rows:
        share = r["gradient_share"]
        out.append(
            f"| {r['setting']} | `{SETTINGS[r['setting']] or ('(conf/unlearn.yaml)' if r['setting'] == 'default' else '(' + SEED_CONFIG + ')')}` | {r['test_uar_change']:+.1f} | "
            + "; ".join(f"{v:+.1f} [{lo:+.1f}, {hi:+.1f}]" for v, lo, hi in r["intervals"])
            + f" | {fmt(r['worst_loss_upper'])} | {fmt(r['vs_gold'])} | {fmt(r['retain_acc'])} | "
            + " / ".join(f"{m} of {n}" for m, n in r["bars"].values())
            + f" | {fmt(r['forget_acc_gap'])} | {fmt(r['mia_gap'])} | "
            f"{fmt(r['steps'], 0)} | {fmt(r['compute_s'])} | {fmt(r['attack_success'], 2)} | "
            f"{fmt(r['max_distance'], 2)} | "
            + " / ".join(fmt(share.get(t), 2) for t in ("forget", "adv", "elastic")) + " |")
    return out


def plot(rows, path: Path, title: str) -> None:
    """Per setting, each run's test-UAR change with its paired interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2))
    for y, r in enumerate(rows):
        for k, (v, lo, hi) in enumerate(r["intervals"]):
            ax.errorbar(v, y + 0.15 * (k - 0.5), xerr=[[v - lo], [hi - v]], fmt="o", ms=3, capsize=2,
                        color="C0" if k == 0 else "C1")
    ax.axvline(0, color="grey", lw=0.8)
    ax.axvline(-1, color="red", lw=0.8, ls="--", label="utility bar (-1 point)")
    ax.set_yticks(range(len(rows)), [r["setting"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("test UAR change (points), paired 95 % interval; one colour per seed")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="*", default=[50])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--title", default="Sweep of the unlearning hyper-parameters", help="of the output file")
    p.add_argument("--speakers", nargs="*", default=[])
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    p.add_argument("--forget_dir", default="data/bench")
    p.add_argument("--existing_only", action="store_true", help="report the runs that are done, run nothing")
    p.add_argument("--output", type=Path, help="also write the tables to this Markdown file")
    args = p.parse_args()

    lines = []
    baseline_of = baselines_by_options()
    groups = [("random", n, args.seeds) for n in args.sizes] + [("speaker", s, [0]) for s in args.speakers]
    for kind, value, seeds in groups:
        rows, used = [], set()  # used: the seeds some setting has runs for
        for name in args.settings:
            run_args = argparse.Namespace(forget_dir=args.forget_dir, name="" if name == "default" else name,
                                          unlearn_args=SETTINGS[name], baselines="", stop_stage=6,
                                          run_args=[] if name == "default" else ["--unlearn_config", SEED_CONFIG])
            lists = [compare.forget_list(kind, value, seed, run_args) for seed in seeds]
            reused = {f: benchmark_baseline(f, baseline_of[SETTINGS[name]])
                      if name != "default" and SETTINGS[name] in baseline_of else None for f in lists}
            if args.existing_only:
                lists = [f for f in lists if reused[f] or compare.done(f, run_args)]
                if not lists:
                    continue
            used.update(seed for seed in seeds if compare.forget_list(kind, value, seed, run_args) in lists)
            runs, reports = [], []
            for f in lists:
                if reused[f]:
                    run, report = reused[f]
                else:
                    run = compare.run_one(f, run_args)
                    report = json.loads(compare.metrics_file(f, run_args).parent.parent.joinpath(
                        "forget_report.json").read_text())
                runs.append(run)
                reports.append(report)
            rows.append(summary(name, runs, reports))
            print(f"sweep: {kind} {value} {name}: {rows[-1]['test_uar_change']:+.1f}", file=sys.stderr, flush=True)
        title = (f"## {value} utterances forgotten, seeds {' '.join(str(x) for x in seeds if x in used)}"
                 if kind == "random"
                 else f"## speaker {value} forgotten")
        block = [title, ""] + table(rows) + [""]
        if args.output and rows:
            png = args.output.with_name(f"{args.output.stem}_{kind}_{value}.png")
            plot(rows, png, title.lstrip("# "))
            block += [f"![test UAR change per setting]({png.name})", ""]
        print("\n".join(block), flush=True)
        lines += block
    if args.output:
        header = [f"# {args.title}", "",
                  f"Made by `python bench/sweep.py {' '.join(sys.argv[1:])}` in the recipe directory after "
                  "`./run.sh --stop_stage 4` (and stage 7 of the same forget lists, for the gold columns). "
                  "Test UAR change: unlearned minus original, in points, with each run's paired 95 % bootstrap "
                  "interval; worst loss: the largest upper end of the interval of loss over the runs (the utility "
                  "bar: at most 1). Gaps to gold in points; gradient shares are <g_term, g>/|g|^2 averaged over "
                  "the steps.", ""]
        args.output.write_text("\n".join(header + lines))


if __name__ == "__main__":
    main()

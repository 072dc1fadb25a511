"""How the two costs grow with the corpus: gold retraining against
unlearning N utterances, on the built-in corpus at several sizes (run from
the top of the repository):

    python bench/scaling.py --scales 1 2 4 --output bench/SCALING.md

Scale k has about k times the default number of training utterances: more
training speakers (x2) and then more utterances per speaker (x4); the valid
set is the default one and the test set is small (this bench times, the
evaluation bench measures). Each scale is a recipe directory of its own
under scaling/x<k> (links to this one's scripts, as egs2/ recipes are),
where `./run.sh --stop_stage 4` trains the source model, then stages 5-7
unlearn N random utterances and retrain gold without them (no baselines).
Directories are kept, so a finished scale is reported without re-running.

For each scale: training utterances, gold's compute and process time (its
train_report.json), the peak RSS of stage 7 (gold training and the decoding
after it, as the kernel counts the largest process), unlearning's compute
and process time and peak RSS, both speed-ups, and a least-squares fit of
log(time) on log(training utterances) per cost: time ~ n^b.
"""

import argparse
import json
import math
import os
import subprocess
import sys
from pathlib import Path

# scale -> (speakers in all, utterances per emotion of a training speaker);
# 16 of the speakers are the valid and test speakers.
SCALES = {1: (28, 16), 2: (40, 16), 4: (40, 32)}
LINKED = ("run.sh", "ser.sh", "unlearn.sh", "path.sh", "cmd.sh", "db.sh", "utils", "conf", "local", ".venv")


def recipe_dir(scale: int, root: Path) -> Path:
    d = root / f"x{scale}"
    d.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if (Path.cwd() / name).exists() and not (d / name).exists():
            (d / name).symlink_to(Path.cwd() / name)
    return d


def run(cmd, cwd: Path, log: Path) -> None:
    print(f"scaling ({cwd}): {' '.join(cmd)}", file=sys.stderr, flush=True)
    with open(log, "a") as f:
        if subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT).returncode != 0:
            sys.exit(f"scaling: {' '.join(cmd)} failed in {cwd}: see {log}")


def peak_rss_of(cmd, cwd: Path, log: Path) -> float:
    """Runs cmd in a fresh Python process and returns the largest resident
    set of its descendants in MiB (getrusage of the waited-for children)."""
    probe = ("import resource, subprocess, sys; "
             f"r = subprocess.run({cmd!r}, cwd={str(cwd)!r}, stdout=open({str(log)!r}, 'a'), stderr=subprocess.STDOUT); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(r.returncode)")
    print(f"scaling ({cwd}): {' '.join(cmd)}", file=sys.stderr, flush=True)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"scaling: {' '.join(cmd)} failed in {cwd}: see {log}")
    return float(out.stdout.strip().splitlines()[-1])


def measure(scale: int, args) -> dict:
    d = recipe_dir(scale, args.root)
    log = d / "scaling.log"
    speakers, utts = SCALES[scale]
    if not (d / "exp/ser_train_ser/reference_stats.json").exists():
        run(["./run.sh", "--stop_stage", "4", "--local_data_opts",
             f"--num_speakers {speakers} --utts_per_emotion {utts} --test_utts_per_emotion {args.test_utts}"], d, log)
    forget = Path("data") / f"forget_n{args.num_forget}"
    if not (d / forget).exists():
        run([str(Path.cwd() / ".venv/bin/python"), "-m", "espnet2_unlearn.bin.make_forget", "--num_utts",
             str(args.num_forget), "--seed", "0", "data/train", str(forget)], d, log)
    unlearn = d / f"exp/unlearn_{forget.name}"
    if not (unlearn / "process_time.json").exists():
        run(["./run.sh", "--stage", "5", "--stop_stage", "5", "--forget_list", str(forget)], d, log)
    rss_file = d / "stage7_peak_rss_mib"
    if not rss_file.exists():
        rss = peak_rss_of(["./run.sh", "--stage", "7", "--stop_stage", "7", "--forget_list", str(forget),
                           "--baselines", ""], d, log)
        rss_file.write_text(f"{rss}\n")
    metrics = json.loads((unlearn / "eval/metrics.json").read_text())["models"]
    forget_report = json.loads((unlearn / "forget_report.json").read_text())
    gold = next((d / "exp").glob("gold_ser_train_ser_*/train_report.json"))
    gold_report = json.loads(gold.read_text())
    return {
        "scale": scale, "train_utts": sum(1 for _ in open(d / "data/train/utt2spk")),
        "gold_compute_s": gold_report["compute_time_s"], "gold_process_s": gold_report["process_time_s"],
        "gold_peak_rss_mib": float(rss_file.read_text()),
        "unlearn_compute_s": forget_report["compute_time_s"],
        "unlearn_process_s": json.loads((unlearn / "process_time.json").read_text())["process_time_s"],
        "unlearn_peak_rss_mib": forget_report["peak_rss_mib"],
        "unlearn_steps": forget_report["steps"],
        "speedup_compute": metrics["unlearned"].get("speedup_over_gold", {}).get("compute"),
        "speedup_process": metrics["unlearned"].get("speedup_over_gold", {}).get("process"),
    }


def power_fit(xs, ys):
    """(a, b) of the least-squares line log y = log a + b log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((x - mx) ** 2 for x in lx)
    b = sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sxx if sxx > 0 else 0.0
    return math.exp(my - b * mx), b


def report(rows, args) -> list:
    lines = ["| scale | training utterances | gold compute s | gold process s | stage 7 peak RSS MiB | "
             "unlearning steps | unlearning compute s | unlearning process s | unlearning peak RSS MiB | "
             "speed-up compute | speed-up process |", "|---" * 11 + "|"]
    for r in rows:
        lines.append(f"| {r['scale']}x | {r['train_utts']} | {r['gold_compute_s']:.0f} | {r['gold_process_s']:.0f} | "
                     f"{r['gold_peak_rss_mib']:.0f} | {r['unlearn_steps']} | {r['unlearn_compute_s']:.1f} | "
                     f"{r['unlearn_process_s']:.1f} | {r['unlearn_peak_rss_mib']:.0f} | "
                     f"{r['speedup_compute']:.0f} | {r['speedup_process']:.0f} |")
    if len(rows) > 1:
        n = [r["train_utts"] for r in rows]
        lines += ["", "Fitted growth, time ~ a * n^b over the training utterances n:", ""]
        for key, what in (("gold_process_s", "gold retraining, process"), ("gold_compute_s", "gold retraining, compute"),
                          ("unlearn_process_s", "unlearning, process"), ("unlearn_compute_s", "unlearning, compute")):
            a, b = power_fit(n, [r[key] for r in rows])
            lines.append(f"- {what}: b = {b:.2f} (a = {a:.3g} s)")
    return lines


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["train_utts"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("gold_process_s", "gold retraining (process)"), ("unlearn_process_s", "unlearning (process)"),
                       ("unlearn_compute_s", "unlearning (compute)")):
        ys = [r[key] for r in rows]
        ax.plot(n, ys, "o", label=label)
        if len(rows) > 1:
            a, b = power_fit(n, ys)
            grid = [min(n) * (max(n) / min(n)) ** (i / 20) for i in range(21)]
            ax.plot(grid, [a * x ** b for x in grid], "--", linewidth=0.8, label=f"fit: n^{b:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training utterances")
    ax.set_ylabel("seconds")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4], choices=sorted(SCALES))
    p.add_argument("--num_forget", type=int, default=50)
    p.add_argument("--test_utts_per_emotion", dest="test_utts", type=int, default=16)
    p.add_argument("--root", type=Path, default=Path("scaling"), help="where the scaled recipes go")
    p.add_argument("--output", type=Path, help="also write the table to this Markdown file (and a .png beside)")
    args = p.parse_args()
    if not Path("ser.sh").exists():
        p.error("run from the top of the repository (where ser.sh is)")
    rows = [measure(k, args) for k in args.scales]
    lines = report(rows, args)
    print("\n".join(lines))
    if args.output:
        png = args.output.with_suffix(".png")
        plot(rows, png)
        header = ["# Scaling: gold retraining against unlearning as the corpus grows", "",
                  f"Made by `python bench/scaling.py {' '.join(sys.argv[1:])}` at the top of the repository "
                  f"({os.cpu_count()} CPU cores). Times in seconds; speed-ups are gold's time over unlearning's "
                  "(compute: the loops only; process: whole processes).", ""]
        args.output.write_text("\n".join(header + lines) + f"\n\n![time against training utterances]({png.name})\n")


if __name__ == "__main__":
    main()

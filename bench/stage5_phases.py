"""Where the time of stage 5 goes: seconds per phase of one unlearning run
for each forget-set size, on a trained recipe (run from its directory after
`./run.sh --stop_stage 4`):

    python bench/stage5_phases.py --sizes 10 50 100 --output bench/PROFILE.md

Each size N unlearns the same forget lists as bench/compare.py
(data/bench/forget_n<N>_s<seed>) with `./run.sh --stage 5 --stop_stage 5`
into exp/unlearn_profile_n<N>_s<seed>[_<name>] (kept, so a profile is
re-printed without re-running; delete the directory to measure again).
The phases come from forget_report.json ("phases_s"); "process" is the whole
process as stage 5 measured it (process_time.json), "other" what the phases
do not cover (the shell, writing the report, exiting).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

PHASES = ("startup", "load", "first_scoring", "statistics", "pgd", "mas", "steps", "scoring",
          "saving")


def profile_run(size: int, seed: int, args) -> dict:
    forget = Path(args.forget_dir) / f"forget_n{size}_s{seed}"
    if not forget.exists():
        subprocess.run([sys.executable, "-m", "espnet2_unlearn.bin.make_forget", "--num_utts", str(size),
                        "--seed", str(seed), "data/train", str(forget)], check=True)
    tag = f"profile_n{size}_s{seed}{'_' + args.name if args.name else ''}"
    out = Path("exp") / f"unlearn_{tag}"
    if not (out / "process_time.json").exists():
        cmd = ["./run.sh", "--stage", "5", "--stop_stage", "5", "--forget_list", str(forget), "--unlearn_tag", tag,
               "--unlearn_args", args.unlearn_args]
        print(f"profile: {' '.join(cmd)}", file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    report = json.loads((out / "forget_report.json").read_text())
    process = json.loads((out / "process_time.json").read_text())["process_time_s"]
    return {"size": size, "seed": seed, "steps": report["steps"], "phases": report["phases_s"],
            "compute": report["compute_time_s"], "process": process, "peak_rss_mib": report["peak_rss_mib"]}


def table(runs) -> list:
    lines = ["| N | steps | " + " | ".join(PHASES) + " | other | process s | compute s | s per step (update + scoring) "
             "| peak RSS MiB |", "|---" * (len(PHASES) + 7) + "|"]
    for r in runs:
        phases = [r["phases"].get(p, 0.0) for p in PHASES]
        per_step = (r["phases"].get("steps", 0.0) + r["phases"].get("scoring", 0.0)) / max(r["steps"], 1)
        lines.append(f"| {r['size']} | {r['steps']} | " + " | ".join(f"{v:.2f}" for v in phases)
                     + f" | {r['process'] - sum(phases):.2f} | {r['process']:.1f} | {r['compute']:.1f} "
                     f"| {per_step:.2f} | {r['peak_rss_mib']:.0f} |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unlearn_args", default="")
    p.add_argument("--name", default="", help="suffix of the run names, for another setting")
    p.add_argument("--forget_dir", default="data/bench")
    p.add_argument("--output", type=Path, help="also write the table to this Markdown file")
    args = p.parse_args()
    if args.unlearn_args and not args.name:
        p.error("--unlearn_args needs --name")
    lines = table([profile_run(n, args.seed, args) for n in args.sizes])
    print("\n".join(lines))
    if args.output:
        header = ["# Where stage 5 spends its time", "",
                  f"Made by `python bench/stage5_phases.py {' '.join(sys.argv[1:])}` in the recipe directory after "
                  "`./run.sh --stop_stage 4`. Seconds per phase of one unlearning run (forget_report.json "
                  "`phases_s`): startup = interpreter and imports, load = model and forget set, then the first "
                  "scoring of the forget set, the training statistics less the forget set's (statistics), the "
                  "adversarial examples (pgd), the elastic weights (mas), the updates (steps), the scoring after "
                  "each update, saving; other = the rest of the process "
                  "(shell, report, exit). "
                  f"Machine: {os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}.",
                  ""]
        args.output.write_text("\n".join(header + lines) + "\n")


if __name__ == "__main__":
    main()

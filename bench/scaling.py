"""How the costs and the outcome of unlearning grow with the corpus: gold
retraining against unlearning N utterances, on the built-in corpus at
several sizes (run from the top of the repository):

    python bench/scaling.py --scales 1 2 4 8 --output bench/SCALING.md

Scale k has about k times the default number of training utterances (more
training speakers, then more utterances per speaker; SCALES); the valid and
test sets are the default ones (8 speakers each, never trained on).  Each
scale is a recipe directory of its own under scaling/x<k> (links to this
one's scripts, as egs2/ recipes are): `./run.sh --stop_stage 4` trains the
source model, then for each of --forget_seeds a forget set of --num_forget
random training utterances is unlearned with the default (stage 5), gold is
retrained without it (stage 7, no baselines) and the two are evaluated
(stage 6).

Trained models are kept by content key (bench/model_store.py) in
bench/trained/: a later run, in this session or another, restores what was
trained from the same inputs instead of training it again, and trains again
what was trained from other ones (another config, corpus or package code).
Unlearning runs are keyed on the whole package and its configs and are made
again when those change; they are cheap.  Scales go one after another; two
lanes run side by side as two processes with disjoint --scales, one thread
per training (--threads).

Reported per scale: training utterances; the original's accuracy on its
training, held-out and test sets (the train-test gap); gold's and
unlearning's compute and process times, their speed-ups and peak RSS; and
per forget set, the test-UAR change against the original and against gold
with paired 95 % intervals, forget accuracy and MIA efficacy of the
unlearned model and of gold.  Then a least-squares fit of log(time) on
log(training utterances) per cost, time ~ n^b, and the speed bars judged at
the largest scale of >= 5000 training utterances.
"""

import argparse
import functools
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_store  # noqa: E402

# scale -> (speakers in all, utterances per emotion of a training speaker);
# 16 of the speakers are the valid and test speakers, and run.sh holds
# --heldout_per_spk of each training speaker's utterances out of training.
SCALES = {1: (28, 22), 2: (40, 22), 4: (40, 36), 8: (64, 36)}
EVAL_SPEAKERS = {"valid": 8, "test": 8}
EMOTIONS = 4
LINKED = ("run.sh", "ser.sh", "unlearn.sh", "path.sh", "cmd.sh", "db.sh", "utils", "conf", "local", ".venv")
SOURCE_EXP = Path("exp/ser_train_ser")
INFERENCE_MODEL = "train.loss.ave.pth"
# What a source model's training depends on (its key): the data and
# features stages 1-3 make, and the training config.  ESPnet trains it.
SOURCE_FILES = ("run.sh", "local/data.sh", "conf/fbank.conf", "conf/train_ser.yaml")
SOURCE_MODULES = tuple(f"espnet2_unlearn.bin.{m}" for m in ("make_corpus", "select_heldout", "compute_fbank"))
# What the rest of stage 4 computes beside a model with the package's code
# (decodings, reference statistics, importance, layer statistics): made
# again, from the kept model, when that code changes (--skip_train true).
TAIL_MODULES = tuple(f"espnet2_unlearn.bin.{m}" for m in (
    "decode_sets", "reference_stats", "train_statistics"))
# What a gold model's training depends on beyond its source's: the forget
# ids, and how stage 7 makes the retain set and the config.
GOLD_MODULES = tuple(f"espnet2_unlearn.bin.{m}" for m in ("forget_list", "gold_config", "train_report"))
UNLEARN_FILES = ("ser.sh", "unlearn.sh", "conf/unlearn.yaml")
KEY_FILE, TAIL_KEY_FILE = "bench_key", "bench_tail_key"
SPEED_CORPUS_UTTS = 5000


class ScaleError(ValueError):
    pass


def has_key(path: Path, key: str) -> bool:
    """Whether the key file at path names key."""
    return path.exists() and path.read_text().strip() == key


def evaluated_with_gold(metrics: Path) -> bool:
    return metrics.exists() and "gold" in json.loads(metrics.read_text())["models"]


def heldout_per_speaker(root: Path) -> int:
    m = re.search(r"--heldout_per_spk\s+(\d+)", (root / "run.sh").read_text())
    if not m:
        raise ScaleError(f"{root / 'run.sh'} does not set --heldout_per_spk")
    return int(m.group(1))


def check_scale(scale: int, speakers: int, utts: int, heldout: int) -> int:
    """The number of training utterances of a scale, or ScaleError when its
    corpus cannot be generated or split as the recipe splits it."""
    train_speakers = speakers - sum(EVAL_SPEAKERS.values())
    if train_speakers < 1:
        raise ScaleError(f"scale {scale}x: {speakers} speakers cannot give {EVAL_SPEAKERS['valid']} valid, "
                         f"{EVAL_SPEAKERS['test']} test and at least one training speaker")
    per_speaker = EMOTIONS * utts - heldout
    if per_speaker < 1:
        raise ScaleError(f"scale {scale}x: {EMOTIONS * utts} utterances per training speaker leave none to train on "
                         f"after the {heldout} run.sh holds out (--heldout_per_spk)")
    return train_speakers * per_speaker


def parse_scale(spec: str):
    """K, K=SPEAKERS,UTTS_PER_EMOTION or K=SPEAKERS,UTTS_PER_EMOTION,EPOCHS
    (epochs: the training config's max_epoch otherwise)."""
    name, _, size = spec.partition("=")
    try:
        scale = int(name)
        if size:
            fields = [int(x) for x in size.split(",")]
            if len(fields) not in (2, 3):
                raise ValueError
            return scale, (fields[0], fields[1], fields[2] if len(fields) == 3 else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a scale is K or K=SPEAKERS,UTTS_PER_EMOTION[,EPOCHS], got '{spec}'")
    if scale not in SCALES:
        raise argparse.ArgumentTypeError(f"scale {scale} is not one of {sorted(SCALES)}; "
                                         f"give its corpus as {scale}=SPEAKERS,UTTS_PER_EMOTION")
    return scale, (*SCALES[scale], None)


class Scale:
    """One scale's recipe directory and the keys of what it trains."""

    def __init__(self, scale: int, size, args):
        self.scale, (self.speakers, self.utts, self.epochs) = scale, (tuple(size) + (None,))[:3]
        self.name = f"x{scale}" + (f"_e{self.epochs}" if self.epochs else "")
        self.root = Path.cwd()
        self.dir = args.root.resolve() / self.name
        self.log = self.dir / "scaling.log"
        self.args = args
        self.store = args.store
        self.env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
        self.data_opts = f"--num_speakers {self.speakers} --utts_per_emotion {self.utts}"
        self.ser_args = ["--ser_args", f"--max_epoch {self.epochs}"] if self.epochs else []
        self.source_key = model_store.content_key(
            self.root, {"data_opts": self.data_opts, "ser_args": self.ser_args}, SOURCE_FILES, SOURCE_MODULES)
        self.tail_key = model_store.content_key(self.root, {"source": self.source_key}, (), TAIL_MODULES)

    # Keys of the runs on one forget set.
    def gold_key(self, forget: Path) -> str:
        ids = sorted(line.split()[0] for line in (self.dir / forget / "utt2spk").read_text().splitlines() if line)
        return model_store.content_key(self.root, {"source": self.source_key, "forget": ids}, (), GOLD_MODULES)

    def unlearn_key(self, forget: Path) -> str:
        return model_store.content_key(self.root, {"source": self.source_key, "forget": forget.name},
                                       UNLEARN_FILES + self.package)

    @functools.cached_property
    def code_key(self) -> str:
        """What this scale's figures were made from: its source model and the
        code that unlearns and evaluates (a row of another run with this key
        is this run's)."""
        return model_store.content_key(self.root, {"source": self.source_key}, UNLEARN_FILES + self.package)

    @functools.cached_property
    def package(self) -> tuple:
        return tuple(str(p.relative_to(self.root)) for p in sorted((self.root / "espnet2_unlearn").rglob("*.py")))

    def run(self, cmd) -> None:
        print(f"scaling ({self.dir}): {' '.join(cmd)}", file=sys.stderr, flush=True)
        with open(self.log, "a") as f:
            if subprocess.run(cmd, cwd=self.dir, stdout=f, stderr=subprocess.STDOUT, env=self.env).returncode != 0:
                sys.exit(f"scaling: {' '.join(cmd)} failed in {self.dir}: see {self.log}")

    def peak_rss_of(self, cmd) -> float:
        """Runs cmd and returns the largest resident set of its descendants
        in MiB (getrusage of the waited-for children, in a fresh process)."""
        probe = ("import resource, subprocess, sys; "
                 f"r = subprocess.run({cmd!r}, stdout=open({str(self.log)!r}, 'a'), stderr=subprocess.STDOUT); "
                 "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(r.returncode)")
        print(f"scaling ({self.dir}): {' '.join(cmd)}", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, "-c", probe], cwd=self.dir, capture_output=True, text=True,
                             env=self.env)
        if out.returncode != 0:
            sys.exit(f"scaling: {' '.join(cmd)} failed in {self.dir}: see {self.log}{out.stderr}")
        return float(out.stdout.strip().splitlines()[-1])

    def link(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        for name in LINKED:
            if (self.root / name).exists() and not (self.dir / name).exists():
                (self.dir / name).symlink_to(self.root / name)

    def source_state(self) -> str:
        """reuse (this directory's model has this key), restore (the store
        has it) or train."""
        if has_key(self.dir / SOURCE_EXP / KEY_FILE, self.source_key) \
                and (self.dir / SOURCE_EXP / INFERENCE_MODEL).exists():
            return "reuse"
        return "restore" if model_store.entry("source", self.source_key, self.store).exists() else "train"

    def ensure_source(self) -> None:
        state = self.source_state()
        print(f"scaling: scale {self.name}, source model {self.source_key}: {state}", file=sys.stderr, flush=True)
        exp = self.dir / SOURCE_EXP
        if state != "reuse":
            # Everything of another key goes: its data, features and models.
            for d in ("data", "dump", "exp", "downloads"):
                shutil.rmtree(self.dir / d, ignore_errors=True)
        if state == "train":
            self.run(["./run.sh", "--stop_stage", "4", "--local_data_opts", self.data_opts] + self.ser_args)
            (exp / KEY_FILE).write_text(self.source_key + "\n")
            (exp / TAIL_KEY_FILE).write_text(self.tail_key + "\n")
        if state == "restore":
            self.run(["./run.sh", "--stop_stage", "3", "--local_data_opts", self.data_opts])
            model_store.restore("source", self.source_key, self.dir, self.store)
        if not model_store.entry("source", self.source_key, self.store).exists():
            model_store.save("source", self.source_key, self.dir, [
                SOURCE_EXP / name for name in ("config.yaml", INFERENCE_MODEL, "train.log", KEY_FILE)], self.store)
        tail = exp / TAIL_KEY_FILE
        if not has_key(tail, self.tail_key):
            # The kept model, with what stage 4 computes beside it by this code.
            self.run(["./run.sh", "--stage", "4", "--stop_stage", "4", "--skip_train", "true"])
            tail.write_text(self.tail_key + "\n")
            for gold in (self.dir / "exp").glob("gold_ser_train_ser_*/"):
                shutil.rmtree(gold / f"decode_{INFERENCE_MODEL[:-4]}", ignore_errors=True)  # decoded by other code

    def gold_dir(self, forget: Path):
        key = self.gold_key(forget)
        dirs = [d for d in (self.dir / "exp").glob("gold_ser_train_ser_*") if has_key(d / KEY_FILE, key)]
        return dirs[0] if dirs else None

    def forget_set(self, seed: int) -> Path:
        return Path("data") / f"forget_n{self.args.num_forget}_s{seed}"

    def ensure_forget_set(self, seed: int) -> Path:
        forget = self.forget_set(seed)
        if not (self.dir / forget / "utt2spk").exists():
            self.run([str(self.root / ".venv/bin/python"), "-m", "espnet2_unlearn.bin.make_forget", "--num_utts",
                      str(self.args.num_forget), "--seed", str(seed), "data/train", str(forget)])
        unlearn = self.dir / "exp" / f"unlearn_{forget.name}"
        key = self.unlearn_key(forget)
        if not (has_key(unlearn / KEY_FILE, key) and (unlearn / "process_time.json").exists()):
            shutil.rmtree(unlearn, ignore_errors=True)
            self.run(["./run.sh", "--stage", "5", "--stop_stage", "5", "--forget_list", str(forget)])
            (unlearn / KEY_FILE).write_text(key + "\n")
        gold_key = self.gold_key(forget)
        if self.gold_dir(forget) is None:
            for stale in (self.dir / "exp").glob("gold_ser_train_ser_*"):
                report = stale / "train_report.json"
                # An interrupted training, or this forget set's gold trained from other inputs (with the
                # statistics its config reads: gold_..._stats).
                if stale.is_dir() and not stale.name.endswith("_stats") and (not (stale / KEY_FILE).exists() or (
                        report.exists() and json.loads(report.read_text()).get("forget_list") == str(forget))):
                    shutil.rmtree(stale)
                    shutil.rmtree(stale.with_name(stale.name + "_stats"), ignore_errors=True)
            if model_store.restore("gold", gold_key, self.dir, self.store):
                print(f"scaling: gold {gold_key}: restored", file=sys.stderr, flush=True)
            else:
                rss = self.peak_rss_of(["./run.sh", "--stage", "7", "--stop_stage", "7", "--forget_list",
                                        str(forget), "--baselines", ""])
                gold = next(d for d in (self.dir / "exp").glob("gold_ser_train_ser_*")
                            if (d / "train_report.json").exists() and not (d / KEY_FILE).exists())
                (gold / "stage7_peak_rss_mib").write_text(f"{rss}\n")
                (gold / KEY_FILE).write_text(gold_key + "\n")
        if not model_store.entry("gold", gold_key, self.store).exists():
            rel = self.gold_dir(forget).relative_to(self.dir)
            # Its config.yaml builds the normaliser from the retain set's statistics.
            stats = rel.with_name(rel.name + "_stats") / "train/feats_stats.npz"
            model_store.save("gold", gold_key, self.dir, [rel / name for name in (
                "train_report.json", "config.yaml", "retrain_config.yaml", INFERENCE_MODEL, "train.log",
                "stage7_peak_rss_mib", KEY_FILE)] + [stats], self.store)
        metrics = unlearn / "eval/metrics.json"
        if not evaluated_with_gold(metrics) or metrics.stat().st_mtime < (unlearn / KEY_FILE).stat().st_mtime:
            self.run(["./run.sh", "--stage", "6", "--stop_stage", "6", "--forget_list", str(forget)])
        return forget

    def measure(self) -> dict:
        self.link()
        self.ensure_source()
        forgets = [self.ensure_forget_set(s) for s in self.args.forget_seeds]
        return self.figures(forgets)

    def existing(self):
        """For --existing_only (which trains and runs nothing): the forget
        sets of this scale whose runs are all there, and what is missing."""
        if self.source_state() != "reuse":
            return [], [f"the source model ({self.source_state()})"]
        done, missing = [], []
        for seed in self.args.forget_seeds:
            forget = self.forget_set(seed)
            metrics = self.dir / "exp" / f"unlearn_{forget.name}" / "eval/metrics.json"
            key = self.dir / "exp" / f"unlearn_{forget.name}" / KEY_FILE
            if not (self.dir / forget).exists() or self.gold_dir(forget) is None or not evaluated_with_gold(metrics):
                missing.append(f"{forget.name} (its unlearning, gold or evaluation)")
            elif not has_key(key, self.unlearn_key(forget)):
                missing.append(f"{forget.name} (unlearnt by other code)")
            else:
                done.append(forget)
        return done, missing

    def figures(self, forgets) -> dict:
        ref = json.loads((self.dir / SOURCE_EXP / "reference_stats.json").read_text())
        config = (self.dir / SOURCE_EXP / "config.yaml").read_text()
        row = {"scale": self.name, "speakers": self.speakers, "utts_per_emotion": self.utts,
               "epochs": int(re.search(r"^max_epoch: (\d+)", config, re.M).group(1)),
               "default_epochs": self.epochs is None, "code_key": self.code_key,
               "train_utts": sum(1 for _ in open(self.dir / "data/train/utt2spk")),
               "original_heldout_acc": ref["sets"]["heldout"]["accuracy"], "sets": []}
        for forget in forgets:
            unlearn = self.dir / "exp" / f"unlearn_{forget.name}"
            m = json.loads((unlearn / "eval/metrics.json").read_text())["models"]
            gold_dir = self.gold_dir(forget)
            gold_report = json.loads((gold_dir / "train_report.json").read_text())
            report = json.loads((unlearn / "forget_report.json").read_text())
            o, u, g = m["original"], m["unlearned"], m["gold"]
            n_forget, n_retain = o["forget"]["num_utts"], o["retain"]["num_utts"]
            row["original_train_acc"] = (o["forget"]["accuracy"] * n_forget + o["retain"]["accuracy"] * n_retain) \
                / (n_forget + n_retain)
            row["original_test_uar"] = o["test"]["uar"]
            row["sets"].append({
                "forget_set": forget.name,
                "steps": report["steps"], "reached": report["target"]["reached"],
                "unlearn_compute_s": report["compute_time_s"],
                "unlearn_process_s": json.loads((unlearn / "process_time.json").read_text())["process_time_s"],
                "unlearn_peak_rss_mib": report["peak_rss_mib"],
                "first_model_call_s": u.get("first_model_call_s"),
                "gold_compute_s": gold_report["compute_time_s"], "gold_process_s": gold_report["process_time_s"],
                "gold_peak_rss_mib": float((gold_dir / "stage7_peak_rss_mib").read_text()),
                "test_uar_vs_original": u["vs"]["original"]["test_uar"],
                "test_uar_vs_gold": u["vs"]["gold"]["test_uar"],
                "forget_acc": {"unlearned": u["forget"]["accuracy"], "gold": g["forget"]["accuracy"],
                               "original": o["forget"]["accuracy"]},
                "mia_efficacy": {"unlearned": u["mia"]["efficacy"], "gold": g["mia"]["efficacy"]},
                "forget_vs_gold": {"forget_acc": u["vs"]["gold"]["forget_acc"],
                                   "mia_efficacy": u["vs"]["gold"]["mia_efficacy"]},
                "outcomes": {"unlearned": u["forget_outcomes"], "gold": g["forget_outcomes"]},
            })
        sets = row["sets"]
        for key in ("gold_compute_s", "gold_process_s", "unlearn_compute_s", "unlearn_process_s", "steps",
                    "gold_peak_rss_mib", "unlearn_peak_rss_mib"):
            row[key] = sum(s[key] for s in sets) / len(sets)
        row["speedup_compute"] = row["gold_compute_s"] / row["unlearn_compute_s"]
        row["speedup_process"] = row["gold_process_s"] / row["unlearn_process_s"]
        return row


def power_fit(xs, ys):
    """(a, b) of the least-squares line log y = log a + b log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((x - mx) ** 2 for x in lx)
    b = sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sxx if sxx > 0 else 0.0
    return math.exp(my - b * mx), b


def interval(d) -> str:
    return f"{d['value']:+.1f} [{d['low']:+.1f}, {d['high']:+.1f}]"


def report(rows) -> list:
    from espnet2_unlearn.metrics.comparison import pooled_forgetting

    lines = ["## Cost", "",
             "| scale | training utterances | epochs | gold compute s | gold process s | stage 7 peak RSS MiB | "
             "unlearning steps | unlearning compute s | unlearning process s | unlearning peak RSS MiB | "
             "speed-up compute | speed-up process |", "|---" * 12 + "|"]
    for r in rows:
        lines.append(f"| {r['scale']} | {r['train_utts']} | {r['epochs']} | {r['gold_compute_s']:.0f} | "
                     f"{r['gold_process_s']:.0f} | "
                     f"{r['gold_peak_rss_mib']:.0f} | {r['steps']:.1f} | {r['unlearn_compute_s']:.1f} | "
                     f"{r['unlearn_process_s']:.1f} | {r['unlearn_peak_rss_mib']:.0f} | "
                     f"{r['speedup_compute']:.0f} | {r['speedup_process']:.0f} |")
    lines += ["", "Means over the forget sets of each scale (" + ", ".join(f"{r['scale']}: {len(r['sets'])}"
                                                            for r in rows)
              + "; speed-ups: mean over mean).", "",
              "## The original model", "",
              "| scale | training utterances | epochs | train accuracy | held-out accuracy | test UAR | train - test |",
              "|---" * 7 + "|"]
    for r in rows:
        lines.append(f"| {r['scale']} | {r['train_utts']} | {r['epochs']} | {100 * r['original_train_acc']:.1f} | "
                     f"{100 * r['original_heldout_acc']:.1f} | {100 * r['original_test_uar']:.1f} | "
                     f"{100 * (r['original_train_acc'] - r['original_test_uar']):.1f} |")
    lines += ["", "## Utility and forgetting per forget set", "",
              "Points; paired 95 % bootstrap intervals (unlearned minus the reference, same utterances).", "",
              "| scale | forget set | steps | test UAR vs original | test UAR vs gold | forget acc original / "
              "unlearned / gold | MIA efficacy unlearned / gold |", "|---" * 7 + "|"]
    for r in rows:
        for s in r["sets"]:
            fa, mia = s["forget_acc"], s["mia_efficacy"]
            lines.append(f"| {r['scale']} | {s['forget_set']} | {s['steps']} | {interval(s['test_uar_vs_original'])} | "
                         f"{interval(s['test_uar_vs_gold'])} | {100 * fa['original']:.0f} / {100 * fa['unlearned']:.0f}"
                         f" / {100 * fa['gold']:.0f} | {100 * mia['unlearned']:.0f} / {100 * mia['gold']:.0f} |")
    lines += ["", "Pooled over each scale's forget sets (unlearned minus gold, points, 95 % intervals):", ""]
    for r in rows:
        if len(r["sets"]) < 2:
            continue
        pooled = pooled_forgetting([(s["outcomes"]["unlearned"], s["outcomes"]["gold"]) for s in r["sets"]])
        v = pooled["value"]
        lines.append(f"- {r['scale']}: forget accuracy {interval(v['forget_acc'])}, MIA efficacy "
                     f"{interval(v['mia_efficacy'])} (bar +-{pooled['bar']:g}: {pooled['status']})")
    # Growth and speed are judged on the scales trained as the config says;
    # a scale trained for other epochs costs another amount per utterance.
    fitted = [r for r in rows if r["default_epochs"]]
    if len(fitted) > 1:
        n = [r["train_utts"] for r in fitted]
        lines += ["", "## Growth", "", "Fitted growth, time ~ a * n^b over the training utterances n (the scales "
                  "trained for the config's epochs: " + ", ".join(r["scale"] for r in fitted) + "):", ""]
        for key, what in (("gold_process_s", "gold retraining, process"), ("gold_compute_s", "gold retraining, compute"),
                          ("unlearn_process_s", "unlearning, process"), ("unlearn_compute_s", "unlearning, compute")):
            a, b = power_fit(n, [r[key] for r in fitted])
            lines.append(f"- {what}: b = {b:.2f} (a = {a:.3g} s)")
    judged = [r for r in fitted if r["train_utts"] >= SPEED_CORPUS_UTTS]
    if judged:
        from espnet2_unlearn.metrics.comparison import SPEEDUP_BARS

        r = judged[-1]
        lines += ["", f"## Speed bars, judged at {r['scale']} ({r['train_utts']} training utterances)", ""]
        for name in ("compute", "process"):
            s = r[f"speedup_{name}"]
            lines.append(f"- {name}: {s:.0f}x against a bar of {SPEEDUP_BARS[name]:.0f}x: "
                         f"{'met' if s >= SPEEDUP_BARS[name] else 'not met'}")
        if len(fitted) > 1:
            _, b = power_fit([x["train_utts"] for x in fitted], [x["unlearn_compute_s"] for x in fitted])
            lines.append(f"- unlearning compute flat in corpus size: fitted exponent {b:.2f} against a bar of 0.1: "
                         f"{'met' if b <= 0.1 else 'not met'}")
    return lines


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fitted = [r for r in rows if r["default_epochs"]]
    n = [r["train_utts"] for r in fitted]
    others = [r for r in rows if not r["default_epochs"]]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.8))
    for c, (key, label) in enumerate((("gold_process_s", "gold retraining (process)"),
                                      ("unlearn_process_s", "unlearning (process)"),
                                      ("unlearn_compute_s", "unlearning (compute)"))):
        ax.plot(n, [r[key] for r in fitted], "o", color=f"C{c}", label=label)
        if others:
            ax.plot([r["train_utts"] for r in others], [r[key] for r in others], "x", color=f"C{c}",
                    label=label + ", other epochs")
        if len(fitted) > 1:
            ys = [r[key] for r in fitted]
            a, b = power_fit(n, ys)
            grid = [min(n) * (max(n) / min(n)) ** (i / 20) for i in range(21)]
            ax.plot(grid, [a * x ** b for x in grid], "--", color=f"C{c}", linewidth=0.8, label=f"fit: n^{b:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training utterances")
    ax.set_ylabel("seconds")
    # Below the figure: inside the axes it hid the other-epochs markers.
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, loc="lower left", ncol=3)
    for key, label, marker in (("test_uar_vs_original", "vs original", "o"), ("test_uar_vs_gold", "vs gold", "s")):
        for i, r in enumerate(rows):
            for j, s in enumerate(r["sets"]):
                d = s[key]
                # A scale of other epochs sits to the right of the one of the same size, hollow.
                x = r["train_utts"] * (1.04 if marker == "s" else 0.96) * (1 + 0.02 * (j - 1)) \
                    * (1 if r["default_epochs"] else 1.15)
                color = "C0" if marker == "o" else "C1"
                bx.errorbar([x], [d["value"]], yerr=[[d["value"] - d["low"]], [d["high"] - d["value"]]],
                            fmt=marker, color=color, markersize=4, capsize=2,
                            markerfacecolor=color if r["default_epochs"] else "white",
                            label=(label if r["default_epochs"] else f"{label}, {r['scale']}")
                            if j == 0 and (i == 0 or not r["default_epochs"]) else None)
    bx.axhline(0, color="grey", linewidth=0.6)
    bx.axhline(-1, color="grey", linewidth=0.6, linestyle=":")
    bx.set_xscale("log")
    bx.set_xlabel("training utterances")
    bx.set_ylabel("test UAR change, points (95 % paired)")
    bx.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.15, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", type=parse_scale, nargs="+", default=[parse_scale("1"), parse_scale("2"),
                                                                      parse_scale("4"), parse_scale("8")],
                   help="K (one of SCALES) or K=SPEAKERS,UTTS_PER_EMOTION")
    p.add_argument("--num_forget", type=int, default=50)
    p.add_argument("--forget_seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threads", type=int, default=1, help="threads of each training and unlearning run")
    p.add_argument("--root", type=Path, default=Path("scaling"), help="where the scaled recipes go")
    p.add_argument("--existing_only", action="store_true",
                   help="report the scales whose runs are all there; train and run nothing")
    p.add_argument("--earlier", type=Path,
                   help="with --existing_only: the .json of an earlier report; a scale with no complete run here "
                        "is reported from it if it was made from the same model and code")
    p.add_argument("--conditions", help="how the machine was loaded when the runs were timed (said in --output)")
    p.add_argument("--store", type=Path, default=model_store.STORE, help="where trained models are kept by key")
    p.add_argument("--output", type=Path, help="also write the report to this Markdown file (and a .png beside)")
    args = p.parse_args(argv)
    if not Path("ser.sh").exists():
        p.error("run from the top of the repository (where ser.sh is)")
    # Every scale is checked before anything is trained.
    try:
        heldout = heldout_per_speaker(Path.cwd())
        for scale, (speakers, utts, _) in args.scales:
            check_scale(scale, speakers, utts, heldout)
    except ScaleError as e:
        sys.exit(f"scaling: {e}")
    earlier = {r["scale"]: r for r in json.loads(args.earlier.read_text())} if args.earlier else {}
    rows, left_out, taken = [], [], []
    for scale, size in args.scales:
        s = Scale(scale, size, args)
        if args.existing_only:
            done, missing = s.existing()
            row = earlier.get(s.name)
            if not done and row is not None and row.get("code_key") == s.code_key:
                rows.append(row)
                taken.append(s.name)
                print(f"scaling: {s.name}: figures of {args.earlier} (same model and code)", file=sys.stderr)
                continue
            if missing:
                left_out.append(f"{s.name} lacks {', '.join(missing)}")
                print(f"scaling: {s.name}: not complete: {', '.join(missing)}", file=sys.stderr)
            if done:
                rows.append(s.figures(done))
        else:
            rows.append(s.measure())
    if not rows:
        sys.exit("scaling: no scale is complete")
    lines = report(rows)
    print("\n".join(lines))
    if args.output:
        png = args.output.with_suffix(".png")
        plot(rows, png)
        header = ["# Scaling: gold retraining against unlearning as the corpus grows", "",
                  f"Made by `python bench/scaling.py {shlex.join(sys.argv[1:])}` at the top of the repository "
                  f"({os.cpu_count()} CPU cores). Times in seconds; speed-ups are gold's time over unlearning's "
                  "(compute: the loops only; process: whole processes)." + (f" {args.conditions}" if args.conditions
                                                                           else ""), ""]
        if taken:
            header += [f"Taken from {args.earlier} ({', '.join(taken)}): runs of an earlier session, with the same "
                       "source model and the same unlearning and evaluation code (the same `code_key`), not present "
                       "on this machine.", ""]
        if left_out:
            header += ["Not complete when this was written (what is missing is left out of every table and "
                       "mean): " + "; ".join(left_out) + ". The same command without --existing_only goes on "
                       "from there (models already trained are restored from bench/trained/).", ""]
        args.output.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
        args.output.write_text("\n".join(header + lines) + f"\n\n![time, and test UAR change, against training "
                               f"utterances]({png.name})\n")


if __name__ == "__main__":
    main()

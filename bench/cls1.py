"""The cls1-style model of the bench: the built-in corpus trained as ESPnet's
egs2/TEMPLATE/cls1/cls.sh trains a model (raw waveforms through the
default front-end inside the model, <blank>/<unk> in the token list,
valid.acc.best.pth; bench/cls1_recipe.sh), then unlearned by unlearn.sh on
bench forget sets, as docs/recipes.md "Another ESPnet recipe" says.  Run
from the recipe directory after stage 2 and bench/compare.py (which makes
data/bench/forget_<set>):

    python bench/cls1.py --output bench/CLS1.md --sets n10_s0 n50_s0 n50_s1 n100_s0 spk01

The model is trained once in --workdir (reused afterwards; the config is
conf/train_ser.yaml with the front-end of a cls1 recipe); each request is
`unlearn.sh --unlearn_args "<--unlearn_args> --allow_unreached true"` under
the run name <set>_<--name>, reused when it exists.  Per request: steps,
the projection's relaxations, forget accuracy before and after, and the
unlearned model's test accuracy and UAR minus the original's with paired
95 % bootstrap intervals (the cls1-style bar of docs/design.md: test accuracy
within 2 points).  No gold model: retraining a cls1 recipe is the user's
own recipe's business, so forgetting is judged against the accuracy target.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXP = "exp/cls_train_cls1"
MODEL = "valid.acc.best.pth"


def cls1_config(max_epoch: int = None) -> str:
    """conf/train_ser.yaml, read by a cls1 recipe: waveforms through ESPnet's
    default front-end (80 mel bands, 10 ms hop), best model by validation
    accuracy; max_epoch: instead of the recipe's."""
    conf = yaml.safe_load((ROOT / "conf/train_ser.yaml").read_text())
    if max_epoch:
        conf["max_epoch"] = max_epoch
    conf.update(best_model_criterion=[["valid", "acc", "max"]], keep_nbest_models=1, frontend="default",
                frontend_conf={"n_fft": 512, "hop_length": 160, "n_mels": 80})
    conf["encoder_conf"]["input_layer"] = "conv2d"
    return yaml.safe_dump(conf, sort_keys=False)


def sh(cmd: str, cwd: Path) -> None:
    print(f"cls1 bench: {cmd}", flush=True)
    # the commands run with the Python that runs the bench (ESPnet's and the project's modules)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    subprocess.run(["bash", "-c", cmd], cwd=cwd, check=True, env=env)


def build(workdir: Path, data: Path, max_epoch: int = None) -> Path:
    """The cls1-style recipe dir, its model trained and its statistics
    computed (once)."""
    workdir = workdir.resolve()
    out = workdir / "cls1"
    if (out / EXP / MODEL).is_file() and (out / EXP / "train_statistics.pth").is_file():
        return out
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "train_cls1.yaml").write_text(cls1_config(max_epoch))
    sh(f"bash {ROOT}/bench/cls1_recipe.sh {data.resolve()} {out} global_mvn {workdir / 'train_cls1.yaml'}", Path.cwd())
    for name in ("utils", "path.sh", "cmd.sh", "conf"):
        if not (out / name).exists():
            (out / name).symlink_to(ROOT / name)
    sh(f"python -m espnet2_unlearn.bin.train_statistics --model_dir {EXP} --model_file {MODEL} "
       "--data_path_and_name_and_type dump/raw/train/wav.scp,speech,sound "
       "--data_path_and_name_and_type dump/raw/train/text,label,text", out)
    return out


def predictions(recipe: Path, model_dir: Path, model_file: str, scp: str, utts):
    """Predicted tokens of the whole model (front-end included) on utts."""
    import soundfile
    import torch

    from espnet2_unlearn.data.kaldi_dir import read_table
    from espnet2_unlearn.model_file import predicted_tokens

    wavs = read_table(recipe / scp)
    return predicted_tokens(model_dir, model_file,
                            [torch.from_numpy(soundfile.read(wavs[u], dtype="float32")[0]) for u in utts])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["n10_s0", "n50_s0", "n50_s1", "n100_s0", "spk01"],
                   help="forget sets: data/bench/forget_<set>")
    p.add_argument("--workdir", type=Path, default=Path("exp/bench_cls1"))
    p.add_argument("--data", type=Path, default=Path("data"), help="train/, valid/, test/ Kaldi dirs with wav.scp")
    p.add_argument("--max_epoch", type=int, help="train the model this many epochs (default: the recipe's; "
                   "the front-end computes features every epoch, about 80 s of 2 cores each)")
    p.add_argument("--name", default="default", help="suffix of the run names")
    p.add_argument("--unlearn_args", default="")
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)

    from espnet2_unlearn.data.forget_list import read_forget_ids
    from espnet2_unlearn.data.kaldi_dir import read_table
    from espnet2_unlearn.metrics.bootstrap import format_interval, paired_difference
    from espnet2_unlearn.metrics.comparison import within

    lists = {s: Path(f"data/bench/forget_{s}").resolve() for s in args.sets}
    missing = [str(f) for f in lists.values() if not f.exists()]
    if missing:
        sys.exit(f"cls1 bench: no forget list {' '.join(missing)} (bench/compare.py makes them)")
    output = args.output.resolve() if args.output else None
    start = Path.cwd()
    recipe = build(args.workdir, args.data, args.max_epoch)
    os.chdir(recipe)  # the model's config names its statistics file relative to the recipe
    text = read_table(recipe / "dump/raw/train/text")
    test_ref = read_table(recipe / "dump/raw/test/text")
    test_utts = sorted(test_ref)
    refs = [test_ref[u] for u in test_utts]
    before_ok = [h == r for h, r in zip(predictions(recipe, recipe / EXP, MODEL, "dump/raw/test/wav.scp", test_utts),
                                        refs)]

    rows = []
    for s, forget in lists.items():
        tag = f"{s}_{args.name}"
        out = recipe / f"exp/unlearn_{tag}"
        if not (out / "forget_report.json").is_file():
            unlearn_args = f"{args.unlearn_args} --allow_unreached true".strip()
            sh(f"{ROOT}/unlearn.sh --cls_exp {EXP} --train_dir dump/raw/train --speech_file wav.scp "
               f"--speech_type sound --forget_list {forget} --unlearn_tag {tag} "
               f"--unlearn_args {shlex.quote(unlearn_args)}", recipe)
        report = json.loads((out / "forget_report.json").read_text())
        ids = sorted(read_forget_ids(forget))
        forget_before = predictions(recipe, recipe / EXP, MODEL, "dump/raw/train/wav.scp", ids)
        forget_after = predictions(recipe, out, "unlearned.pth", "dump/raw/train/wav.scp", ids)
        test_after = predictions(recipe, out, "unlearned.pth", "dump/raw/test/wav.scp", test_utts)
        after_ok = [h == r for h, r in zip(test_after, refs)]
        acc = paired_difference(after_ok, before_ok, seed=0)
        uar = paired_difference(after_ok, before_ok, seed=0, refs=refs)
        bar = within(acc, -2, float("inf"))
        rows.append([s, len(ids), report["steps"], "yes" if report["target"]["reached"] else "no",
                     " ".join(str(x) for x in report.get("projection_relaxed_at") or []) or "-",
                     f"{report['projection_energy_final']:.2f}" if report.get("projection_energy_final") else "-",
                     f"{100 * sum(h == text[u] for h, u in zip(forget_before, ids)) / len(ids):.0f} → "
                     f"{100 * sum(h == text[u] for h, u in zip(forget_after, ids)) / len(ids):.0f}",
                     f"{100 * report['target']['value']:.0f}" if report["target"].get("metric") == "acc"
                     else f"{report['target']['value']:.3f}",
                     format_interval(acc), format_interval(uar), bar, f"{report['compute_time_s']:.0f}"])

    cmd = shlex.join(["python", "bench/cls1.py", *(argv if argv is not None else sys.argv[1:])])
    before_acc = 100 * sum(before_ok) / len(before_ok)
    lines = [f"Made by `{cmd}` in the recipe directory. The cls1-style model: {os.path.relpath(recipe / EXP, start)}/{MODEL}, "
             f"{yaml.safe_load((recipe / EXP / 'config.yaml').read_text())['max_epoch']} epochs, test accuracy {before_acc:.1f} on {len(test_utts)} utterances. Unlearning: conf/unlearn.yaml"
             + (f" with `{args.unlearn_args}`" if args.unlearn_args else "") + ".", "",
             "| set | utts | steps | target reached | relaxed after step | projection energy at the end | "
             "forget acc before → after | target | test acc vs original | test UAR vs original | "
             "test acc bar (±2) | compute s |", "|" + "---|" * 12]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    report_text = "\n".join(lines) + "\n"
    print(report_text)
    if output:
        output.write_text(report_text)


if __name__ == "__main__":
    main()

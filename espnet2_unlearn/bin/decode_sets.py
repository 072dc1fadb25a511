"""Decodes several sets with one model in one process, loaded by ESPnet's own
inference class (espnet2.bin.cls_inference.Classification), writing what
`cls_inference --output_all_probabilities true` writes: per set,
OUT/<set>/prediction/{text,token,score}.  Utterances of equal length are
scored together (ESPnet's cls_inference takes one at a time); the scores
equal one-at-a-time scoring up to float rounding
(tests/recipe/test_stages_1_4.py).  Every stage that decodes (4, 6, 7) uses it.

    python -m espnet2_unlearn.bin.decode_sets --model_dir exp/gold_x \\
        --model_file train.loss.ave.pth --output_dir exp/gold_x/decode \\
        train=dump/fbank/train test=dump/fbank/test

For several models as one array job (run.pl or slurm.pl, JOB=1:N), a file of
the same options, one model per line, and the line to run:

    python -m espnet2_unlearn.bin.decode_sets --jobs decode_jobs.txt --job 2
"""

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

import kaldiio
import torch

from espnet2_unlearn.model_calls import batched_logits


def decode_set(classifier, feats_scp: Path, out_dir: Path, max_frames=None) -> int:
    """Writes OUT/prediction/{text,token,score} under a temporary name, then renames."""
    utts, speech = [], []
    for utt, feats in kaldiio.load_scp_sequential(str(feats_scp)):
        utts.append(utt)
        speech.append(torch.from_numpy(feats.copy()).float().to(classifier.device))
    model = classifier.classification_model
    probs = model.classification_function(batched_logits(model, speech, max_frames)).cpu()
    tokens = classifier.token_id_converter.ids2tokens(probs.argmax(-1).tolist())
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pred = tmp / "prediction"
    pred.mkdir(parents=True)
    with open(pred / "text", "w") as text, open(pred / "token", "w") as token, open(pred / "score", "w") as score:
        for utt, p, label in zip(utts, probs, tokens):
            text.write(f"{utt} {label}\n")
            token.write(f"{utt} {int(p.argmax())}\n")
            score.write(f"{utt} " + " ".join(str(v) for v in p.tolist()) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return len(utts)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", type=Path, help="dir with config.yaml and the model file")
    p.add_argument("--model_file", help="model file in --model_dir")
    p.add_argument("--output_dir", type=Path)
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--max_frames", type=int, default=None,
                   help="frames per batch (default: model_calls.PADDED_FRAMES in padded batches, "
                        "EQUAL_LENGTH_FRAMES in batches of equal length)")
    p.add_argument("--jobs", type=Path, help="a file of these options, one model per line")
    p.add_argument("--job", type=int, help="the line of --jobs to run (1-based)")
    p.add_argument("sets", nargs="*", help="NAME=DIR: a set and the dir of its feats.scp")
    args = p.parse_args(argv)
    if args.jobs is not None:
        lines = [line.split() for line in args.jobs.read_text(encoding="utf-8").splitlines() if line.strip()]
        if args.job is None or not 1 <= args.job <= len(lines):
            sys.exit(f"decode_sets: --job must be between 1 and {len(lines)} (the lines of {args.jobs})")
        return main(lines[args.job - 1])
    if not (args.sets and args.model_dir and args.model_file and args.output_dir):
        sys.exit("decode_sets: --model_dir, --model_file, --output_dir and NAME=DIR sets are required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    sets = []
    for spec in args.sets:
        name, _, d = spec.partition("=")
        if not (name and d):
            sys.exit(f"decode_sets: expected NAME=DIR, got '{spec}'")
        if not (Path(d) / "feats.scp").is_file():
            sys.exit(f"decode_sets: {Path(d) / 'feats.scp'} does not exist")
        sets.append((name, Path(d) / "feats.scp"))
    if not (args.model_dir / "config.yaml").is_file():
        sys.exit(f"decode_sets: {args.model_dir / 'config.yaml'} does not exist")
    if not (args.model_dir / args.model_file).is_file():
        present = sorted(f.name for f in args.model_dir.glob("*.pth"))
        sys.exit(f"decode_sets: {args.model_dir / args.model_file} does not exist; model files in "
                 f"{args.model_dir}: {' '.join(present) or 'none'}")

    from espnet2_unlearn.espnet_imports import Classification

    torch.manual_seed(0)
    classifier = Classification(args.model_dir / "config.yaml", args.model_dir / args.model_file,
                                device="cuda" if args.ngpu > 0 else "cpu")
    for name, scp in sets:
        n = decode_set(classifier, scp, args.output_dir / name, args.max_frames)
        logging.info(f"{args.model_dir / args.model_file}: {n} utterances of {scp} -> {args.output_dir / name}")


if __name__ == "__main__":
    main()

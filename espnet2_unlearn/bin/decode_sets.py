"""Decodes several sets with one model in one process, loaded by ESPnet's own
inference class (espnet2.bin.cls_inference.Classification), writing what
`cls_inference --output_all_probabilities true` writes: per set,
OUT/<set>/prediction/{text,token,score}.  Utterances of equal length are
scored together (ESPnet's cls_inference takes one at a time); the scores
equal one-at-a-time scoring up to float rounding
(tests/recipe/test_stages_1_4.py).  Every stage that decodes (4, 6, 7) uses it.

    python -m espnet2_unlearn.bin.decode_sets --model_dir exp/gold_x \\
        --model_file valid.acc.ave.pth --output_dir exp/gold_x/decode \\
        train=dump/fbank/train test=dump/fbank/test
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


def decode_set(classifier, feats_scp: Path, out_dir: Path, max_frames: int) -> int:
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
    p.add_argument("--model_dir", type=Path, required=True, help="dir with config.yaml and the model file")
    p.add_argument("--model_file", required=True, help="model file in --model_dir")
    p.add_argument("--output_dir", type=Path, required=True)
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--max_frames", type=int, default=20000, help="padded frames per batch")
    p.add_argument("sets", nargs="+", help="NAME=DIR: a set and the dir of its feats.scp")
    args = p.parse_args(argv)
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

    from espnet2.bin.cls_inference import Classification

    torch.manual_seed(0)
    classifier = Classification(args.model_dir / "config.yaml", args.model_dir / args.model_file,
                                device="cuda" if args.ngpu > 0 else "cpu")
    for name, scp in sets:
        n = decode_set(classifier, scp, args.output_dir / name, args.max_frames)
        logging.info(f"{args.model_dir / args.model_file}: {n} utterances of {scp} -> {args.output_dir / name}")


if __name__ == "__main__":
    main()

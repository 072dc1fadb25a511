"""Decodes several sets with one model in one process, through ESPnet's own
inference class (espnet2.bin.cls_inference.Classification), writing what
`cls_inference --output_all_probabilities true` writes: per set,
OUT/<set>/prediction/{text,token,score}.  One process instead of one per set saves
the start-up of ESPnet, which dominates on small models.

    python -m espnet2_unlearn.bin.decode_sets --model_dir exp/gold_x \\
        --model_file valid.acc.best.pth --output_dir exp/gold_x/decode \\
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
from tqdm import tqdm


def decode_set(classifier, feats_scp: Path, out_dir: Path) -> int:
    """Writes OUT/prediction/{text,token,score} under a temporary name, then renames."""
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "prediction").mkdir(parents=True)
    n = 0
    pred = tmp / "prediction"
    with open(pred / "text", "w") as text, open(pred / "token", "w") as token, open(pred / "score", "w") as score:
        for utt, feats in tqdm(kaldiio.load_scp_sequential(str(feats_scp)), desc=out_dir.name, mininterval=5):
            ids, probs, label = classifier(torch.from_numpy(feats.copy()).float())
            text.write(f"{utt} {label}\n")
            token.write(f"{utt} " + " ".join(str(i) for i in ids) + "\n")
            score.write(f"{utt} " + " ".join(str(p) for p in probs.tolist()) + "\n")
            n += 1
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return n


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", type=Path, required=True, help="dir with config.yaml and the model file")
    p.add_argument("--model_file", required=True, help="model file in --model_dir")
    p.add_argument("--output_dir", type=Path, required=True)
    p.add_argument("--ngpu", type=int, default=0)
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
    for f in (args.model_dir / "config.yaml", args.model_dir / args.model_file):
        if not f.is_file():
            sys.exit(f"decode_sets: {f} does not exist")

    from espnet2.bin.cls_inference import Classification

    torch.manual_seed(0)
    classifier = Classification(args.model_dir / "config.yaml", args.model_dir / args.model_file,
                                device="cuda" if args.ngpu > 0 else "cpu")
    logging.getLogger().setLevel(logging.WARNING)  # Classification logs every utterance's length
    for name, scp in sets:
        n = decode_set(classifier, scp, args.output_dir / name)
        print(f"decode_sets: {args.model_dir / args.model_file}: {n} utterances of {scp} -> "
              f"{args.output_dir / name}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Stage 6: compare models on the forget set, the retain set (train minus
forget, read for evaluation only) and the test set, and run membership
inference against each.  Reads what espnet2.bin.cls_inference wrote.

    python -m espnet2_unlearn.bin.evaluate --token_list data/token_list \\
        --feats_dir dump/fbank --forget_list data/forget --forget_request utterance \\
        --model original=exp/ser_x/decode_train.loss.ave \\
        --model unlearned=exp/unlearn_forget/decode_unlearned --model gold=exp/gold_ser_x_3fa1c0d2e9b7/decode_train.loss.ave \\
        --output_dir exp/unlearn_forget/eval

Each model's decode dir holds one cls_inference output dir per set (train,
test, heldout), run with --output_all_probabilities true (or written by decode_sets).  When
a model named gold (retrained without the forget set) is among them, every
other model gets its gap to gold and, given timings, its speed-ups.  Every
model gets its differences from the original and from gold with paired
bootstrap 95 % intervals (same resampled utterances for both models).
"""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from espnet2_unlearn.metrics import bootstrap
from espnet2_unlearn.metrics.classification import classification_scores
from espnet2_unlearn.metrics.comparison import compare
from espnet2_unlearn.metrics import lira
from espnet2_unlearn.metrics.membership import attack_features, loss_auc, mia_efficacy
from espnet2_unlearn.metrics.predictions import load_predictions, read_token_list
from espnet2_unlearn.data.forget_list import ForgetSetError, read_forget_ids


def subset(pred, utts):
    index = {u: i for i, u in enumerate(pred["utts"])}
    rows = [index[u] for u in utts]
    return {
        "utts": list(utts),
        "refs": [pred["refs"][i] for i in rows],
        "hyps": [pred["hyps"][i] for i in rows],
        "probs": pred["probs"][rows],
        "loss": pred["loss"][rows],
    }


def features_labels(pred, index) -> np.ndarray:
    return np.array([index[r] for r in pred["refs"]])


def forget_confidences(decode_dirs, feats_dir: Path, forget_ids, classes, train_set="train") -> np.ndarray:
    """(models, n) logit-scaled true-class confidences of reference models on
    the forget set (sorted ids, as evaluate_model orders it)."""
    index = {c: i for i, c in enumerate(classes)}
    rows = []
    for d in decode_dirs:
        train = load_predictions(Path(d) / train_set, feats_dir / train_set / "text", classes)
        missing = sorted(set(forget_ids) - set(train["utts"]))
        if missing:
            raise ValueError(f"reference model {d}: forget utterance {missing[0]} was not decoded")
        forget = subset(train, sorted(set(forget_ids)))
        rows.append(lira.logit_confidence(forget["probs"], features_labels(forget, index)))
    return np.array(rows)


def test_correct(decode_dirs, feats_dir: Path, classes, utts, test_set="test") -> list:
    """Per model, correctness on the test utterances utts (in that order)."""
    rows = []
    for d in decode_dirs:
        pred = load_predictions(Path(d) / test_set, feats_dir / test_set / "text", classes)
        hit = {u: r == h for u, r, h in zip(pred["utts"], pred["refs"], pred["hyps"])}
        missing = [u for u in utts if u not in hit]
        if missing:
            raise ValueError(f"reference model {d}: test utterance {missing[0]} was not decoded")
        rows.append(np.array([hit[u] for u in utts]))
    return rows


def evaluate_model(decode_dir: Path, feats_dir: Path, forget_ids, classes, request, seed,
                   train_set="train", test_set="test", heldout_set="heldout"):
    train = load_predictions(decode_dir / train_set, feats_dir / train_set / "text", classes)
    missing = sorted(set(forget_ids) - set(train["utts"]))
    if missing:
        raise ValueError(f"forget utterance {missing[0]} is not in {feats_dir / train_set / 'text'}")
    forget_set = set(forget_ids)
    sets = {
        "forget": subset(train, sorted(forget_set)),
        "retain": subset(train, [u for u in train["utts"] if u not in forget_set]),
        "test": load_predictions(decode_dir / test_set, feats_dir / test_set / "text", classes),
    }
    # Non-members that stand for the forget set after retraining (docs/design.md):
    # unseen utterances of seen speakers, or unseen speakers.
    nonmember_name = heldout_set if request == "utterance" else test_set
    nonmember = sets["test"] if nonmember_name == test_set else load_predictions(
        decode_dir / nonmember_name, feats_dir / nonmember_name / "text", classes)
    index = {c: i for i, c in enumerate(classes)}

    def features(p):
        return attack_features(p["probs"], features_labels(p, index))

    result = {name: classification_scores(p["refs"], p["hyps"], classes) for name, p in sets.items()}
    mia = mia_efficacy(features(sets["retain"]), features(nonmember), features(sets["forget"]), seed=seed)
    # Per-utterance results, for the paired intervals between models.
    outcome = {
        "test_utts": list(sets["test"]["utts"]),
        "test_refs": np.array(sets["test"]["refs"]),
        "test_correct": np.array(sets["test"]["refs"]) == np.array(sets["test"]["hyps"]),
        "forget_correct": np.array(sets["forget"]["refs"]) == np.array(sets["forget"]["hyps"]),
        "forget_called_nonmember": mia["called_nonmember"],
        "forget_confidence": lira.logit_confidence(sets["forget"]["probs"], features_labels(sets["forget"], index)),
    }
    result["test"]["uar_interval"] = bootstrap.single(outcome["test_correct"], seed, refs=outcome["test_refs"])
    result["forget"]["accuracy_interval"] = bootstrap.single(outcome["forget_correct"], seed)
    result["mia"] = {
        "efficacy": mia["efficacy"],
        "efficacy_interval": bootstrap.single(mia["called_nonmember"], seed),
        "attack_train_accuracy": mia["attack_train_accuracy"],
        "nonmember_set": nonmember_name,
        "loss_auc_forget_vs_nonmember": loss_auc(sets["forget"]["loss"], nonmember["loss"]),
    }
    confusion = {name: [p["refs"], p["hyps"]] for name, p in sets.items()}
    return result, confusion, outcome


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--token_list", required=True)
    p.add_argument("--feats_dir", type=Path, default=Path("dump/fbank"))
    p.add_argument("--train_set", default="train", help="set the forget and retain sets are taken from")
    p.add_argument("--test_set", default="test", help="unseen speakers: non-members of speaker requests")
    p.add_argument("--heldout_set", default="heldout",
                   help="unseen utterances of training speakers: non-members of utterance requests")
    p.add_argument("--forget_list", required=True)
    p.add_argument("--forget_request", choices=["utterance", "speaker"], default="utterance")
    p.add_argument("--model", action="append", required=True, help="NAME=DECODE_DIR, in table order")
    p.add_argument("--report", action="append", default=[],
                   help="NAME=JSON: a model's forget_report.json, train_report.json or process_time.json; "
                        "its compute_time_s, process_time_s, peak_rss_mib, num_train_utts and "
                        "first_model_call_s are recorded")
    p.add_argument("--gold", default="gold", help="name of the gold-standard model, if one is given")
    p.add_argument("--reference_in", action="append", default=[],
                   help="DECODE_DIR of a reference model trained on the forget set (the source's config at "
                        "another seed): with --reference_out, every model gets the likelihood-ratio attack")
    p.add_argument("--reference_out", action="append", default=[],
                   help="DECODE_DIR of a reference model retrained without the forget set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output_dir", type=Path, required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    try:
        classes = read_token_list(args.token_list)
        forget_ids = read_forget_ids(args.forget_list)
        metrics = {"forget_request": args.forget_request, "num_forget_utts": len(forget_ids),
                   "classes": classes, "models": {}}
        confusions, outcomes = {}, {}
        for spec in args.model:
            name, _, decode_dir = spec.partition("=")
            if not (name and decode_dir):
                raise ValueError(f"--model expects NAME=DECODE_DIR, got '{spec}'")
            metrics["models"][name], confusions[name], outcomes[name] = evaluate_model(
                Path(decode_dir), args.feats_dir, forget_ids, classes, args.forget_request, args.seed,
                args.train_set, args.test_set, args.heldout_set)
        for spec in args.report:
            name, _, path = spec.partition("=")
            if name in metrics["models"]:
                with open(path, encoding="utf-8") as f:
                    report = json.load(f)
                for key in ("compute_time_s", "process_time_s", "peak_rss_mib", "num_train_utts",
                            "first_model_call_s"):
                    if report.get(key) is not None:
                        metrics["models"][name][key] = float(report[key])
        if args.reference_in or args.reference_out:
            phi_in, phi_out = (forget_confidences(dirs, args.feats_dir, forget_ids, classes, args.train_set)
                               for dirs in (args.reference_in, args.reference_out))
            attacked = lira.attack({n: o["forget_confidence"] for n, o in outcomes.items()}, phi_in, phi_out,
                                   seed=args.seed, floor=args.gold)
            for name, result in attacked["models"].items():
                metrics["models"][name]["lira"] = result
            if "floor" in attacked:
                metrics["attack_floor"] = attacked["floor"]
        # Gold's other seeds: the utility floor is judged against their mean with gold.
        seeds = test_correct(args.reference_out, args.feats_dir, classes, outcomes[args.gold]["test_utts"],
                             args.test_set) if args.reference_out and args.gold in outcomes else []
        compare(metrics, outcomes, seed=args.seed, gold=args.gold, gold_seeds=seeds)
        # Per forget utterance (in sorted-id order, no ids), for a bench to
        # pool the forgetting bar over forget sets (comparison.pooled_forgetting).
        for name, o in outcomes.items():
            metrics["models"][name]["forget_outcomes"] = {
                k: o[k].astype(int).tolist() for k in ("forget_correct", "forget_called_nonmember")}
    except (ValueError, OSError, ForgetSetError) as e:
        sys.exit(f"evaluate: {e}")

    from espnet2_unlearn.metrics.report import write_report

    args.output_dir.mkdir(parents=True, exist_ok=True)
    tmp = args.output_dir / "metrics.json.tmp"
    tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    os.replace(tmp, args.output_dir / "metrics.json")
    write_report(metrics, confusions, args.output_dir)
    logging.info(f"wrote {args.output_dir / 'metrics.json'} and {args.output_dir / 'RESULTS.md'}")


if __name__ == "__main__":
    main()

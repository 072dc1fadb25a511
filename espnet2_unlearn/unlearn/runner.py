"""One unlearning run: from a trained ESPnet classification model and the
forget set to a new, ESPnet-loadable model directory.

The source model's files are only read.  Everything is written under a
temporary directory next to the output and renamed at the end; on any error
the temporary directory is removed, so a failed run leaves nothing behind.
"""

import argparse
import copy
import hashlib
import json
import logging
import resource
import shutil
import time
from pathlib import Path
from typing import Dict, List

import torch
import torch.nn.functional as F
import yaml

from espnet2.tasks.cls import CLSTask
from espnet2_unlearn.model_calls import logits_of, pad
from espnet2_unlearn.unlearn.adversarial import make_adversarial_set, retention_loss
from espnet2_unlearn.unlearn.elastic import elastic_penalty, elastic_weights, mas_importance
from espnet2_unlearn.unlearn.forget_set import (
    ForgetSet,
    ForgetSetError,
    check_forget_ids,
    load_forget_set,
    read_forget_ids,
)
from espnet2_unlearn.unlearn.relabel import forget_loss, random_relabel
from espnet2_unlearn.unlearn.stopping import StopRule, resolve_target

MODEL_FILE = "unlearned.pth"
HYPERPARAMETERS = (
    "forget_loss", "adv_num", "adv_steps", "adv_step_size", "adv_clip", "adv_weight", "adv_target",
    "elastic_weight", "forget_target", "stop_metric", "forget_request", "max_steps",
    "batch_size", "update_mode", "optim", "optim_conf", "freeze_param", "seed",
)


class UnlearnError(ValueError):
    """Bad input to an unlearning run; nothing has been written."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@torch.no_grad()
def score(model, speech: List[torch.Tensor], labels: torch.Tensor):
    """Accuracy on the true labels and median per-utterance loss, in eval
    mode, one utterance at a time as espnet2.bin.cls_inference does (padding
    in a batch can move an utterance across a decision boundary)."""
    was_training = model.training
    model.eval()
    logits = torch.cat([logits_of(model, *pad([s])) for s in speech])
    model.train(was_training)
    losses = F.cross_entropy(logits, labels, reduction="none")
    return float((logits.argmax(-1) == labels).float().mean()), float(losses.median())


def check_inputs(args: argparse.Namespace):
    """Everything that can be checked before anything is written."""
    out = Path(args.output_dir)
    if out.exists():
        raise UnlearnError(f"output directory {out} already exists: every run writes a new directory")
    if args.source_model is None:
        raise UnlearnError("--source_model is required (a .pth of a trained ESPnet classification model)")
    model_file = Path(args.source_model)
    config_file = Path(args.source_config) if args.source_config else model_file.parent / "config.yaml"
    for f, what in ((config_file, "config"), (model_file, "model file")):
        if not f.is_file():
            raise UnlearnError(f"source {what} {f} does not exist")
    with open(config_file, encoding="utf-8") as f:
        model_conf = yaml.safe_load(f)
    token_list = model_conf.get("token_list")
    if isinstance(token_list, str):
        token_list = Path(token_list).read_text(encoding="utf-8").split()
    if not token_list or token_list[-1] != "<unk>":
        raise UnlearnError(f"{config_file} is not the config of an ESPnet classification model (no token list)")
    classes = token_list[:-1]
    if not args.forget_data_path_and_name_and_type:
        raise UnlearnError("--forget_data_path_and_name_and_type is required (speech and label of the forget set)")
    names = {name for _, name, _ in args.forget_data_path_and_name_and_type}
    if names != {"speech", "label"}:
        raise UnlearnError(f"the forget data must give 'speech' and 'label', got {sorted(names)}")
    if args.forget_loss not in ("relabel", "ascent", "none"):
        raise UnlearnError(f"--forget_loss must be relabel, ascent or none, got '{args.forget_loss}'")
    if args.update_mode not in ("train", "eval"):
        raise UnlearnError(f"--update_mode must be train or eval, got '{args.update_mode}'")
    if args.adv_target not in ("hard", "soft"):
        raise UnlearnError(f"--adv_target must be hard or soft, got '{args.adv_target}'")
    if args.stop_metric not in ("acc", "loss"):
        raise UnlearnError(f"--stop_metric must be acc or loss, got '{args.stop_metric}'")
    if args.forget_request not in ("utterance", "speaker"):
        raise UnlearnError(f"--forget_request must be utterance or speaker, got '{args.forget_request}'")
    try:
        ids = read_forget_ids(args.forget_list)
        check_forget_ids(ids, args.forget_data_path_and_name_and_type, classes)
        target = resolve_target(args.forget_target, args.stop_metric, model_file.parent, args.forget_request)
    except (ForgetSetError, ValueError) as e:
        raise UnlearnError(str(e)) from e
    return out, config_file, model_file, model_conf, classes, ids, target


def run_unlearning(args: argparse.Namespace) -> Dict:
    out, config_file, model_file, model_conf, classes, ids, (target, target_note) = check_inputs(args)
    source_hashes = {str(p): sha256(p) for p in (config_file, model_file)}
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    handler = logging.FileHandler(tmp / "unlearn.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        report = _unlearn(args, tmp, config_file, model_file, model_conf, classes, ids, target, target_note)
        report["source_sha256"] = source_hashes
        for p, h in source_hashes.items():
            if sha256(Path(p)) != h:  # never expected: the source is only read
                raise RuntimeError(f"source file {p} changed during unlearning")
        with open(tmp / "forget_report.json", "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        logging.getLogger().removeHandler(handler)
        handler.close()
        tmp.rename(out)
    except BaseException:
        logging.getLogger().removeHandler(handler)
        handler.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logging.info(f"unlearned model: {out / MODEL_FILE}; report: {out / 'forget_report.json'}")
    return report


def _unlearn(args, tmp: Path, config_file, model_file, model_conf, classes, ids, target, target_note) -> Dict:
    device = "cuda" if args.ngpu > 0 else "cpu"
    derived = tmp / "derived"  # data made from the forget set: deleted unless kept
    derived.mkdir()
    key_file = derived / "forget.ids"
    # ESPnet's streaming reader walks the data files in order: the keys must be sorted as they are.
    key_file.write_text("".join(u + "\n" for u in sorted(ids)), encoding="utf-8")

    model, model_args = CLSTask.build_model_from_file(config_file, model_file, device)
    for prefix in args.freeze_param:  # ESPnet's --freeze_param: these parameters stay as they are
        for name, p in model.named_parameters():
            if name == prefix or name.startswith(prefix + "."):
                p.requires_grad_(False)
    original = copy.deepcopy(model).eval()
    for p in original.parameters():
        p.requires_grad_(False)
    forget = load_forget_set(ids, args.forget_data_path_and_name_and_type, model_args, key_file)
    forget = ForgetSet(forget.utts, [s.to(device) for s in forget.speech], forget.labels.to(device))
    num_classes = len(classes)
    logging.info(f"forget set: {len(forget)} utterances ({args.forget_request} request); classes: {classes}")

    t0 = time.perf_counter()
    acc0, loss0 = score(model, forget.speech, forget.labels)
    rule = StopRule(args.stop_metric, target, args.max_steps)
    logging.info(f"before: forget accuracy {acc0:.3f}, median loss {loss0:.3f}; "
                 f"target {args.stop_metric} {target:.3f} ({target_note})")

    relabels = random_relabel(forget.labels.cpu(), num_classes, args.seed).to(device)
    adv = None
    if args.adv_weight > 0 and args.adv_num > 0:
        adv = make_adversarial_set(original, forget, num_classes, args.adv_num, args.adv_clip,
                                   args.adv_step_size, args.adv_steps, args.seed, args.batch_size)
        logging.info(f"adversarial examples: {len(adv.labels)}, attack success rate {adv.success_rate:.3f}")
        if args.keep_derived_data:
            torch.save({"speech": [s.cpu() for s in adv.speech], "labels": adv.labels.cpu(),
                        "targets": adv.targets, "sources": adv.sources}, derived / "adversarial.pt")
    weights = None
    if args.elastic_weight > 0:
        trainable = {n for n, p in model.named_parameters() if p.requires_grad}
        weights = {n: w for n, w in elastic_weights(mas_importance(copy.deepcopy(original).requires_grad_(True),
                                                                   forget)).items() if n in trainable}
        anchor = {n: p.detach().clone() for n, p in original.named_parameters()}
        mean_w = float(torch.cat([w.flatten() for w in weights.values()]).mean())
        logging.info(f"elastic weights: mean {mean_w:.3f} over {sum(w.numel() for w in weights.values())} parameters")

    from espnet2_unlearn.tasks.unlearn import UnlearnTask

    optimizer = UnlearnTask.build_optimizers(args, model)[0]
    generator = torch.Generator().manual_seed(args.seed)
    # Dropout on (train) or off (eval) during the updates; off keeps the
    # adversarial examples where theta0 labelled them.
    model.train(args.update_mode == "train")
    steps, acc, med = 0, acc0, loss0
    reached = rule.reached(acc0, loss0)
    while not reached and steps < args.max_steps:
        steps += 1
        idx = torch.randperm(len(forget), generator=generator)[: args.batch_size]
        terms = {}
        total = torch.zeros((), device=device)
        if args.forget_loss != "none":
            x, lengths = pad([forget.speech[i] for i in idx])
            terms["forget"] = forget_loss(logits_of(model, x, lengths), forget.labels[idx], relabels[idx],
                                          args.forget_loss)
            total = total + terms["forget"]
        if adv is not None:
            a_idx = torch.randperm(len(adv.labels), generator=generator)[: args.batch_size]
            x, lengths = pad([adv.speech[i] for i in a_idx])
            terms["adv"] = retention_loss(logits_of(model, x, lengths), adv, a_idx, args.adv_target)
            total = total + args.adv_weight * terms["adv"]
        if weights is not None:
            terms["elastic"] = elastic_penalty(model, anchor, weights)
            total = total + args.elastic_weight / 2 * terms["elastic"]
        if not terms:
            raise UnlearnError("every loss term is switched off: nothing to optimise")
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        acc, med = score(model, forget.speech, forget.labels)
        reached = rule.reached(acc, med)
        logging.info(f"step {steps}/{args.max_steps}: loss {float(total):.4f} ("
                     + ", ".join(f"{k} {float(v):.4f}" for k, v in terms.items())
                     + f"), forget accuracy {acc:.3f}, median loss {med:.3f}")
    wall = time.perf_counter() - t0
    logging.info(f"{'reached the target' if reached else 'stopped at max_steps'} after {steps} steps, {wall:.2f} s")

    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, tmp / MODEL_FILE)
    hyper = {k: getattr(args, k) for k in HYPERPARAMETERS}
    # The source config, unchanged but for a record of the unlearning, so
    # that ESPnet loads the new model exactly as the old one.
    conf = dict(model_conf)
    conf["unlearn_conf"] = {**hyper, "source_config": str(config_file), "source_model": str(model_file),
                            "num_forget_utts": len(forget)}
    with open(tmp / "config.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(conf, f, sort_keys=False, allow_unicode=True)
    if not args.keep_derived_data:
        shutil.rmtree(derived)
    return {
        "source_model": str(model_file),
        "source_config": str(config_file),
        "model_file": MODEL_FILE,
        "num_forget_utts": len(forget),
        "forget_request": args.forget_request,
        "forget_accuracy_before": acc0,
        "forget_accuracy_after": acc,
        "forget_median_loss_before": loss0,
        "forget_median_loss_after": med,
        "target": {"metric": args.stop_metric, "value": target, "source": target_note, "reached": reached},
        "steps": steps,
        # From the first scoring of the forget set to the last step: the work,
        # without start-up, loading and saving (process_time.json has those).
        "compute_time_s": wall,
        # Of the whole process so far (model, forget set, derived data), in MiB (Linux counts KiB).
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "hyperparameters": hyper,
        "adversarial": {
            "num_examples": 0 if adv is None else len(adv.labels),
            "attack_success_rate": None if adv is None else adv.success_rate,
        },
        "derived_data_kept": bool(args.keep_derived_data),
    }

"""One unlearning run: the loop and its outputs.  UnlearnTask builds what a
run needs (the source model, its optimiser and scheduler, the forget set) and
hands it here, as ESPnet's tasks hand theirs to a trainer.

The source model's files are only read.  Everything is written under a
temporary directory next to the output and renamed at the end; on any error
the temporary directory is removed, so a failed run leaves nothing behind.
"""

import copy
import json
import logging
import resource
import shutil
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from espnet2_unlearn.checksums import sha256_file
from espnet2_unlearn.lock import Busy, exclusive
from espnet2_unlearn.data.forget_list import content_key, served_requests
from espnet2_unlearn.model_calls import batched_logits
from espnet2_unlearn.unlearn.adversarial import max_distance
from espnet2_unlearn.unlearn.forget_batches import FORGET_BATCHES
from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.front_end import attached, fine_tuned_keys
from espnet2_unlearn.unlearn.inputs import UnlearnError, UnlearnInputs
from espnet2_unlearn.unlearn.options import UnlearnOptions
from espnet2_unlearn.unlearn.parts import Parts, build_parts
from espnet2_unlearn.unlearn.phases import Phases, process_age_s
from espnet2_unlearn.unlearn import layer_statistics
from espnet2_unlearn.unlearn.step_size import StepGrowth
from espnet2_unlearn.unlearn.stopping import LOG_REFERENCE_FILE, StopRule, log_reference
from espnet2_unlearn.unlearn.update_transforms import remaining_statistics

MODEL_FILE = "unlearned.pth"
# Where the output of a run that stopped short of its target is kept (not published).
UNREACHED_SUFFIX = ".unreached"


class TargetNotReached(UnlearnError):
    """The forget set did not reach its target within max_steps."""


def unreached_message(report: Dict, opts, marked: Path) -> str:
    metric, target = report["target"]["metric"], report["target"]["value"]
    before = report[{"acc": "forget_accuracy_before", "loss": "forget_median_loss_before",
                     "distribution": "forget_loss_distance_before"}[metric]]
    if metric == "acc":
        now, missed = report["forget_accuracy_after"], report["forget_accuracy_after"] - target
        what = f"forget accuracy {now:.3f} against a target of at most {target:.3f}"
    elif metric == "distribution":
        now, missed = report["forget_loss_distance_after"], report["forget_loss_distance_after"] - target
        what = (f"Kolmogorov-Smirnov distance {now:.3f} between the forget set's losses and the held-out ones, "
                f"against a target of at most {target:.3f}")
    else:
        now, missed = report["forget_median_loss_after"], target - report["forget_median_loss_after"]
        what = f"median forget loss {now:.3f} against a target of at least {target:.3f}"
    lr = (opts.optim_conf or {}).get("lr")
    return (f"the target was not reached: after {report['steps']} steps (--max_steps {opts.max_steps}) the "
            f"{what}, missed by {missed:.3f} (from {before:.3f} before). Nothing was "
            f"published; the run's output is in {marked}. Give it more steps (--max_steps {2 * opts.max_steps}) or "
            f"larger ones (--optim_conf lr={'%.1e' % (3 * lr) if lr else '...'})"
            + (", or let the projection protect less once the steps move nothing (--step_relax_patience 20, at "
               "a cost in retention: docs/design.md, 'A step size that adapts')" if opts.update_transform == "projection"
               and opts.step_relax_patience <= 0 else "")
            + ", or publish such a model with --allow_unreached true")


class Scores(NamedTuple):
    accuracy: float  # on the true labels
    median_loss: float
    losses: np.ndarray  # per utterance
    predictions: torch.Tensor  # per utterance


@torch.no_grad()
def scored(model, speech: List[torch.Tensor], labels: torch.Tensor) -> Scores:
    """The forget set scored in eval mode, in padded batches (the same as one
    utterance at a time, as espnet2.bin.cls_inference scores:
    model_calls.batched_logits)."""
    logits = batched_logits(model, speech)
    losses = F.cross_entropy(logits, labels, reduction="none")
    predictions = logits.argmax(-1)
    return Scores(float((predictions == labels).float().mean()), float(losses.median()), losses.cpu().numpy(),
                  predictions)


def score(model, speech: List[torch.Tensor], labels: torch.Tensor):
    """(accuracy, median loss) of scored()."""
    return scored(model, speech, labels)[:2]


def run_unlearning(opts: UnlearnOptions, inputs: UnlearnInputs, model, optimizer, scheduler,
                   forget: ForgetSet, phases: Optional[Phases] = None, front_end=None) -> Dict:
    """Unlearns, then writes the output dir; returns forget_report.json's
    content.  front_end: the model's front-end, taken out of it (front_end.py):
    the forget set is then its output, and it goes back in when the model is saved."""
    out = inputs.output_dir
    try:
        with exclusive(out.with_name(f".{out.name}.lock"), f"unlearning into {out}"):
            return _run_locked(opts, inputs, model, optimizer, scheduler, forget, phases or Phases(), front_end)
    except Busy as e:
        raise UnlearnError(str(e)) from e


def _run_locked(opts, inputs: UnlearnInputs, model, optimizer, scheduler, forget: ForgetSet, phases: Phases,
                front_end) -> Dict:
    out = inputs.output_dir
    if out.exists():  # published by another run after this one's checks
        raise UnlearnError(f"output directory {out} already exists: every run writes a new directory")
    source_hashes = {str(p): sha256_file(p) for p in (inputs.config_file, inputs.model_file)}
    # Everything goes into tmp and is published by one rename: a run that
    # fails or is killed leaves no output dir, and the next run of the
    # request (holding the lock) clears what a dead one left here.
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    handler = logging.FileHandler(tmp / "unlearn.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        report = _unlearn(opts, inputs, model, optimizer, scheduler, forget, tmp, phases, front_end)
        report["source_sha256"] = source_hashes
        for p, h in source_hashes.items():
            if sha256_file(Path(p)) != h:  # never expected: the source is only read
                raise RuntimeError(f"source file {p} changed during unlearning")
        with open(tmp / "forget_report.json", "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        if opts.stage_command:
            (tmp / "run.sh").write_text("#!/usr/bin/env bash\n# The command that made this directory.\n"
                                        f"{opts.stage_command}\n")
            (tmp / "run.sh").chmod(0o755)
        if opts.process_start is not None:
            # The whole process as the stage saw it (start-up, loading and saving included).
            (tmp / "process_time.json").write_text(
                json.dumps({"process_time_s": round(time.time() - opts.process_start, 3)}) + "\n")
        logging.getLogger().removeHandler(handler)
        handler.close()
        if not report["target"]["reached"] and not opts.allow_unreached:
            marked = out.with_name(out.name + UNREACHED_SUFFIX)
            shutil.rmtree(marked, ignore_errors=True)  # an earlier attempt of the same request
            tmp.rename(marked)
            raise TargetNotReached(unreached_message(report, opts, marked))
        tmp.rename(out)
    except BaseException:
        logging.getLogger().removeHandler(handler)
        handler.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logging.info(f"unlearned model: {out / MODEL_FILE}; report: {out / 'forget_report.json'}")
    return report


def _unlearn(opts, inputs: UnlearnInputs, model, optimizer, scheduler, forget: ForgetSet, tmp: Path,
             phases: Phases, front_end=None) -> Dict:
    original = copy.deepcopy(model).eval()
    for p in original.parameters():
        p.requires_grad_(False)
    logging.info(f"forget set: {len(forget)} utterances ({opts.forget_request} request); classes: {inputs.classes}")

    t0 = time.perf_counter()
    first_call = process_age_s()  # the start-up bar: process start to the first model call
    rule = StopRule(opts.stop_metric, inputs.target, opts.max_steps, inputs.loss_reference)
    with phases("first_scoring"):
        acc0, loss0, losses0, predictions0 = scored(model, forget.speech, forget.labels)
    logging.info(f"before: forget accuracy {acc0:.3f}, median loss {loss0:.3f}"
                 + (f", distance to the held-out losses {rule.distance(losses0):.3f}" if rule.reference else "")
                 + f"; target {opts.stop_metric} {inputs.target:.3f} ({inputs.target_note})")
    if rule.reached(acc0, loss0, losses0):
        # A source that already passes (a model that generalises) takes no
        # step: the adversarial set, the weights and the projection would serve none.
        logging.info("the forget set already meets the target: no update, nothing to build for one")
        parts = Parts()
    else:
        parts = build_parts(opts, model, original, forget, inputs.class_ids, phases, inputs.target,
                            inputs.model_file.parent, inputs.loss_reference)
    growth = StepGrowth(optimizer, scheduler, opts.stop_metric, opts.step_growth, opts.step_patience,
                        opts.step_growth_max, parts.transforms, opts.step_relax_patience, opts.step_relax_restart,
                        opts.step_relax_when)
    steps, acc, med, reached, step_log, losses = update_until_target(
        opts, model, optimizer, scheduler, forget, parts, rule, acc0, loss0, phases, growth, losses0, predictions0)
    compute = time.perf_counter() - t0
    logging.info(f"{'reached the target' if reached else 'stopped at max_steps'} after {steps} steps, "
                 f"{compute:.2f} s")

    with phases("saving"):
        hyper = _save(opts, inputs, model, original, parts, forget, tmp, front_end)
    adv, made = parts.adversarial_set, getattr(parts.term("adv"), "made", {})
    distance = (None, None) if adv is None else max_distance(original, adv, forget)
    return {
        "source_model": str(inputs.model_file),
        "source_config": str(inputs.config_file),
        "model_file": MODEL_FILE,
        "num_forget_utts": len(forget),
        "forget_request": opts.forget_request,
        # The model's front-end, which unlearning acted past (None: the model reads features)
        "front_end": None if front_end is None else type(front_end).__name__,
        # tensors of an SSL front-end that training changed (front_end.fine_tuned_keys), left as they are
        "front_end_fine_tuned": len(fine_tuned_keys(front_end)),
        "forget_accuracy_before": acc0,
        "forget_accuracy_after": acc,
        "forget_median_loss_before": loss0,
        "forget_median_loss_after": med,
        # Kolmogorov-Smirnov distance of the forget set's losses to the held-out ones (stop_metric distribution)
        "forget_loss_distance_before": rule.distance(losses0),
        "forget_loss_distance_after": rule.distance(losses),
        "target": {"metric": opts.stop_metric, "value": inputs.target, "source": inputs.target_note,
                   "reached": reached},
        "steps": steps,
        # Steps after which the learning rate grew (step_size.py: no progress for step_patience steps)
        "step_growth_at": growth.grown_at,
        # Steps after which the projection was relaxed, and the energy it protected at the end
        "projection_relaxed_at": growth.relaxed_at,
        "projection_energy_final": next((t.energy for t in parts.transforms if hasattr(t, "relax")), None),
        # Per layer: dimensions of the remaining data's input subspace that projection protects, of all.
        "projection": {t.name: t.dims() for t in parts.transforms if hasattr(t, "dims")},
        # From the first scoring of the forget set to the last step: the work,
        # without start-up, loading and saving (process_time.json has those).
        "compute_time_s": compute,
        # Seconds from the process's start to its first model call (None where /proc is missing).
        "first_model_call_s": first_call,
        # Of the whole process so far (model, forget set, derived data), in MiB (Linux counts KiB).
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "hyperparameters": hyper,
        "adversarial": {
            "num_examples": 0 if adv is None else len(adv.labels),  # those trained on (away_from_source)
            "num_examples_made": made.get("num_examples_made", 0),
            "attack_success_rate": made.get("attack_success_rate"),
            # L-inf, over all examples: in feature units, and in adv_clip's units
            "max_distance": distance[0],
            "max_distance_in_clip_units": distance[1],
        },
        "derived_data_kept": bool(opts.keep_derived_data),
        # Seconds per phase: startup (interpreter and imports), load (model and
        # forget set), first_scoring, statistics, pgd, mas, steps (updates), scoring (after
        # each update), saving.
        "phases_s": phases.seconds,
        # Per step: each term's value and its share of the gradient.
        "step_log": step_log,
    }


def _gradients(model, losses: Dict[str, torch.Tensor], fixed: Dict[str, Dict[str, torch.Tensor]]):
    """Each term's gradient over the trainable parameters (the terms come
    from separate forward passes, so this costs what one backward of their
    sum would) plus the gradients given in closed form (fixed, per term and
    parameter name), set as the parameters' .grad; returns each term's share
    of the total gradient, <g_term, g> / |g|^2 (the shares add up to 1)."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    per_term = {}
    for name, loss in losses.items():
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        per_term[name] = [torch.zeros_like(p) if g is None else g for p, g in zip(params.values(), grads)]
    for name, gradient in fixed.items():
        per_term[name] = [gradient.get(n, torch.zeros_like(p)) for n, p in params.items()]
    total = [sum(gs) for gs in zip(*per_term.values())]
    for p, g in zip(params.values(), total):
        p.grad = g.clone()
    norm2 = sum(float((g * g).sum()) for g in total)
    return {name: (sum(float((a * b).sum()) for a, b in zip(gs, total)) / norm2 if norm2 > 0 else 0.0)
            for name, gs in per_term.items()}


def update_until_target(opts, model, optimizer, scheduler, forget: ForgetSet, parts: Parts, rule: StopRule, acc, med,
                        phases: Optional[Phases] = None, growth: Optional[StepGrowth] = None, losses=None,
                        predictions: Optional[torch.Tensor] = None):
    """Steps until the stop rule is met or max_steps: each step the forget
    objective on a batch of forget utterances (--forget_batch: which ones)
    and every retention term, one optimiser step, then every update
    transform.  predictions: the forget set's before the first step (None:
    scored here when the batch choice reads them).  Returns (steps, forget
    accuracy, median loss, reached, per-step log, per-utterance losses)."""
    phases = phases or Phases()
    generator = torch.Generator().manual_seed(opts.seed)
    choose = FORGET_BATCHES[opts.forget_batch]
    reads_predictions = opts.forget_batch != "random" and parts.objective is not None
    if reads_predictions and predictions is None:
        predictions = scored(model, forget.speech, forget.labels).predictions
    # Dropout on (train) or off (eval) during the updates; off keeps the
    # adversarial examples where theta0 labelled them.
    model.train(opts.update_mode == "train")
    steps, log = 0, []
    reached = rule.reached(acc, med, losses)
    while not reached and steps < opts.max_steps:
        steps += 1
        with phases("steps"):
            pending = (parts.objective.pending(forget, predictions) if reads_predictions
                       else torch.ones(len(forget), dtype=torch.bool))
            idx = choose(generator, opts.batch_size, pending)
            terms, losses, fixed = {}, {}, {}
            if parts.objective is not None:
                losses["forget"] = parts.objective.loss(model, forget, idx)
                terms["forget"] = losses["forget"].detach()
            for term in parts.terms:
                c = term.step(model, generator, opts.batch_size)
                terms[term.name] = c.value.detach()
                if c.loss is not None:
                    losses[term.name] = c.loss
                if c.gradient is not None:
                    fixed[term.name] = c.gradient
            if not losses:
                raise UnlearnError("every loss term is switched off: nothing to optimise")
            optimizer.zero_grad(set_to_none=True)
            shares = _gradients(model, losses, fixed)
            if opts.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), opts.grad_clip, norm_type=opts.grad_clip_type)
            before = {n: p.detach().clone() for n, p in model.named_parameters()} if parts.transforms else None
            optimizer.step()
            for transform in parts.transforms:
                transform.apply(model, before)
            if scheduler is not None:
                scheduler.step()
        with phases("scoring"):
            acc, med, losses, predictions = scored(model, forget.speech, forget.labels)
        reached = rule.reached(acc, med, losses)
        distance = rule.distance(losses) if rule.reference else None
        if growth is not None and not reached:
            growth.after_step(steps, acc, med, distance)
        log.append({"step": steps, "terms": {k: float(v) for k, v in terms.items()}, "gradient_share": shares,
                    "forget_accuracy": acc, "forget_median_loss": med,
                    **({"forget_loss_distance": distance} if rule.reference else {})})
        logging.info(f"step {steps}/{opts.max_steps}: "
                     + ", ".join(f"{k} {float(v):.4g}" for k, v in terms.items())
                     + "; gradient share " + ", ".join(f"{k} {v:.3f}" for k, v in shares.items())
                     + f"; forget accuracy {acc:.3f}, median loss {med:.3f}"
                     + (f", distance to the held-out losses {distance:.3f}" if distance is not None else ""))
    return steps, acc, med, reached, log, losses


def _save(opts, inputs: UnlearnInputs, model, original, parts: Parts, forget: ForgetSet, tmp: Path,
          front_end=None) -> Dict:
    """The model (its front-end back in) and a config.yaml that ESPnet loads
    unchanged; with --keep_derived_data, the forget ids and the adversarial examples."""
    with attached(model, front_end) as whole:
        torch.save({k: v.cpu() for k, v in whole.state_dict().items()}, tmp / MODEL_FILE)
    hyper = opts.hyperparameters()
    # The source config, unchanged but for a record of the unlearning, so
    # that ESPnet loads the new model exactly as the old one.
    conf = dict(inputs.model_conf)
    # Lineage: every request this model has served, so that a later
    # request's gold model leaves all of them out (bin/forget_list.py).
    served = served_requests(inputs.model_conf) + [{
        "request": (opts.request_name or inputs.output_dir.name), "forget_list": str(opts.forget_list),
        "forget_key": content_key(forget.utts), "num_forget_utts": len(forget),
        "model": str(inputs.output_dir / MODEL_FILE)}]
    conf["unlearn_conf"] = {**hyper, "source_config": str(inputs.config_file), "source_model": str(inputs.model_file),
                            "num_forget_utts": len(forget), "requests_served": served}
    with open(tmp / "config.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(conf, f, sort_keys=False, allow_unicode=True)
    # The source's reference figures (numbers only) go along: a later
    # request served from this model stops at the same 'auto' target.
    if (inputs.model_file.parent / "reference_stats.json").is_file():
        shutil.copy(inputs.model_file.parent / "reference_stats.json", tmp / "reference_stats.json")
    if not (inputs.model_file.parent / "reference_stats.json").is_file():
        reference = log_reference(inputs.model_file.parent)  # a model trained elsewhere: its log's figures
        if reference is not None:
            (tmp / LOG_REFERENCE_FILE).write_text(json.dumps(reference, indent=2) + "\n", encoding="utf-8")
    # The training statistics less this request's utterances: a later request
    # from this model starts from statistics without them.
    statistics = parts.statistics
    source_statistics = inputs.model_file.parent / layer_statistics.STATISTICS_FILE
    if statistics is None and source_statistics.is_file():
        statistics = remaining_statistics(original, forget, inputs.model_file.parent)
    if statistics is not None:
        record = dict(statistics.get("record", {}))
        record["downdated_by"] = list(record.get("downdated_by", [])) + [{
            "request": (opts.request_name or inputs.output_dir.name), "forget_key": content_key(forget.utts),
            "num_utts": len(forget)}]
        layer_statistics.save(statistics, tmp / layer_statistics.STATISTICS_FILE, record)
    if opts.keep_derived_data:
        derived = tmp / "derived"
        derived.mkdir()
        (derived / "forget.ids").write_text("".join(u + "\n" for u in forget.utts), encoding="utf-8")
        adv = parts.adversarial_set
        if adv is not None:
            torch.save({"speech": [s.cpu() for s in adv.speech], "labels": adv.labels.cpu(),
                        "targets": adv.targets, "sources": adv.sources}, derived / "adversarial.pt")
    return hyper

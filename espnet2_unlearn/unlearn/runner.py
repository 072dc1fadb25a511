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
import math
import resource
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
import yaml

from espnet2_unlearn.checksums import sha256_file
from espnet2_unlearn.lock import Busy, exclusive
from espnet2_unlearn.data.forget_list import content_key, served_requests
from espnet2_unlearn.model_calls import batched_logits, logits_in_chunks
from espnet2_unlearn.unlearn.adversarial import (AdversarialSet, away_from_source, make_adversarial_set, max_distance,
                                                 retention_loss)
from espnet2_unlearn.unlearn.dampening import IMPORTANCE_FILE, dampen, fisher_diagonal, load_importance
from espnet2_unlearn.unlearn.elastic import (damp_update, elastic_gradient, elastic_penalty, elastic_weights,
                                            mas_importance)
from espnet2_unlearn.unlearn.saliency import mask_gradients, saliency_mask
from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.front_end import attached, fine_tuned_keys
from espnet2_unlearn.unlearn.inputs import UnlearnError, UnlearnInputs
from espnet2_unlearn.unlearn.options import UnlearnOptions
from espnet2_unlearn.unlearn.phases import Phases, process_age_s
from espnet2_unlearn.unlearn import layer_statistics
from espnet2_unlearn.unlearn.curvature import CurvatureStep, kfac_direction
from espnet2_unlearn.unlearn.nearest_adversarial import nearest_adversarial_set
from espnet2_unlearn.unlearn.objectives import LabelObjective, NearestAdversarialObjective
from espnet2_unlearn.unlearn.projection import ProjectedUpdate, protected_bases
from espnet2_unlearn.unlearn.relabel import heldout_loss_targets, random_relabel, soften_kept, targeted_relabel
from espnet2_unlearn.unlearn.step_size import StepGrowth
from espnet2_unlearn.unlearn.stopping import LOG_REFERENCE_FILE, StopRule, log_reference, resolve_target

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


@torch.no_grad()
def scored(model, speech: List[torch.Tensor], labels: torch.Tensor):
    """Accuracy on the true labels, median per-utterance loss and the losses
    themselves, in eval mode, in batches of equal length (the same as one
    utterance at a time, as espnet2.bin.cls_inference scores:
    model_calls.batched_logits)."""
    logits = batched_logits(model, speech)
    losses = F.cross_entropy(logits, labels, reduction="none")
    return float((logits.argmax(-1) == labels).float().mean()), float(losses.median()), losses.cpu().numpy()


def score(model, speech: List[torch.Tensor], labels: torch.Tensor):
    """(accuracy, median loss) of scored()."""
    return scored(model, speech, labels)[:2]


@dataclass
class Retention:
    """What stands for the rest of the data: the relabeled targets of the
    forget set, the adversarial examples and the elastic weights."""
    relabels: torch.Tensor
    adv: Optional[AdversarialSet]
    weights: Optional[Dict[str, torch.Tensor]]
    anchor: Optional[Dict[str, torch.Tensor]]
    mask: Optional[Dict[str, torch.Tensor]] = None  # weights that may move (None: all)
    objective: Optional[object] = None  # the forget term (objectives.py); None: none
    transforms: List = field(default_factory=list)  # applied to every optimiser step (update transforms)
    curvature: Optional[CurvatureStep] = None  # one damped Newton step before the updates
    statistics: Optional[Dict] = None  # the training statistics less the forget set's (carried on)
    adv_made: Dict = field(default_factory=dict)  # examples made and the attack's success rate, before away_from_source


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
        acc0, loss0, losses0 = scored(model, forget.speech, forget.labels)
    logging.info(f"before: forget accuracy {acc0:.3f}, median loss {loss0:.3f}"
                 + (f", distance to the held-out losses {rule.distance(losses0):.3f}" if rule.reference else "")
                 + f"; target {opts.stop_metric} {inputs.target:.3f} ({inputs.target_note})")
    dampened, acc, med = 0, acc0, loss0
    if opts.dampening_alpha > 0:
        with phases("dampening"):
            dampened = dampen(model, fisher_diagonal(model, forget.speech, forget.labels),
                              load_importance(inputs.model_file.parent / IMPORTANCE_FILE), opts.dampening_alpha,
                              opts.dampening_strength)
            acc, med = score(model, forget.speech, forget.labels)
        logging.info(f"dampening: {dampened} weights shrunk; forget accuracy {acc:.3f}, median loss {med:.3f}")
    if dampened == 0 and rule.reached(acc0, loss0, losses0):
        # A source that already passes (a model that generalises) takes no
        # step: the adversarial set, the weights and the projection would serve none.
        logging.info("the forget set already meets the target: no update, nothing to build for one")
        retention = Retention(forget.labels, None, None, None)
    else:
        retention = build_retention(opts, model, original, forget, inputs.class_ids, phases, inputs.target,
                                    inputs.model_file.parent, inputs.loss_reference)
    curvature = None
    if retention.curvature is not None:
        with phases("curvature"):
            eta, evaluations, acc, med = retention.curvature.run(
                model, lambda: score(model, forget.speech, forget.labels), rule.reached)
        curvature = {"eta": eta, "unit": retention.curvature.unit, "evaluations": evaluations,
                     "forget_accuracy": acc, "forget_median_loss": med}
        logging.info(f"curvature step: eta {eta:g} after {evaluations} evaluations; forget accuracy {acc:.3f}")
    growth = StepGrowth(optimizer, scheduler, opts.stop_metric, opts.step_growth, opts.step_patience,
                        opts.step_growth_max, retention.transforms, opts.step_relax_patience)
    losses = losses0 if dampened == 0 and curvature is None else scored(model, forget.speech, forget.labels)[2]
    steps, acc, med, reached, step_log, losses = update_until_target(
        opts, model, optimizer, scheduler, forget, retention, rule, acc, med, phases, growth, losses)
    compute = time.perf_counter() - t0
    logging.info(f"{'reached the target' if reached else 'stopped at max_steps'} after {steps} steps, "
                 f"{compute:.2f} s")

    with phases("saving"):
        hyper = _save(opts, inputs, model, original, retention, forget, tmp, front_end)
    adv = retention.adv
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
        "projection_energy_final": next((t.energy for t in retention.transforms if hasattr(t, "relax")), None),
        "dampened_weights": dampened,
        "curvature_step": curvature,
        # Per layer: dimensions of the remaining data's input subspace that projection protects, of all.
        "projection": {t.name: t.dims() for t in retention.transforms if hasattr(t, "dims")},
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
            "num_examples_made": retention.adv_made.get("num_examples_made", 0),
            "attack_success_rate": retention.adv_made.get("attack_success_rate"),
            # L-inf, over all examples: in feature units, and in adv_clip's units
            "max_distance": distance[0],
            "max_distance_in_clip_units": distance[1],
        },
        "derived_data_kept": bool(opts.keep_derived_data),
        # Seconds per phase: startup (interpreter and imports), load (model and
        # forget set), first_scoring, dampening, pgd, mas, steps (updates), scoring (after
        # each update), saving.
        "phases_s": phases.seconds,
        # Per step: each term's value and its share of the gradient.
        "step_log": step_log,
    }


def build_retention(opts, model, original, forget: ForgetSet, classes: Sequence[int],
                    phases: Optional[Phases] = None, target: Optional[float] = None,
                    model_dir: Optional[Path] = None, loss_reference=None) -> Retention:
    """The relabeled targets, the adversarial examples and the elastic weights,
    each made once before the first update (each switchable).  classes: the
    outputs that are labels (inputs.label_classes), the only targets."""
    phases = phases or Phases()
    if opts.forget_loss == "targeted":
        with torch.no_grad():
            probs = batched_logits(original, forget.speech).softmax(-1)
        relabels = targeted_relabel(probs, forget.labels, target, classes)
        logging.info(f"targeted relabeling: {int((relabels != forget.labels).sum())} of {len(forget)} labels changed")
        if opts.kept_target == "heldout":
            loss, note = resolve_target("auto", "loss", model_dir, opts.forget_request)
            relabels = soften_kept(relabels, forget.labels, classes, probs.shape[-1], math.exp(-loss))
            logging.info(f"kept labels: true class at probability {math.exp(-loss):.3f} ({note})")
    elif opts.forget_loss == "heldout_losses":
        with torch.no_grad():
            probs = batched_logits(original, forget.speech).softmax(-1)
        relabels = heldout_loss_targets(probs, forget.labels, loss_reference, classes)
        logging.info(f"held-out loss targets: true class at probability {float(relabels.max(1).values.min()):.3f} "
                     f"to {float(relabels.gather(1, forget.labels.view(-1, 1)).max()):.3f} "
                     f"({loss_reference.note})")
    elif opts.forget_loss == "nearest_adv":
        relabels = forget.labels
    else:
        relabels = random_relabel(forget.labels.cpu(), classes, opts.seed).to(forget.labels.device)
    objective = None
    if opts.forget_loss == "nearest_adv":
        with phases("pgd"):
            near = nearest_adversarial_set(original, forget, classes, opts.adv_steps, opts.seed)
        logging.info(f"nearest adversarial examples: {int((near.labels != forget.labels.cpu()).sum())} of "
                     f"{len(forget)} flipped, median radius {float(near.targets.median()):g}")
        objective = NearestAdversarialObjective(near)
    elif opts.forget_loss != "none":
        objective = LabelObjective(opts.forget_loss, relabels)
    statistics, transforms, curvature = None, [], None
    if opts.update_transform != "none" or opts.curvature_step != "none":
        with phases("statistics"):
            statistics = remaining_statistics(original, forget, model_dir)
        if opts.update_transform == "projection":
            transforms.append(ProjectedUpdate(model, protected_bases(statistics, opts.projection_energy), statistics,
                                              opts.projection_energy))
            kept = transforms[-1].dims()
            logging.info("projection: protected dimensions per layer " + ", ".join(
                f"{n} {k}/{d}" for n, (k, d) in kept.items()))
        if opts.curvature_step == "kfac":
            with torch.enable_grad():
                direction = kfac_direction(copy.deepcopy(original).requires_grad_(True), statistics,
                                           forget.speech, forget.labels, opts.curvature_damping)
            curvature = CurvatureStep(model, direction)
    adv, adv_record = None, {}
    if opts.adv_weight > 0 and opts.adv_num > 0:
        with phases("pgd"):
            adv = make_adversarial_set(original, forget, classes, opts.adv_num, opts.adv_clip,
                                       opts.adv_step_size, opts.adv_steps, opts.seed)
        made = len(adv.labels)
        success = adv.success_rate
        adv = away_from_source(adv, forget)
        logging.info(f"adversarial examples: {made}, attack success rate {success:.3f}; {len(adv.labels)} labelled "
                     f"with another class than their source's are kept")
        adv_record = {"num_examples_made": made, "attack_success_rate": success}
        if len(adv.labels) == 0:
            logging.warning("no adversarial example is labelled with another class than its source: the "
                            "adversarial term is off for this run")
            adv = None
    weights = anchor = mask = importance = None
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    if opts.elastic_weight > 0 or opts.saliency_fraction < 1:
        with phases("mas"):
            importance = mas_importance(copy.deepcopy(original).requires_grad_(True), forget)
    if opts.saliency_fraction < 1:
        mask = saliency_mask({n: imp for n, imp in importance.items() if n in trainable}, opts.saliency_fraction)
        logging.info(f"saliency mask: {sum(int(m.sum()) for m in mask.values())} of "
                     f"{sum(m.numel() for m in mask.values())} weights may move")
    if opts.elastic_weight > 0:
        weights = {n: w for n, w in elastic_weights(importance).items() if n in trainable}
        anchor = {n: p.detach().clone() for n, p in original.named_parameters()}
        mean_w = float(torch.cat([w.flatten() for w in weights.values()]).mean())
        logging.info(f"elastic weights: mean {mean_w:.3f} over {sum(w.numel() for w in weights.values())} parameters")
    if opts.elastic_weight > 0 and opts.elastic_mode == "update":
        transforms.append(ElasticDamping(weights, opts.elastic_weight))
    return Retention(relabels, adv, weights, anchor, mask, objective, transforms, curvature, statistics, adv_record)


def remaining_statistics(original, forget: ForgetSet, model_dir: Path) -> Dict:
    """The training statistics beside the source model less the forget set's
    contribution, computed with the source model (layer_statistics.py)."""
    path = Path(model_dir) / layer_statistics.STATISTICS_FILE
    stats = layer_statistics.load(path)
    try:
        layer_statistics.check_against(stats, original, path)
    except layer_statistics.StatisticsError as e:
        raise UnlearnError(str(e)) from e
    seed = stats.get("record", {}).get("seed", 0)
    with torch.enable_grad():
        layer_statistics.accumulate(copy.deepcopy(original).requires_grad_(True), forget.speech, forget.utts, seed,
                                    stats=stats, sign=-1)
    if stats["utts"] < 1:
        raise UnlearnError(f"{path} holds {stats['utts'] + len(forget)} utterances: nothing would remain")
    return stats


class ElasticDamping:
    """elastic_mode update: each step's change of a weight divided by 1 + lambda omega."""

    name = "elastic_damping"

    def __init__(self, weights, strength: float):
        self.weights, self.strength = weights, strength

    def apply(self, model, before) -> None:
        damp_update(model, before, self.weights, self.strength)


def _gradients(model, losses: Dict[str, torch.Tensor], elastic: Optional[Dict[str, torch.Tensor]]):
    """Each term's gradient over the trainable parameters (the terms come
    from separate forward passes, so this costs what one backward of their
    sum would), set as the parameters' .grad; returns each term's share of
    the total gradient, <g_term, g> / |g|^2 (the shares add up to 1)."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    per_term = {}
    for name, loss in losses.items():
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        per_term[name] = [torch.zeros_like(p) if g is None else g for p, g in zip(params.values(), grads)]
    if elastic is not None:
        per_term["elastic"] = [elastic.get(n, torch.zeros_like(p)) for n, p in params.items()]
    total = [sum(gs) for gs in zip(*per_term.values())]
    for p, g in zip(params.values(), total):
        p.grad = g.clone()
    norm2 = sum(float((g * g).sum()) for g in total)
    return {name: (sum(float((a * b).sum()) for a, b in zip(gs, total)) / norm2 if norm2 > 0 else 0.0)
            for name, gs in per_term.items()}


def update_until_target(opts, model, optimizer, scheduler, forget: ForgetSet, r: Retention, rule: StopRule, acc, med,
                        phases: Optional[Phases] = None, growth: Optional[StepGrowth] = None, losses=None):
    """Steps until the forget set reaches the target or max_steps: returns
    (steps, forget accuracy, median loss, reached, per-step log, per-utterance losses)."""
    phases = phases or Phases()
    generator = torch.Generator().manual_seed(opts.seed)
    # Dropout on (train) or off (eval) during the updates; off keeps the
    # adversarial examples where theta0 labelled them.
    model.train(opts.update_mode == "train")
    steps, log = 0, []
    reached = rule.reached(acc, med, losses)
    while not reached and steps < opts.max_steps:
        steps += 1
        with phases("steps"):
            idx = torch.randperm(len(forget), generator=generator)[: opts.batch_size]
            terms, losses = {}, {}
            if r.objective is not None:
                terms["forget"] = r.objective.loss(model, forget, idx)
                losses["forget"] = terms["forget"]
            if r.adv is not None:
                a_idx = torch.randperm(len(r.adv.labels), generator=generator)[: opts.batch_size]
                terms["adv"] = retention_loss(logits_in_chunks(model, [r.adv.speech[i] for i in a_idx]), r.adv, a_idx,
                                              opts.adv_target)
                losses["adv"] = opts.adv_weight * terms["adv"]
            elastic = None
            if r.weights is not None:
                with torch.no_grad():
                    terms["elastic"] = elastic_penalty(model, r.anchor, r.weights)
                if opts.elastic_mode == "penalty":
                    elastic = elastic_gradient(model, r.anchor, r.weights, opts.elastic_weight)
            if not losses:
                raise UnlearnError("every loss term is switched off: nothing to optimise")
            optimizer.zero_grad(set_to_none=True)
            shares = _gradients(model, losses, elastic)
            if r.mask is not None:
                mask_gradients(model, r.mask)
            if opts.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), opts.grad_clip, norm_type=opts.grad_clip_type)
            before = {n: p.detach().clone() for n, p in model.named_parameters()} if r.transforms else None
            optimizer.step()
            for transform in r.transforms:
                transform.apply(model, before)
            if scheduler is not None:
                scheduler.step()
        with phases("scoring"):
            acc, med, losses = scored(model, forget.speech, forget.labels)
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


def _save(opts, inputs: UnlearnInputs, model, original, r: Retention, forget: ForgetSet, tmp: Path,
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
    # The source's reference figures and training importance (numbers only)
    # go along: a later request served from this model stops at the same
    # 'auto' target and can dampen.
    for name in ("reference_stats.json", IMPORTANCE_FILE):
        if (inputs.model_file.parent / name).is_file():
            shutil.copy(inputs.model_file.parent / name, tmp / name)
    if not (inputs.model_file.parent / "reference_stats.json").is_file():
        reference = log_reference(inputs.model_file.parent)  # a model trained elsewhere: its log's figures
        if reference is not None:
            (tmp / LOG_REFERENCE_FILE).write_text(json.dumps(reference, indent=2) + "\n", encoding="utf-8")
    # The training statistics less this request's utterances: a later request
    # from this model starts from statistics without them.
    statistics = r.statistics
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
        if r.adv is not None:
            torch.save({"speech": [s.cpu() for s in r.adv.speech], "labels": r.adv.labels.cpu(),
                        "targets": r.adv.targets, "sources": r.adv.sources}, derived / "adversarial.pt")
    return hyper

"""Stage 5's options, declared once.  Each is a field of UnlearnOptions
with its default, help, choices and bounds; from it come the task's
argument parser (tasks/unlearn.py), the checks of inputs.py, the
hyper-parameters recorded in the output (runner.py), and the options the
tests build.  As ESPnet's trainer builds its TrainerOptions from the parsed
arguments, the runner is given UnlearnOptions, not the Namespace.

The options of ESPnet's training that unlearning uses (seed, batch_size,
optim, ...) are fields too, marked inherited: ESPnet's parser declares
them, and their defaults here are ESPnet's."""

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from espnet2.utils.types import str2bool, str2triple_str, str_or_none


def forget_target(value: str):
    """'auto' or a number."""
    if value == "auto":
        return value
    return float(value)


def option(default, help: str = "", choices: Sequence[str] = (), low=None, inclusive: bool = True,
           high: Optional[float] = None, integer: bool = False, parse=None, hyper: bool = True,
           inherited: bool = False, append: bool = False):
    """A field of UnlearnOptions.  low/inclusive/high: the numeric bounds
    (zero switches a weight off; a count, radius, step size or learning rate
    of zero would make its part do nothing without saying so); hyper: recorded
    in the output's hyper-parameters; inherited: declared by ESPnet's parser."""
    meta = dict(help=help, choices=tuple(choices), low=low, inclusive=inclusive, high=high, integer=integer,
                parse=parse, hyper=hyper, inherited=inherited, append=append)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class UnlearnOptions:
    # what to unlearn, and where from
    source_model: Optional[str] = option(None, "The .pth of the trained classification model to unlearn from",
                                         parse=str_or_none, hyper=False)
    source_config: Optional[str] = option(None, "Its config.yaml (default: next to --source_model)",
                                          parse=str_or_none, hyper=False)
    forget_list: Optional[str] = option(None, "Utterances to forget: a Kaldi data dir or a file of utterance ids",
                                        parse=str_or_none, hyper=False)
    forget_data_path_and_name_and_type: List[Tuple[str, str, str]] = option(
        [], "Where the forget utterances' speech and label are, e.g. dump/fbank/train/feats.scp,speech,kaldi_ark "
        "and dump/fbank/train/text,label,text", parse=str2triple_str, hyper=False, append=True)
    forget_request: str = option("utterance", "utterance: some utterances of speakers that stay; speaker: all of "
                                 "a speaker's", choices=("utterance", "speaker"))
    # the forget objective
    forget_loss: str = option(
        "relabel", "the forget objective (objectives.py): random relabeling, targeted relabeling (only the least "
        "confident share the accuracy target needs, to the most probable wrong class), heldout_losses (each "
        "utterance towards the held-out loss of its rank, from reference_stats.json: the forget set's losses trained "
        "to look held out), gradient ascent on the true label, or no forget term",
        choices=("relabel", "targeted", "heldout_losses", "ascent", "none"))
    forget_batch: str = option("random", "the forget utterances of each step's batch (forget_batches.py): random, "
                               "or pending: those not yet predicted as the objective asks first, filled up at "
                               "random", choices=("random", "pending"))
    kept_target: str = option("hard", "targeted relabeling: the labels it keeps are trained on as they are (hard) "
                              "or towards the confidence of a held-out utterance (heldout, from "
                              "reference_stats.json)", choices=("hard", "heldout"))
    # the retention terms (retention.py)
    adv_num: int = option(2, "K: adversarial examples per forget utterance", low=0, integer=True)
    adv_steps: int = option(10, "S: PGD steps", low=1, integer=True)
    adv_step_size: float = option(0.04, "alpha: PGD step size, in standard deviations of each feature after the "
                                  "normaliser", low=0, inclusive=False)
    adv_clip: float = option(0.2, "tau: L-inf radius of the perturbation, in the same units", low=0,
                             inclusive=False)
    adv_weight: float = option(1.0, "beta: weight of the adversarial term (0: off)", low=0)
    adv_target: str = option("hard", "label of an adversarial example: the original model's prediction (hard) or "
                             "its class distribution (soft)", choices=("hard", "soft"))
    elastic_weight: float = option(1.0, "lambda: strength of the elastic anchoring (0: off)", low=0)
    elastic_mode: str = option("penalty", "penalty: lambda/2 sum omega (theta - theta0)^2 in the loss; update: "
                               "each step's change of a weight divided by 1 + lambda omega",
                               choices=("penalty", "update"))
    # the update transform
    update_transform: str = option("none", "what is done to each optimiser step (update_transforms.py): none, or "
                                   "projection off the "
                                   "subspace of the remaining data's layer inputs (needs train_statistics.pth "
                                   "beside the source model)", choices=("none", "projection"))
    projection_energy: float = option(0.95, "share of the remaining data's input energy per layer that "
                                      "projection protects, in (0, 1]", low=0, inclusive=False, high=1)
    projection_relax_factor: float = option(2.0, "each relaxation of the projection (--step_relax_patience) "
                                            "multiplies the unprotected share by this (2: 0.95 -> 0.9 -> 0.8)",
                                            low=1, inclusive=False)
    # stopping and the step size
    forget_target: Union[str, float] = option(
        "auto", "Stop when the forget set's accuracy is at or below this (or its median loss at or above it, with "
        "--stop_metric loss); auto: the source model's held-out figure", parse=forget_target)
    stop_metric: str = option("acc", "what the target is of: forget accuracy, median loss, or distribution: stop "
                              "once a two-sample test no longer tells the forget set's losses from the held-out "
                              "ones of reference_stats.json (--stop_alpha)", choices=("acc", "loss", "distribution"))
    stop_alpha: float = option(0.05, "stop_metric distribution: stop at the Kolmogorov-Smirnov distance that a "
                               "held-out sample of the forget set's size exceeds with this probability (the "
                               "test's level)", low=0,
                               inclusive=False, high=1)
    max_steps: int = option(100, "updates at most", low=1, integer=True)
    step_growth: float = option(2.0, "multiply the learning rate by this when the forget set's stopping metric "
                                "has not improved for --step_patience steps (1: never)", low=1)
    step_patience: int = option(10, "steps without progress before the rate grows", low=1, integer=True)
    step_growth_max: float = option(8.0, "the learning rate grows to at most this many times where it started",
                                    low=1)
    step_relax_patience: int = option(
        0, "steps at the largest learning rate with the forget accuracy unchanged (the projected steps move no "
        "prediction) before the projection protects less (update_transform projection; 0: never)", low=0, integer=True)
    step_relax_when: str = option("unchanged", "what counts as steps that move nothing, for --step_relax_patience: "
                                  "the forget accuracy exactly unchanged, or no_progress: no new best of the stopping "
                                  "metric", choices=("unchanged", "no_progress"))
    step_relax_restart: bool = option(False, "once the projection is relaxed, the learning rate starts again "
                                      "from where it began (false: it stays at the largest)", parse=str2bool)
    allow_unreached: bool = option(False, "publish a model that stopped at --max_steps short of its target "
                                   "(default: the run fails, its output kept as <output_dir>.unreached)",
                                   parse=str2bool, hyper=False)
    update_mode: str = option("train", "the model's mode during the updates: train (dropout on) or eval (off)",
                              choices=("train", "eval"))
    keep_derived_data: bool = option(False, "Keep the adversarial examples and forget ids in the output dir",
                                     parse=str2bool, hyper=False)
    process_start: Optional[float] = option(None, "when the calling stage started (seconds since the epoch): the "
                                            "output then holds process_time.json, the whole process as that "
                                            "stage saw it", parse=float, hyper=False)
    request_name: Optional[str] = option(None, "the request's name (ser.sh's --unlearn_tag), recorded in the "
                                         "model's lineage (default: the output dir's name)", parse=str_or_none,
                                         hyper=False)
    stage_command: Optional[str] = option(None, "the command line of the stage script that ran this (unlearn.sh): "
                                          "the output holds it as run.sh, as ESPnet's cls.sh records its own",
                                          parse=str_or_none, hyper=False)
    # ESPnet's training options that unlearning uses
    output_dir: Optional[str] = option(None, inherited=True, hyper=False)
    ngpu: int = option(0, inherited=True, hyper=False)
    seed: int = option(0, inherited=True)
    batch_size: int = option(20, low=1, integer=True, inherited=True)
    optim: str = option("adadelta", inherited=True)
    optim_conf: Dict = option({}, inherited=True)
    scheduler: Optional[str] = option(None, inherited=True)
    scheduler_conf: Dict = option({}, inherited=True)
    grad_clip: float = option(0.0, inherited=True)  # ESPnet's default is 50; an unlearning step is small
    grad_clip_type: float = option(2.0, inherited=True)
    freeze_param: List[str] = option([], inherited=True)

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> "UnlearnOptions":
        return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})

    def hyperparameters(self) -> Dict:
        """What the output records of how it was made."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata["hyper"]}


def fields(own: Optional[bool] = None) -> List[dataclasses.Field]:
    """UnlearnOptions' fields; own=True: those UnlearnTask adds to ESPnet's parser."""
    return [f for f in dataclasses.fields(UnlearnOptions)
            if own is None or (not f.metadata["inherited"]) == own]


def add_arguments(group) -> None:
    """The task's own options, on an argparse group."""
    for f in fields(own=True):
        m = f.metadata
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kwargs = dict(default=default, help=m["help"])
        if m["append"]:
            kwargs.update(action="append", type=m["parse"])
        else:
            kwargs["type"] = m["parse"] or type(default)
        if m["choices"]:
            kwargs["choices"] = list(m["choices"])
        group.add_argument(f"--{f.name}", **kwargs)


def choices() -> Dict[str, Tuple[str, ...]]:
    return {f.name: f.metadata["choices"] for f in fields() if f.metadata["choices"]}


def bounds() -> Dict[str, Dict]:
    """name -> low, inclusive, high, integer, for the numeric options."""
    return {f.name: {k: f.metadata[k] for k in ("low", "inclusive", "high", "integer")}
            for f in fields() if f.metadata["low"] is not None}

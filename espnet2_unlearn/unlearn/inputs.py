"""What an unlearning run is given, checked before anything is written or
built: the source model's files, its classes, the forget ids and the target."""

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from espnet2_unlearn.data.forget_list import ForgetSetError
from espnet2_unlearn.unlearn.layer_statistics import STATISTICS_FILE
from espnet2_unlearn.unlearn.forget_set import check_forget_ids, read_forget_ids
from espnet2_unlearn.unlearn.options import UnlearnOptions, bounds, choices
from espnet2_unlearn.unlearn.stopping import LossReference, ks_critical, loss_reference, resolve_target


class UnlearnError(ValueError):
    """Bad input to an unlearning run; nothing has been written."""


@dataclass
class UnlearnInputs:
    output_dir: Path
    config_file: Path  # the source model's config.yaml
    model_file: Path  # the source model's parameters
    model_conf: Dict  # config_file's content
    classes: List[str]  # the labels: token-list entries some training utterance carries
    class_ids: List[int]  # their output indices (positions in the token list)
    ids: List[str]  # the forget utterances
    target: float  # where stopping happens
    target_note: str  # where the target came from
    loss_reference: Optional[LossReference] = None  # held-out losses (stop_metric distribution, heldout_losses)


# Entries of an ESPnet token list that are never a class (tokenize_text's
# --add_symbol of cls.sh, ASR's conventions).
SPECIAL_TOKENS = ("<blank>", "<unk>", "<sos/eos>", "<pad>")

CHOICES = choices()
BOUNDS = bounds()  # numeric options: lowest value, whether it is allowed, highest, integer


def check_number(name: str, value, low, inclusive: bool, integer: bool = False) -> None:
    """Refuses, naming the option, a value that is not a finite number (an
    integer where counts are meant) or that lies below its bound."""
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or (integer and value != int(value)):
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                # YAML 1.1 (ESPnet's config files and --optim_conf) reads 1e-5 as text
                hint = f" (YAML reads it as text: write it with a decimal point, e.g. {float(value):.1e})"
            except ValueError:
                pass
        raise UnlearnError(f"--{name} must be {kind}, got {value!r}{hint}")
    if value < low or (value == low and not inclusive):
        raise UnlearnError(f"--{name} must be {'at least' if inclusive else 'greater than'} {low}, got {value}")


def check_numbers(args: UnlearnOptions) -> None:
    for name, b in BOUNDS.items():
        value = getattr(args, name)
        check_number(name, value, b["low"], b["inclusive"], b["integer"])
        if b["high"] is not None and value > b["high"]:
            raise UnlearnError(f"--{name} must be at most {b['high']:g}, got {value}")
    if "lr" in (args.optim_conf or {}):
        check_number("optim_conf lr", args.optim_conf["lr"], 0, False)


def check_inputs(args: UnlearnOptions) -> UnlearnInputs:
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
    if not args.forget_data_path_and_name_and_type:
        raise UnlearnError("--forget_data_path_and_name_and_type is required (speech and label of the forget set)")
    names = {name for _, name, _ in args.forget_data_path_and_name_and_type}
    if names != {"speech", "label"}:
        raise UnlearnError(f"the forget data must give 'speech' and 'label', got {sorted(names)}")
    check_numbers(args)
    statistics = model_file.parent / STATISTICS_FILE
    if args.update_transform != "none" and not statistics.is_file():
        raise UnlearnError(
            f"--update_transform {args.update_transform} needs the training statistics {statistics}, which do not "
            f"exist: stage 4 writes them; for a model trained elsewhere run python -m "
            f"espnet2_unlearn.bin.train_statistics --model_dir {model_file.parent} --model_file "
            f"{model_file.name} (with its training data), or run without them (--update_transform none)")
    for option, allowed in CHOICES.items():
        if getattr(args, option) not in allowed:
            raise UnlearnError(f"--{option} must be {', '.join(allowed[:-1])} or {allowed[-1]}, "
                               f"got '{getattr(args, option)}'")
    if args.forget_loss == "targeted" and args.stop_metric != "acc":
        raise UnlearnError("--forget_loss targeted chooses how many labels to change from an accuracy target: "
                           "it needs --stop_metric acc")
    if args.kept_target != "hard" and args.forget_loss != "targeted":
        raise UnlearnError(f"--kept_target {args.kept_target} is for --forget_loss targeted (the labels it keeps)")
    candidates = [t for t in token_list if t not in SPECIAL_TOKENS]
    try:
        ids = read_forget_ids(args.forget_list)
        seen = check_forget_ids(ids, args.forget_data_path_and_name_and_type, candidates)
        classes, class_ids = label_classes(token_list, seen, config_file)
        reference = None
        if args.stop_metric == "distribution" or args.forget_loss == "heldout_losses":
            reference = loss_reference(model_file.parent, args.forget_request)
        if args.stop_metric == "distribution":
            target = ks_critical(len(ids), reference.num_utts, args.stop_alpha) if str(args.forget_target) == "auto" \
                else float(args.forget_target)
            note = (f"Kolmogorov-Smirnov distance to the {reference.note}"
                    + (f", exceeded with probability {args.stop_alpha:g} by a held-out sample of {len(ids)}"
                       if str(args.forget_target) == "auto" else ", given"))
        else:
            target, note = resolve_target(args.forget_target, args.stop_metric, model_file.parent,
                                          args.forget_request)
        if args.kept_target == "heldout":  # the held-out loss it needs is there
            resolve_target("auto", "loss", model_file.parent, args.forget_request)
    except (ForgetSetError, ValueError) as e:
        raise UnlearnError(str(e)) from e
    return UnlearnInputs(out, config_file, model_file, model_conf, classes, class_ids, ids, target, note, reference)


def label_classes(token_list: List[str], labels_seen, config_file: Path):
    """(classes, their output indices): the token-list entries that some
    training utterance carries, in token-list order.  ESPnet's cls1 template
    adds <blank> and <unk> to the token list; a model has outputs for them,
    but no utterance is either, so none is ever a target of relabeling or of
    an adversarial example."""
    pairs = [(t, i) for i, t in enumerate(token_list) if t in labels_seen and t not in SPECIAL_TOKENS]
    if len(pairs) < 2:
        raise ValueError(f"{config_file}: fewer than two of its token list's entries are labels of the training data "
                         f"({[t for t, _ in pairs]}): there is nothing to relabel to")
    return [t for t, _ in pairs], [i for _, i in pairs]

"""UnlearnTask: the espnet2 task of stage 5.

A classification task (CLSTask) whose model is a trained ESPnet
classification model, fine-tuned to forget a set of utterances using only
those utterances.  Like ESPnet's tasks it parses the options (--config files,
--print_config), builds the model, the optimiser and scheduler and the data
(the forget set), then hands them to a runner (espnet2_unlearn.unlearn.runner)
that runs the loop and writes the outputs.
"""

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import torch
import yaml

from espnet2_unlearn.espnet_imports import CLSTask, scheduler_classes
from espnet2.schedulers.abs_scheduler import AbsBatchStepScheduler
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed
from espnet2_unlearn.unlearn.adversarial import NormaliserError, check_normaliser
from espnet2_unlearn.model_file import ModelFileError, load_model
from espnet2_unlearn.unlearn.forget_set import ForgetSet, load_forget_set
from espnet2_unlearn.unlearn.front_end import detach_front_end, features, fine_tuned_keys
from espnet2_unlearn.unlearn.phases import Phases, process_age_s
from espnet2_unlearn.data.forget_list import ForgetSetError
from espnet2_unlearn.unlearn.inputs import UnlearnError, UnlearnInputs, check_inputs
from espnet2_unlearn.unlearn.options import UnlearnOptions, add_arguments
from espnet2_unlearn.unlearn.runner import run_unlearning

# The options of ESPnet's training that mean something here; the others are
# refused when given (they would do nothing) and hidden from --print_config.
INHERITED = (
    "config", "print_config", "log_level", "output_dir", "ngpu", "seed", "batch_size",
    "optim", "optim_conf", "scheduler", "scheduler_conf", "grad_clip", "grad_clip_type", "freeze_param",
    "cudnn_enabled", "cudnn_benchmark", "cudnn_deterministic",
)


class UnlearnTask(CLSTask):
    @classmethod
    def own_options(cls):
        """The options UnlearnTask adds to ESPnet's."""
        return [a.dest for a in cls._own_group(cls.get_parser())._group_actions]

    @staticmethod
    def _own_group(parser):
        return next(g for g in parser._action_groups if g.description == "Unlearning related")

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        super().add_task_arguments(parser)
        # The model and its token list come from the source model's config.
        required = parser.get_default("required")
        if "token_list" in required:
            required.remove("token_list")

        # Off unless asked for: an update of unlearning is a few small steps.
        parser.set_defaults(grad_clip=0.0)
        group = parser.add_argument_group(description="Unlearning related")
        add_arguments(group)  # declared once, in unlearn/options.py

    @classmethod
    def used_options(cls):
        return set(INHERITED) | set(cls.own_options())

    @classmethod
    def print_config(cls, file=sys.stdout) -> None:
        """The defaults of the options unlearning uses, as a config file."""
        config = cls.get_default_config()
        used = cls.used_options()
        file.write(yaml.safe_dump({k: v for k, v in config.items() if k in used}, indent=4, sort_keys=False))

    @classmethod
    def check_options(cls, args: argparse.Namespace) -> None:
        """Refuses options of ESPnet's training that would do nothing here."""
        parser = cls.get_parser()
        used = cls.used_options()
        ignored = ("required", "version", "distributed")  # ESPnet's own records
        for action in parser._actions:
            name = action.dest
            if name in used or name in ignored or name == "help" or not hasattr(args, name):
                continue
            if getattr(args, name) != action.default:
                raise UnlearnError(f"--{name} is an option of ESPnet's training that unlearning does not use; "
                                   f"options it uses: see --print_config")

    @classmethod
    def build_model(cls, args: argparse.Namespace):
        """The source model with its trained parameters (loaded strictly); --freeze_param's stay as they are."""
        device = "cuda" if args.ngpu > 0 else "cpu"
        try:
            model, _ = load_model(args.source_config or Path(args.source_model).parent / "config.yaml",
                                  args.source_model, device)
        except ModelFileError as e:
            raise UnlearnError(str(e)) from e
        for prefix in args.freeze_param:
            for name, p in model.named_parameters():
                if name == prefix or name.startswith(prefix + "."):
                    p.requires_grad_(False)
        return model

    @classmethod
    def build_scheduler(cls, args: argparse.Namespace, optimizer):
        """ESPnet's scheduler, stepped after every update; None without --scheduler."""
        if args.scheduler is None:
            return None
        scheduler_class = scheduler_classes.get(args.scheduler.lower())
        if scheduler_class is None or not issubclass(scheduler_class, AbsBatchStepScheduler):
            raise UnlearnError(f"--scheduler {args.scheduler}: unlearning steps a scheduler after every update; "
                               "choose one that ESPnet steps per batch (e.g. warmuplr, noamlr)")
        return scheduler_class(optimizer, **args.scheduler_conf)

    @classmethod
    def build_forget_set(cls, args: UnlearnOptions, inputs: UnlearnInputs) -> ForgetSet:
        """The forget utterances, read through ESPnet's iterator with the
        source model's preprocessing, on the model's device."""
        device = "cuda" if args.ngpu > 0 else "cpu"
        with tempfile.TemporaryDirectory() as d:
            key_file = Path(d) / "forget.ids"
            # ESPnet's streaming reader walks the data files in order: the keys must be sorted as they are.
            key_file.write_text("".join(u + "\n" for u in sorted(inputs.ids)), encoding="utf-8")
            forget = load_forget_set(inputs.ids, args.forget_data_path_and_name_and_type,
                                     argparse.Namespace(**inputs.model_conf), key_file)
        return ForgetSet(forget.utts, [s.to(device) for s in forget.speech], forget.labels.to(device))

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        logging.basicConfig(level=args.log_level,
                            format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
        phases = Phases()
        startup = process_age_s()  # interpreter, imports, option parsing
        if startup is not None:
            phases.seconds["startup"] = startup
        cls.check_options(args)
        opts = UnlearnOptions.from_namespace(args)
        inputs = check_inputs(opts)
        set_all_random_seed(args.seed)
        torch.backends.cudnn.enabled = args.cudnn_enabled
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
        torch.backends.cudnn.deterministic = args.cudnn_deterministic
        with phases("load"):
            model = cls.build_model(args)
        # Unlearning acts past the front-end (front_end.py): the optimiser
        # gets only the layers after it.
        front_end = detach_front_end(model)
        tuned = fine_tuned_keys(front_end)
        if tuned:
            logging.warning(f"the front-end's weights differ from its pretrained ones in {len(tuned)} tensors "
                            f"({tuned[0]}, ...): it was fine-tuned with the model, and what the forget set "
                            "taught it stays (unlearning acts past the front-end)")
        if opts.adv_weight > 0 and opts.adv_num > 0:
            try:
                check_normaliser(model)
            except NormaliserError as e:
                raise UnlearnError(str(e)) from e
        optimizer = cls.build_optimizers(args, model)[0]
        scheduler = cls.build_scheduler(args, optimizer)
        with phases("load"):
            try:
                forget = cls.build_forget_set(opts, inputs)
            except ForgetSetError as e:
                raise UnlearnError(str(e)) from e
        if front_end is not None:
            with phases("front_end"):
                forget = ForgetSet(forget.utts, features(front_end, forget.speech), forget.labels)
            logging.info(f"front-end {type(front_end).__name__}: the forget set as features "
                         f"{tuple(forget.speech[0].shape[1:])} per frame; unlearning acts past it")
        run_unlearning(opts, inputs, model, optimizer, scheduler, forget, phases, front_end)

"""UnlearnTask: the espnet2 task of stage 5.

A classification task (CLSTask) whose model is a trained ESPnet
classification model, fine-tuned to forget a set of utterances using only
those utterances.  ESPnet's machinery gives the argument parsing, --config
files, --print_config, optimisers and data iterators; the run itself is
espnet2_unlearn.unlearn.runner.
"""

import argparse
import logging

from espnet2.tasks.cls import CLSTask
from espnet2.utils.types import str2bool, str2triple_str, str_or_none
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed


def forget_target(value: str):
    """'auto' or a number."""
    if value == "auto":
        return value
    return float(value)


class UnlearnTask(CLSTask):
    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        super().add_task_arguments(parser)
        # The model and its token list come from the source model's config.
        required = parser.get_default("required")
        if "token_list" in required:
            required.remove("token_list")

        group = parser.add_argument_group(description="Unlearning related")
        group.add_argument("--source_model", type=str_or_none, default=None,
                           help="The .pth of the trained classification model to unlearn from")
        group.add_argument("--source_config", type=str_or_none, default=None,
                           help="Its config.yaml (default: next to --source_model)")
        group.add_argument("--forget_list", type=str_or_none, default=None,
                           help="Utterances to forget: a Kaldi data dir or a file of utterance ids")
        group.add_argument("--forget_data_path_and_name_and_type", type=str2triple_str, action="append",
                           default=[], help="Where the forget utterances' speech and label are, "
                           "e.g. dump/fbank/train/feats.scp,speech,kaldi_ark and dump/fbank/train/text,label,text")
        group.add_argument("--forget_request", type=str, default="utterance", choices=["utterance", "speaker"],
                           help="utterance: some utterances of speakers that stay; speaker: all of a speaker's")
        group.add_argument("--forget_loss", type=str, default="relabel", choices=["relabel", "ascent", "none"],
                           help="Random relabeling, gradient ascent on the true label, or no forget term")
        group.add_argument("--adv_num", type=int, default=2, help="K: adversarial examples per forget utterance")
        group.add_argument("--adv_steps", type=int, default=10, help="S: PGD steps")
        group.add_argument("--adv_step_size", type=float, default=0.1, help="alpha: PGD step size")
        group.add_argument("--adv_clip", type=float, default=0.5, help="tau: L-inf radius of the perturbation")
        group.add_argument("--adv_weight", type=float, default=1.0, help="beta: weight of the adversarial term (0: off)")
        group.add_argument("--adv_target", type=str, default="hard", choices=["hard", "soft"],
                           help="label of an adversarial example: the original model's prediction (hard) "
                                "or its class distribution (soft)")
        group.add_argument("--elastic_weight", type=float, default=1.0,
                           help="lambda: weight of the elastic penalty (0: off)")
        group.add_argument("--forget_target", type=forget_target, default="auto",
                           help="Stop when the forget set's accuracy is at or below this (or its median loss at "
                           "or above it, with --stop_metric loss); auto: the source model's held-out figure")
        group.add_argument("--stop_metric", type=str, default="acc", choices=["acc", "loss"])
        group.add_argument("--max_steps", type=int, default=100)
        group.add_argument("--update_mode", type=str, default="train", choices=["train", "eval"],
                           help="the model's mode during the updates: train (dropout on) or eval (off)")
        group.add_argument("--keep_derived_data", type=str2bool, default=False,
                           help="Keep the adversarial examples and forget ids in the output dir")

    @classmethod
    def build_model(cls, args: argparse.Namespace):
        """The source model, with its trained parameters."""
        device = "cuda" if getattr(args, "ngpu", 0) > 0 else "cpu"
        model, _ = CLSTask.build_model_from_file(args.source_config, args.source_model, device)
        return model

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        from espnet2_unlearn.unlearn.runner import run_unlearning

        logging.basicConfig(level=args.log_level,
                            format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
        set_all_random_seed(args.seed)
        run_unlearning(args)

"""The config of a gold-standard retraining: the source model's own
config.yaml (every option that produced it, its seed included; for an
unlearned model, those of the trained model it descends from) less what
names its data, its outputs or its starting point, which the retraining
sets anew, and less what ESPnet records that is no option.

    python -m espnet2_unlearn.bin.gold_config exp/ser_x/config.yaml exp/gold_x/gold_config.yaml

Prints the normalisation the source used (global_mvn, utterance_mvn or
none), so that the stage gives the retraining statistics of its own data.
"""

import argparse
import contextlib
import os
import sys
from pathlib import Path

import yaml

# Options that describe one run's data, outputs, devices or initialisation,
# not how the model is trained.  (fold_length stays: it is an append option
# in ESPnet, so the retraining must not give it on the command line too.)
RUN_OPTIONS = (
    "config", "output_dir", "print_config", "collect_stats", "write_collected_feats", "dry_run",
    "train_data_path_and_name_and_type", "valid_data_path_and_name_and_type",
    "train_shape_file", "valid_shape_file", "normalize_conf", "init_param", "ngpu", "resume",
    "dist_backend", "dist_init_method", "dist_world_size", "dist_rank", "local_rank",
    "dist_master_addr", "dist_master_port", "dist_launcher", "multiprocessing_distributed",
    "unused_parameters", "unlearn_conf",
)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source_config", type=Path)
    p.add_argument("output", type=Path)
    args = p.parse_args(argv)
    try:
        with open(args.source_config, encoding="utf-8") as f:
            conf = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        sys.exit(f"gold_config: cannot read {args.source_config}: {e}")
    if not isinstance(conf, dict) or "seed" not in conf:
        sys.exit(f"gold_config: {args.source_config} is not the config.yaml of an ESPnet training")
    # An unlearned model's config is the config of the model it came from
    # plus unlearn_conf (dropped below): a later request's gold is trained
    # as the first model was.
    with contextlib.redirect_stdout(sys.stderr):  # ESPnet's import notices; stdout is the answer
        from espnet2_unlearn.espnet_imports import CLSTask

    # ESPnet also records what is no option (required, version, distributed).
    known = {a.dest for a in CLSTask.get_parser()._actions}
    gold = {k: v for k, v in conf.items() if k in known and k not in RUN_OPTIONS}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        yaml.safe_dump(gold, f, sort_keys=False, allow_unicode=True)
    os.replace(tmp, args.output)
    print(conf.get("normalize") or "none")


if __name__ == "__main__":
    main()

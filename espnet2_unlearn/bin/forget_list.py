"""Checks a forget list against the training data and tells the stages what
they need of it, so that no shell script reads a forget list itself:

    python -m espnet2_unlearn.bin.forget_list --train_dir dump/fbank/train [--expdir exp] [--ids_for PID] LIST

prints `<utterances> <request> <key> <excluded> [<ids file>]`: the number of utterances,
the kind of request (speaker: the list holds every training utterance of its
speakers; otherwise utterance), the content key (12 hex digits of the
SHA-256 of the sorted ids) under which its gold model and retain set are
stored, and how many training utterances gold leaves out.  With
--source_config (the config.yaml of the model that serves the request), an
unlearned model's earlier requests are left out of gold too, and the key is
that of everything left out.  With --ids_for (the stage engine's pid),
writes the sorted ids left out to the layout's forget-id file
(espnet2_unlearn/layout.py) and prints its path; the caller removes it.  Exits non-zero, naming the file and
line or utterance, on a missing, empty or duplicated list and on ids that
are not in the training data.
"""

import argparse
import os
import sys
from pathlib import Path

import yaml

from espnet2_unlearn.purge.audit import purged_by
from espnet2_unlearn.data.forget_list import (
    ForgetSetError,
    check_in_training_data,
    check_something_is_kept,
    content_key,
    excluded_ids,
    read_forget_lines,
    request_of,
    served_requests,
)
from espnet2_unlearn.data.kaldi_dir import DataDirError, read_table
from espnet2_unlearn.layout import Layout


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_dir", type=Path, required=True, help="the training data dir (its utt2spk)")
    p.add_argument("--ids_for", help="write the sorted ids that gold leaves out for this owner (a pid)")
    p.add_argument("--source_config", type=Path, help="config.yaml of the model serving the request")
    p.add_argument("--expdir", default="exp", help="the recipe's exp directory (audit records of purges)")
    p.add_argument("forget_list", help="Kaldi data dir or file of utterance ids")
    args = p.parse_args(argv)
    layout = Layout.of(".", exp=args.expdir)
    try:
        lines = read_forget_lines(args.forget_list)
        ids = list(lines)
        utt2spk = read_table(args.train_dir / "utt2spk")
        purged = purged_by([u for u in ids if u not in utt2spk], layout.requests_dir)
        if purged:
            u = next(iter(purged))
            raise ForgetSetError(f"utterance {u} of the forget list was purged by request {purged[u]}"
                                 + (f" (and {len(purged) - 1} more)" if len(purged) > 1 else "")
                                 + ": it is forgotten already")
        check_in_training_data(ids, utt2spk, args.train_dir / "utt2spk", lines)
        if (args.train_dir / "text").is_file():
            labels = {u: " ".join(v.split()) for u, v in read_table(args.train_dir / "text").items() if u in utt2spk}
            check_something_is_kept(ids, labels, args.train_dir / "text")
        served = []
        if args.source_config is not None and args.source_config.is_file():
            served = served_requests(yaml.safe_load(args.source_config.read_text(encoding="utf-8")) or {})
        excluded = excluded_ids(ids, served, utt2spk, layout.requests_dir)
    except (ForgetSetError, DataDirError, OSError, yaml.YAMLError) as e:
        sys.exit(f"forget_list: {e}")
    out = []
    if args.ids_for:
        ids_file = layout.forget_ids(args.ids_for)
        ids_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = ids_file.with_name(ids_file.name + ".tmp")
        tmp.write_text("".join(u + "\n" for u in excluded), encoding="utf-8")
        os.replace(tmp, ids_file)
        out = [str(ids_file)]
    print(len(ids), request_of(ids, utt2spk), content_key(excluded), len(excluded), *out)


if __name__ == "__main__":
    main()

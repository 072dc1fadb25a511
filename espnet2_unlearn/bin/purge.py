"""Stage 9: purge what the recipe holds of a served request's utterances
(see espnet2_unlearn.purge.request), verify, and write the audit record.

    python -m espnet2_unlearn.bin.purge --forget_list data/forget_spk03 --request forget_spk03 \\
        --unlearn_exp exp/unlearn_forget_spk03 --source_model exp/ser_train_ser/train.loss.ave.pth [--dry_run true]

Run from the recipe directory; only data/, dump/ and exp/ there (or the
--dumpdir and --expdir ser.sh was given) and the recipe's own audio copies
are changed.  Prints what goes (and the user's own
audio files of these utterances, which stay: the corpus is theirs).
"""

import argparse
import logging
import sys
from pathlib import Path

from espnet2.utils.types import str2bool
from espnet2_unlearn.data.forget_list import ForgetSetError, read_forget_ids
from espnet2_unlearn.layout import Layout
from espnet2_unlearn.purge.request import PurgeError, purge_request


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--forget_list", type=Path, required=True, help="the request's forget list (data dir or id file)")
    p.add_argument("--request", required=True, help="the request's name (exp/requests/<request>.json)")
    p.add_argument("--unlearn_exp", type=Path, required=True, help="stage 5's output for this request")
    p.add_argument("--source_model", type=Path, default=None, help="the model the request was served from")
    p.add_argument("--dry_run", type=str2bool, default=False, help="print what would go, change nothing")
    p.add_argument("--dumpdir", default="dump", help="the recipe's dump directory (ser.sh --dumpdir)")
    p.add_argument("--expdir", default="exp", help="the recipe's exp directory (ser.sh --expdir)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    layout = Layout.of(Path.cwd(), dump=args.dumpdir, exp=args.expdir)
    journal, record = layout.journal(args.request), layout.record(args.request)
    try:
        for need, what in ((args.unlearn_exp / "unlearned.pth", "the unlearned model (stage 5)"),
                           (args.unlearn_exp / "eval" / "metrics.json", "its evaluation (stage 6)")):
            if not need.is_file():
                raise PurgeError(f"{need} does not exist: the purge runs only after {what}; nothing was changed")
        if record.exists() and not journal.exists():
            raise PurgeError(f"request {args.request} was purged already ({layout.relative(record)}); if the "
                             "stage 9 that purged it stopped while re-packing the model, run stage 8 to pack it "
                             "with its record")
        ids = [] if journal.exists() else read_forget_ids(args.forget_list)
        purge_request(ids, args.request, layout, args.forget_list, args.unlearn_exp, args.source_model, args.dry_run)
    except (PurgeError, ForgetSetError) as e:
        sys.exit(f"purge: {e}")


if __name__ == "__main__":
    main()

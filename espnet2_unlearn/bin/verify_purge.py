"""Scans data/, dump/ and exp/ (or --dumpdir, --expdir) of a recipe for the utterances of a purged
request; exit status 1 when anything is found.

    python -m espnet2_unlearn.bin.verify_purge --request forget_spk03     # from its audit record
    python -m espnet2_unlearn.bin.verify_purge --forget_list ids.txt      # from the ids themselves

With --request, the ids are known only as salted hashes (the audit record
holds no ids): every token of every file is hashed and compared.
"""

import argparse
import json
import sys
from pathlib import Path

from espnet2_unlearn.data.forget_list import ForgetSetError, read_forget_ids
from espnet2_unlearn.layout import Layout
from espnet2_unlearn.purge.scan import scan, scan_hashed


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--request", help="name of a purged request (exp/requests/<request>.json)")
    which.add_argument("--forget_list", type=Path, help="a forget list (data dir or id file)")
    p.add_argument("--recipe_dir", type=Path, default=Path("."))
    p.add_argument("--dumpdir", default="dump", help="the recipe's dump directory (ser.sh --dumpdir)")
    p.add_argument("--expdir", default="exp", help="the recipe's exp directory (ser.sh --expdir)")
    args = p.parse_args(argv)
    layout = Layout.of(args.recipe_dir, dump=args.dumpdir, exp=args.expdir)
    roots = layout.roots
    if args.request:
        record_file = layout.record(args.request)
        if not record_file.is_file():
            sys.exit(f"verify_purge: {record_file} does not exist (no purged request of that name)")
        hashes = json.loads(record_file.read_text(encoding="utf-8"))["utterance_id_hashes"]
        left = [str(p) for p in scan_hashed(roots, hashes["salt"], hashes["hashes"])]
        count = len(hashes["hashes"])
    else:
        try:
            ids = read_forget_ids(args.forget_list)
        except ForgetSetError as e:
            sys.exit(f"verify_purge: {e}")
        skip = [args.forget_list] if args.forget_list.resolve().is_relative_to(args.recipe_dir.resolve()) else []
        left = [f"{f.path}{':' + f.member if f.member else ''} ({len(f.ids)} ids, {f.kind})"
                for f in scan(roots, ids, skip=skip)]
        count = len(ids)
    for line in left:
        print(f"still holds forgotten utterances: {line}")
    print(f"verify_purge: {count} utterances, {'clean' if not left else f'{len(left)} file(s) still hold them'}")
    sys.exit(1 if left else 0)


if __name__ == "__main__":
    main()

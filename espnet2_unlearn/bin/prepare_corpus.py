"""Stage 1 for a real corpus: reads it as distributed and writes Kaldi data
dirs data/{train,valid,test} with speaker-independent, deterministic splits.

    python -m espnet2_unlearn.bin.prepare_corpus ravdess /path/to/RAVDESS --data_dir data
    python -m espnet2_unlearn.bin.prepare_corpus iemocap /path/to/IEMOCAP_full_release --test_session 1

Corpora: ravdess, cremad, emodb (default valid/test speakers as documented
in each reader; --valid_speakers/--test_speakers change them) and iemocap
(--valid_session/--test_session).  Audio not at 16 kHz mono is converted
into --wav_dir.  Nothing is written unless the whole corpus reads.
"""

import argparse
import logging
import sys
from pathlib import Path

from espnet2_unlearn.data.corpora import cremad, emodb, iemocap, ravdess
from espnet2_unlearn.data.corpora.common import CorpusError, check_root, skip_known_bad, speaker_sets, write_corpus

READERS = {"ravdess": ravdess, "cremad": cremad, "emodb": emodb, "iemocap": iemocap}
ENV = {"ravdess": "RAVDESS", "cremad": "CREMAD", "emodb": "EMODB", "iemocap": "IEMOCAP"}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", choices=sorted(READERS))
    p.add_argument("root", help="where the corpus is (db.sh)")
    p.add_argument("--data_dir", type=Path, default=Path("data"))
    p.add_argument("--wav_dir", type=Path, default=Path("data/local/wav16k"),
                   help="for 16 kHz mono copies of audio that is not")
    p.add_argument("--valid_speakers", nargs="*", help="ravdess, cremad, emodb: speakers of the valid set")
    p.add_argument("--test_speakers", nargs="*", help="ravdess, cremad, emodb: speakers of the test set")
    p.add_argument("--valid_session", type=int, default=4, choices=range(1, 6), help="iemocap")
    p.add_argument("--test_session", type=int, default=5, choices=range(1, 6), help="iemocap")
    p.add_argument("--merge_calm", action="store_true", help="ravdess: calm counts as neutral (7 classes)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    reader = READERS[args.corpus]
    try:
        root = check_root(args.root, ENV[args.corpus])
        utts = reader.scan(root, merge_calm=args.merge_calm) if args.corpus == "ravdess" else reader.scan(root)
        utts = skip_known_bad(utts, reader.KNOWN_BAD)
        speakers = {u.speaker for u in utts}
        if args.corpus == "iemocap":
            if args.valid_session == args.test_session:
                raise CorpusError(f"--valid_session and --test_session are both {args.test_session}")
            valid = [s for s in speakers if iemocap.session_of(s) == args.valid_session]
            test = [s for s in speakers if iemocap.session_of(s) == args.test_session]
            for name, n, chosen in (("valid", args.valid_session, valid), ("test", args.test_session, test)):
                if not chosen:
                    raise CorpusError(f"{root}: session {n} ({name}) has no utterance")
        else:
            valid = args.valid_speakers if args.valid_speakers is not None else reader.DEFAULT_VALID
            test = args.test_speakers if args.test_speakers is not None else reader.DEFAULT_TEST
        write_corpus(utts, speaker_sets(speakers, valid, test), args.data_dir, args.wav_dir)
    except CorpusError as e:
        sys.exit(f"prepare_corpus: {args.corpus}: {e}")


if __name__ == "__main__":
    main()

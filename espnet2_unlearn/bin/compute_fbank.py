"""Compute fbank features for the utterances of a wav.scp and write them as a
Kaldi ark/scp pair (kaldiio), plus utt2num_frames.

    python -m espnet2_unlearn.bin.compute_fbank --fbank_conf conf/fbank.conf \\
        wav.scp feats.ark feats.scp utt2num_frames

Every utterance is read and checked before anything is written; on error the
outputs are not created.
"""

import argparse
import logging
import os
import sys

import kaldiio
import torch

from espnet2_unlearn.data.audio import AudioError, read_audio
from espnet2_unlearn.data.fbank import compute_fbank, read_fbank_conf
from espnet2_unlearn.data.kaldi_dir import DataDirError, read_table


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fbank_conf", required=True)
    p.add_argument("wav_scp")
    p.add_argument("ark")
    p.add_argument("scp")
    p.add_argument("utt2num_frames")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    # One thread per job: stage 2 runs nj jobs side by side, and small
    # per-utterance operations spread over several threads each only contend.
    torch.set_num_threads(1)

    try:
        opts = read_fbank_conf(args.fbank_conf)
        wavs = read_table(args.wav_scp)
    except (DataDirError, ValueError, OSError) as e:
        sys.exit(f"compute_fbank: {e}")
    rate = int(opts.get("sample_frequency", 16000))
    feats = {}
    for utt, loc in wavs.items():
        try:
            feats[utt] = compute_fbank(read_audio(utt, loc, rate), opts)
        except AudioError as e:  # names the utterance already
            sys.exit(f"compute_fbank: {e}")
        except ValueError as e:
            sys.exit(f"compute_fbank: utterance {utt} ('{loc}'): {e}")
        except Exception as e:  # whatever torchaudio raises: say which utterance
            sys.exit(f"compute_fbank: utterance {utt} ('{loc}'): {type(e).__name__}: {e}")

    tmp_ark, tmp_scp = args.ark + ".tmp", args.scp + ".tmp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_ark},{tmp_scp}") as writer:
        for utt in sorted(feats):
            writer(utt, feats[utt])
    # The scp names the ark it points into: point it at the final name.
    with open(tmp_scp, encoding="utf-8") as f:
        lines = [line.replace(tmp_ark + ":", args.ark + ":", 1) for line in f]
    with open(tmp_scp, "w", encoding="utf-8") as f:
        f.writelines(lines)
    with open(args.utt2num_frames + ".tmp", "w", encoding="utf-8") as f:
        for utt in sorted(feats):
            f.write(f"{utt} {feats[utt].shape[0]}\n")
    os.replace(tmp_ark, args.ark)
    os.replace(tmp_scp, args.scp)
    os.replace(args.utt2num_frames + ".tmp", args.utt2num_frames)
    logging.info(f"wrote {len(feats)} utterances to {args.scp}")


if __name__ == "__main__":
    main()

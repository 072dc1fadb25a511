"""IEMOCAP (Busso et al., 2008): Session1..5/dialog/EmoEvaluation/*.txt give
one line per utterance, '[start - end]<TAB>utt<TAB>label<TAB>[V, A, D]'; the
audio is Session*/sentences/wav/<dialog>/<utt>.wav, 16 kHz.

The usual 4-class set-up: neutral, happy (happy and excited merged), angry,
sad; utterances with the other labels (frustration, surprise, fear, disgust,
other, no agreement) are left out.  The speaker of an utterance is its
session plus the gender letter of its last field (Ses01F_impro01_M003: the
male actor of session 1).  Splits follow sessions: test --test_session,
valid --valid_session, train the other three (leave-one-session-out folds)."""

import re
from pathlib import Path
from typing import List

from espnet2_unlearn.data.corpora.common import CorpusError, Utterance

KEPT = {"neu": "neutral", "hap": "happy", "exc": "happy", "ang": "angry", "sad": "sad"}
LEFT_OUT = {"fru", "sur", "fea", "dis", "oth", "xxx"}
LINE = re.compile(r"^\[(\d+(?:\.\d+)?) - (\d+(?:\.\d+)?)\]\t(\S+)\t(\S+)\t\[.*\]\s*$")
UTT = re.compile(r"^Ses0([1-5])[FM]_\S+_([FM])\d+$")

# Clips the corpus ships broken (file stem -> why, and the source): none known.
KNOWN_BAD = {}

def session_of(speaker: str) -> int:
    return int(speaker[4])


def scan(root: Path) -> List[Utterance]:
    label_files = sorted(f for f in root.glob("Session[1-5]/dialog/EmoEvaluation/*.txt") if not f.name.startswith("."))
    if not label_files:
        raise CorpusError(f"{root}: no Session*/dialog/EmoEvaluation/*.txt (expected IEMOCAP_full_release's layout)")
    utts = []
    for f in label_files:
        session_dir = f.parents[2]
        with open(f, encoding="utf-8", errors="replace") as lines:
            for lineno, line in enumerate(lines, 1):
                if not line.startswith("["):
                    continue  # header, blank and per-evaluator lines
                m = LINE.match(line)
                if not m:
                    raise CorpusError(f"{f}:{lineno}: malformed evaluation line '{line.rstrip()}'")
                utt, label = m.group(3), m.group(4)
                who = UTT.match(utt)
                if not who:
                    raise CorpusError(f"{f}:{lineno}: '{utt}' is not an IEMOCAP utterance id")
                if label not in KEPT and label not in LEFT_OUT:
                    raise CorpusError(f"{f}:{lineno}: unknown emotion code '{label}' of {utt}")
                if label in LEFT_OUT:
                    continue
                dialog = utt.rsplit("_", 1)[0]
                wav = session_dir / "sentences" / "wav" / dialog / f"{utt}.wav"
                if not wav.is_file():
                    raise CorpusError(f"{f}:{lineno}: the audio of {utt}, {wav}, does not exist")
                speaker = f"Ses0{who.group(1)}{who.group(2)}"
                utts.append(Utterance(f"{speaker}_{utt}", speaker, KEPT[label], wav))
    return utts

"""Stages 1-2 of each egs2 recipe on a tiny fake corpus in its real layout,
and a forget request by speaker on it."""

import os
import sys
from pathlib import Path

import pytest

from helpers import ROOT, run
from espnet2_unlearn.data.kaldi_dir import read_table

sys.path.insert(0, str(ROOT / "tests/data/corpora"))
from fake_corpora import make_cremad, make_emodb, make_iemocap, make_ravdess  # noqa: E402

CORPORA = {  # corpus: (db.sh variable, maker, emotions, test speakers)
    "ravdess": ("RAVDESS", make_ravdess, {"neutral", "calm", "happy", "angry"}, {"Actor_23", "Actor_24"}),
    "cremad": ("CREMAD", make_cremad, {"angry", "happy", "neutral", "sad"}, {str(a) for a in range(1082, 1092)}),
    "emodb": ("EMODB", make_emodb, {"angry", "happy", "sad", "neutral"}, {"15", "16"}),
    "iemocap": ("IEMOCAP", make_iemocap, {"neutral", "happy", "angry", "sad"}, {"Ses05F", "Ses05M"}),
}


def recipe_copy(corpus: str, dest: Path) -> Path:
    """The recipe as a user has it: its own files, links to the shared ones."""
    src = ROOT / "egs2" / corpus / "ser1"
    dest.mkdir(parents=True)
    for p in src.iterdir():
        if p.name == "conf":
            (dest / "conf").mkdir()
            for c in p.iterdir():
                (dest / "conf" / c.name).symlink_to(os.path.realpath(c))
        else:
            (dest / p.name).symlink_to(os.path.realpath(p))
    return dest


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_stages_1_2_and_speaker_forget(corpus, tmp_path):
    var, make, emotions, test_speakers = CORPORA[corpus]
    root = make(tmp_path / "corpus")
    d = recipe_copy(corpus, tmp_path / "recipe")
    assert (d / "ser.sh").resolve() == (ROOT / "ser.sh").resolve()  # the one stage engine, not a copy
    run("./run.sh --stage 1 --stop_stage 2 --heldout_per_spk 1 --nj 2", cwd=d, env={var: str(root)})
    texts = {s: read_table(d / "data" / s / "text") for s in ("train", "valid", "test", "heldout")}
    assert set(texts["train"].values()) == emotions
    spk = {s: set(read_table(d / "data" / s / "utt2spk").values()) for s in texts}
    assert spk["test"] == test_speakers
    assert not spk["train"] & (spk["valid"] | spk["test"]) and not spk["valid"] & spk["test"]
    assert spk["heldout"] <= spk["train"]
    for s in texts:
        assert set(read_table(d / "dump/fbank" / s / "feats.scp")) == set(texts[s])

    speaker = sorted(spk["train"])[0]
    run(f". ./path.sh && python -m espnet2_unlearn.bin.make_forget --speakers {speaker} data/train data/forget_spk",
        cwd=d)
    forget = read_table(d / "data/forget_spk/utt2spk")
    train = read_table(d / "data/train/utt2spk")
    assert set(forget) == {u for u, s in train.items() if s == speaker}


def test_wrong_corpus_path(tmp_path):
    d = recipe_copy("ravdess", tmp_path / "recipe")
    proc = run("./run.sh --stage 1 --stop_stage 1", cwd=d, env={"RAVDESS": str(tmp_path / "nowhere")}, check=False)
    assert "corpus path" in proc.stderr and "does not exist" in proc.stderr
    assert not (d / "data/train").exists()

import filecmp

import soundfile

from helpers import run
from espnet2_unlearn.data.kaldi_dir import read_table

ARGS = "--num_speakers 6 --num_valid_speakers 1 --num_test_speakers 1 --utts_per_emotion 2"


def make(tmp_path, name, seed=0):
    out = tmp_path / name
    run(f"python -m espnet2_unlearn.bin.make_corpus --data_dir {out}/data --wav_dir {out}/wav {ARGS} --seed {seed}")
    return out


def test_labels_speakers_and_splits(tmp_path):
    out = make(tmp_path, "a")
    spk_of_split = {}
    for split in ("train", "valid", "test"):
        d = out / "data" / split
        text, utt2spk, wavs = (read_table(d / f) for f in ("text", "utt2spk", "wav.scp"))
        assert set(text) == set(utt2spk) == set(wavs)
        for utt, label in text.items():
            spk, emotion, _ = utt.split("_")
            assert label == emotion and utt2spk[utt] == spk
            audio, rate = soundfile.read(wavs[utt])
            assert rate == 16000 and audio.ndim == 1
        spk_of_split[split] = set(utt2spk.values())
        assert {v for v in text.values()} == {"angry", "happy", "neutral", "sad"}
        assert (d / "spk2utt").exists()
    assert len(spk_of_split["train"]) == 4
    assert not spk_of_split["train"] & spk_of_split["valid"]
    assert not spk_of_split["train"] & spk_of_split["test"]
    assert not spk_of_split["valid"] & spk_of_split["test"]
    assert not list((out / "data").glob(".*tmp*")) and not (tmp_path / "a" / "wav.tmp").exists()


def test_same_seed_same_corpus(tmp_path):
    a, b, c = make(tmp_path, "a"), make(tmp_path, "b"), make(tmp_path, "c", seed=1)
    wav = "spk01/spk01_sad_002.wav"
    assert filecmp.cmp(a / "wav" / wav, b / "wav" / wav, shallow=False)
    assert not filecmp.cmp(a / "wav" / wav, c / "wav" / wav, shallow=False)


def test_impossible_split_is_an_error(tmp_path):
    proc = run(f"python -m espnet2_unlearn.bin.make_corpus --data_dir {tmp_path}/d --wav_dir {tmp_path}/w "
               "--num_speakers 3 --num_valid_speakers 2 --num_test_speakers 1", check=False)
    assert "cannot be split" in proc.stderr
    assert not (tmp_path / "d").exists() and not (tmp_path / "w").exists()


def test_evaluation_speakers_can_record_more(tmp_path):
    out = tmp_path / "big"
    run(f"python -m espnet2_unlearn.bin.make_corpus --data_dir {out}/data --wav_dir {out}/wav {ARGS} "
        "--valid_utts_per_emotion 3 --test_utts_per_emotion 5")
    counts = {s: len(read_table(out / "data" / s / "text")) for s in ("train", "valid", "test")}
    assert counts == {"train": 4 * 4 * 2, "valid": 1 * 4 * 3, "test": 1 * 4 * 5}
    # A speaker's first utterances are the same whatever the count.
    small = make(tmp_path, "small")
    wav = "spk06/spk06_angry_002.wav"
    assert filecmp.cmp(small / "wav" / wav, out / "wav" / wav, shallow=False)


def test_zero_utterances_is_refused(tmp_path):
    proc = run(f"python -m espnet2_unlearn.bin.make_corpus --data_dir {tmp_path}/d --wav_dir {tmp_path}/w "
               f"{ARGS} --test_utts_per_emotion 0", check=False)
    assert "--test_utts_per_emotion must be at least 1" in proc.stderr
    assert not (tmp_path / "d").exists()

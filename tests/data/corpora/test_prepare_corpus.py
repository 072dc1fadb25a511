"""The corpus readers on tiny fake corpora in the real layouts."""

import pytest
import soundfile

from espnet2_unlearn.bin.prepare_corpus import main as prepare
from espnet2_unlearn.data.kaldi_dir import read_table
from fake_corpora import make_cremad, make_emodb, make_iemocap, make_ravdess


def sets(data):
    return {s: (read_table(data / s / "text"), read_table(data / s / "utt2spk"), read_table(data / s / "wav.scp"))
            for s in ("train", "valid", "test")}


def speakers_of(tables):
    return {s: set(t[1].values()) for s, t in tables.items()}


def test_ravdess_labels_speakers_split_and_16k(tmp_path):
    root = make_ravdess(tmp_path / "RAVDESS")
    data = tmp_path / "data"
    prepare(["ravdess", str(root), "--data_dir", str(data), "--wav_dir", str(tmp_path / "wav16k")])
    t = sets(data)
    assert speakers_of(t) == {"train": {f"Actor_{a:02d}" for a in range(1, 21)},
                              "valid": {"Actor_21", "Actor_22"}, "test": {"Actor_23", "Actor_24"}}
    text, utt2spk, wav = t["train"]
    assert text["Actor_01_03-01-05-01-01-02-01"] == "angry" and text["Actor_01_03-01-02-01-01-01-01"] == "calm"
    assert set(text.values()) == {"neutral", "calm", "happy", "angry"}
    info = soundfile.info(wav["Actor_01_03-01-01-01-01-01-01"])  # the stereo 48 kHz one
    assert info.samplerate == 16000 and info.channels == 1
    prepare(["ravdess", str(root), "--data_dir", str(data), "--wav_dir", str(tmp_path / "wav16k"), "--merge_calm"])
    assert set(sets(data)["train"][0].values()) == {"neutral", "happy", "angry"}


def test_cremad(tmp_path):
    root = make_cremad(tmp_path / "CREMA-D")
    data = tmp_path / "data"
    prepare(["cremad", str(root), "--data_dir", str(data)])
    t = sets(data)
    assert speakers_of(t)["test"] == {str(a) for a in range(1082, 1092)}
    assert speakers_of(t)["valid"] == {str(a) for a in range(1072, 1082)}
    assert t["train"][0]["1001_1001_DFA_ANG_XX"] == "angry"
    assert t["train"][2]["1001_1001_DFA_ANG_XX"].endswith("AudioWAV/1001_DFA_ANG_XX.wav")  # 16 kHz: used as is


def test_emodb(tmp_path):
    root = make_emodb(tmp_path / "emodb")
    data = tmp_path / "data"
    prepare(["emodb", str(root), "--data_dir", str(data), "--test_speakers", "03", "--valid_speakers", "08"])
    t = sets(data)
    assert speakers_of(t)["test"] == {"03"} and speakers_of(t)["valid"] == {"08"}
    assert t["test"][0]["03_03a01Wa"] == "angry" and t["test"][0]["03_03b02Fa"] == "happy"


def test_iemocap_four_classes_and_sessions(tmp_path):
    root = make_iemocap(tmp_path / "IEMOCAP_full_release")
    data = tmp_path / "data"
    prepare(["iemocap", str(root), "--data_dir", str(data), "--test_session", "1", "--valid_session", "2"])
    t = sets(data)
    assert speakers_of(t) == {"train": {"Ses03F", "Ses03M", "Ses04F", "Ses04M", "Ses05F", "Ses05M"},
                              "valid": {"Ses02F", "Ses02M"}, "test": {"Ses01F", "Ses01M"}}
    text = t["test"][0]
    assert text["Ses01M_Ses01F_impro01_M001"] == "happy" and text["Ses01F_Ses01F_impro01_F002"] == "happy"  # hap, exc
    assert text["Ses01F_Ses01M_script01_1_F003"] == "angry"
    assert set(text.values()) == {"neutral", "happy", "angry", "sad"}
    assert len(text) == 2 * 2 * 5  # fru and xxx left out


def test_bad_corpora(tmp_path):
    data = tmp_path / "data"
    with pytest.raises(SystemExit, match="no corpus path given: set EMODB"):
        prepare(["emodb", "", "--data_dir", str(data)])
    with pytest.raises(SystemExit, match="does not exist or is not a directory"):
        prepare(["emodb", str(tmp_path / "nowhere"), "--data_dir", str(data)])
    with pytest.raises(SystemExit, match="no wav file"):
        prepare(["cremad", str(tmp_path), "--data_dir", str(data)])

    root = make_emodb(tmp_path / "emodb", speakers=("03", "08", "15", "16", "12", "14"))
    (root / "wav/03a01Xa.wav").write_bytes((root / "wav/03a01Wa.wav").read_bytes())
    with pytest.raises(SystemExit, match="03a01Xa.wav: unknown emotion code X"):
        prepare(["emodb", str(root), "--data_dir", str(data)])
    (root / "wav/03a01Xa.wav").unlink()
    with pytest.raises(SystemExit, match="test speaker.s. 99 have no utterance"):
        prepare(["emodb", str(root), "--data_dir", str(data), "--test_speakers", "99"])
    (root / "wav/08a01Wa.wav").write_bytes(b"not audio")
    with pytest.raises(SystemExit, match="cannot read .*08a01Wa.wav"):
        prepare(["emodb", str(root), "--data_dir", str(data)])

    root = make_iemocap(tmp_path / "iemocap", labels=("neu", "ang"))
    f = root / "Session2/dialog/EmoEvaluation/Ses02F_impro01.txt"
    good = f.read_text()
    f.write_text(good.replace("\tneu\t", "\tcalm\t", 1))
    with pytest.raises(SystemExit, match=r"Ses02F_impro01.txt:3: unknown emotion code 'calm'"):
        prepare(["iemocap", str(root), "--data_dir", str(data)])
    f.write_text(good.replace("\tneu\t[2.5000", "\tneu [2.5000", 1))
    with pytest.raises(SystemExit, match=r"Ses02F_impro01.txt:3: malformed evaluation line"):
        prepare(["iemocap", str(root), "--data_dir", str(data)])
    f.write_text(good)
    (root / "Session3/sentences/wav/Ses03M_script01_1/Ses03M_script01_1_F001.wav").unlink()
    with pytest.raises(SystemExit, match="the audio of Ses03M_script01_1_F001, .* does not exist"):
        prepare(["iemocap", str(root), "--data_dir", str(data)])
    assert not data.exists() or not any(data.iterdir())  # nothing half-written


def test_cremad_without_git_lfs_says_what_to_do(tmp_path):
    root = make_cremad(tmp_path / "CREMA-D", actors=[1001])
    pointer = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")
    (root / "AudioWAV/1001_DFA_ANG_XX.wav").write_text(pointer)
    data = tmp_path / "data"
    with pytest.raises(SystemExit, match=r"1001_DFA_ANG_XX.wav is a git-lfs pointer file \(.* bytes\), not audio: "
                                         r"the corpus was cloned without git-lfs. Install git-lfs, run 'git lfs pull'"):
        prepare(["cremad", str(root), "--data_dir", str(data)])
    assert not data.exists()


def test_known_bad_clip_is_skipped_and_silent_clips_are_named(tmp_path, caplog):
    root = make_cremad(tmp_path / "CREMA-D", actors=[1001, 1076], emotions=("ANG", "SAD"))
    bad = root / "AudioWAV/1076_MTI_SAD_XX.wav"  # the clip CREMA-D's README lists as unusable
    soundfile.write(bad, [0.0] * 8000, 16000)
    soundfile.write(root / "AudioWAV/1001_IEO_SAD_XX.wav", [0.25] * 8000, 16000)  # constant: flat features
    data = tmp_path / "data"
    with caplog.at_level("INFO"):
        prepare(["cremad", str(root), "--data_dir", str(data)])
    assert "1076_1076_MTI_SAD_XX" not in read_table(data / "valid/text")
    assert any(f"skipping {bad}: no usable audio" in r.message for r in caplog.records)
    warnings = [r.message for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "1001_IEO_SAD_XX.wav (1001_1001_IEO_SAD_XX) is silent or constant" in warnings[0]

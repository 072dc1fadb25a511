import kaldiio
import numpy as np
import soundfile

from helpers import ROOT, run
from espnet2_unlearn.data.fbank import compute_fbank, read_fbank_conf


def write_wavs(tmp_path, n=3, rate=16000):
    lines = []
    for i in range(n):
        path = tmp_path / f"u{i}.wav"
        audio = np.random.default_rng(i).normal(0, 0.1, 8000 + 1600 * i)
        soundfile.write(path, audio, rate, subtype="PCM_16")
        lines.append(f"utt{i} {path}\n")
    (tmp_path / "wav.scp").write_text("".join(lines))
    return tmp_path / "wav.scp"


def cmd(tmp_path, scp):
    return (f"python -m espnet2_unlearn.bin.compute_fbank --fbank_conf {ROOT}/conf/fbank.conf "
            f"{scp} {tmp_path}/f.ark {tmp_path}/f.scp {tmp_path}/n")


def test_ark_is_readable_and_matches(tmp_path):
    scp = write_wavs(tmp_path)
    run(cmd(tmp_path, scp))
    feats = dict(kaldiio.load_scp(str(tmp_path / "f.scp")))
    assert sorted(feats) == ["utt0", "utt1", "utt2"]
    opts = read_fbank_conf(ROOT / "conf/fbank.conf")
    audio, _ = soundfile.read(tmp_path / "u1.wav", dtype="float32")
    np.testing.assert_array_equal(feats["utt1"], compute_fbank(audio, opts))
    frames = dict(line.split() for line in (tmp_path / "n").read_text().splitlines())
    assert int(frames["utt2"]) == feats["utt2"].shape[0]


def test_missing_wav_names_the_utterance_and_writes_nothing(tmp_path):
    scp = write_wavs(tmp_path)
    (tmp_path / "u1.wav").unlink()
    proc = run(cmd(tmp_path, scp), check=False)
    assert "utterance utt1" in proc.stderr and "u1.wav" in proc.stderr
    assert not any(p.name.startswith("f.") or p.name.startswith("n") for p in tmp_path.iterdir())


def test_wrong_sample_rate_is_an_error(tmp_path):
    scp = write_wavs(tmp_path, rate=8000)
    proc = run(cmd(tmp_path, scp), check=False)
    assert "utterance utt0" in proc.stderr and "8000 Hz, expected 16000 Hz" in proc.stderr


def test_unreadable_wav_is_an_error(tmp_path):
    scp = write_wavs(tmp_path)
    (tmp_path / "u2.wav").write_bytes(b"not a wav file at all")
    proc = run(cmd(tmp_path, scp), check=False)
    assert "utterance utt2" in proc.stderr and "cannot read audio" in proc.stderr


def test_clip_shorter_than_a_frame_names_the_utterance(tmp_path):
    scp = write_wavs(tmp_path)
    soundfile.write(tmp_path / "u1.wav", np.zeros(300), 16000, subtype="PCM_16")
    proc = run(cmd(tmp_path, scp), check=False)
    assert f"compute_fbank: utterance utt1 ('{tmp_path / 'u1.wav'}'): 300 samples is shorter than one frame " \
        "(400 samples at 16000 Hz)" in proc.stderr
    assert not (tmp_path / "f.ark").exists()

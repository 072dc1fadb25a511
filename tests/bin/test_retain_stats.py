
import kaldiio
import numpy as np
import pytest

from helpers import run

DIM = 5


def write_train(d, lengths):
    """A training set of real kaldiio features and its statistics dir, as
    collect_stats writes one (sums over every frame, lengths, shapes)."""
    rng = np.random.default_rng(0)
    feats = {f"u{i:02d}": (3 + rng.standard_normal((n, DIM))).astype(np.float32) for i, n in enumerate(lengths)}
    (d / "train").mkdir(parents=True)
    with kaldiio.WriteHelper(f"ark,scp:{d}/train/feats.ark,{d}/train/feats.scp") as w:
        for u, x in feats.items():
            w(u, x)
    stats = d / "stats"
    for part in ("train", "valid"):
        (stats / part).mkdir(parents=True)
    (stats / "valid/speech_shape").write_text("v1 7,5\n")
    (stats / "train/speech_shape").write_text("".join(f"{u} {len(x)},{DIM}\n" for u, x in feats.items()))
    (stats / "train/label_shape").write_text("".join(f"{u} 1\n" for u in feats))
    save_stats(stats / "train", feats.values())
    return feats, stats


def save_stats(where, arrays):
    x = np.concatenate(list(arrays))
    lengths = np.array([len(a) for a in arrays])
    np.savez(where / "feats_stats.npz", count=np.array(len(x)), sum=x.sum(0), sum_square=(x * x).sum(0))
    np.savez(where / "feats_lengths_stats.npz", count=np.array(len(lengths)), sum=lengths.sum(),
             sum_square=(lengths * lengths).sum())


def retain_dir(d, utts):
    (d / "retain").mkdir(exist_ok=True)
    (d / "retain/utt2spk").write_text("".join(f"{u} s\n" for u in utts))
    return d / "retain"


def derive(d, stats, retain, check=True):
    return run(f"python -m espnet2_unlearn.bin.retain_stats --train_stats_dir {stats} --feats_scp {d}/train/feats.scp "
               f"--retain_dir {retain} --output_dir {d}/out", check=check)


def test_equals_the_statistics_of_the_retain_set_itself(tmp_path):
    feats, stats = write_train(tmp_path, [30, 12, 25, 40, 18])
    keep = ["u00", "u02", "u04"]
    derive(tmp_path, stats, retain_dir(tmp_path, keep))
    (tmp_path / "expected").mkdir()
    save_stats(tmp_path / "expected", [feats[u] for u in keep])
    for name in ("feats_stats.npz", "feats_lengths_stats.npz"):
        got, want = np.load(tmp_path / "out/train" / name), np.load(tmp_path / "expected" / name)
        assert set(got) == set(want)
        for k in want:
            assert got[k].dtype == want[k].dtype
            np.testing.assert_allclose(got[k], want[k], rtol=1e-6)
    assert (tmp_path / "out/train/speech_shape").read_text() == "u00 30,5\nu02 25,5\nu04 18,5\n"
    assert (tmp_path / "out/train/label_shape").read_text() == "u00 1\nu02 1\nu04 1\n"
    assert (tmp_path / "out/valid/speech_shape").read_text() == "v1 7,5\n"


def test_refuses_statistics_of_another_training_set(tmp_path):
    _, stats = write_train(tmp_path, [30, 12])
    proc = derive(tmp_path, stats, retain_dir(tmp_path, ["u00", "x9"]), check=False)
    assert proc.returncode != 0
    assert "x9 is not in" in proc.stderr and "speech_shape" in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.tmp").exists()


def test_refuses_shapes_that_are_not_of_these_features(tmp_path):
    _, stats = write_train(tmp_path, [30, 12])
    (stats / "train/speech_shape").write_text("u00 30,5\nu01 13,5\n")
    proc = derive(tmp_path, stats, retain_dir(tmp_path, ["u00"]), check=False)
    assert proc.returncode != 0 and "u01 has 13,5" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_agrees_with_espnet_collecting_the_retain_set(tiny_recipe, tmp_path):
    """The recipe's own statistics (stage 3, ESPnet's collect_stats) less a
    forget set equal ESPnet's collect_stats over the retain set."""
    d, _ = tiny_recipe
    train = d / "dump/fbank/train"
    utts = sorted(line.split()[0] for line in (train / "utt2spk").read_text().splitlines())
    keep = [u for i, u in enumerate(utts) if i % 5]
    retain = tmp_path / "retain"
    retain.mkdir()
    for name in ("feats.scp", "text", "utt2spk"):
        lines = (train / name).read_text().splitlines()
        (retain / name).write_text("".join(f"{x}\n" for x in lines if x.split()[0] in keep))
    run(f"python -m espnet2_unlearn.bin.retain_stats --train_stats_dir exp/ser_stats --feats_scp {train}/feats.scp "
        f"--retain_dir {retain} --output_dir {tmp_path}/derived", cwd=d)
    valid = d / "dump/fbank/valid"
    dim = (d / "exp/ser_stats/train/speech_shape").read_text().split()[1].split(",")[1]
    run(f"python -m espnet2.bin.cls_train --collect_stats true --use_preprocessor true --token_list data/token_list "
        f"--input_size {dim} --normalize none --config conf/train_tiny.yaml "
        f"--train_data_path_and_name_and_type {retain}/feats.scp,speech,kaldi_ark "
        f"--train_data_path_and_name_and_type {retain}/text,label,text "
        f"--valid_data_path_and_name_and_type {valid}/feats.scp,speech,kaldi_ark "
        f"--valid_data_path_and_name_and_type {valid}/text,label,text "
        f"--train_shape_file {retain}/feats.scp --valid_shape_file {valid}/feats.scp "
        f"--output_dir {tmp_path}/collected", cwd=d)
    for name in ("feats_stats.npz", "feats_lengths_stats.npz"):
        got, want = np.load(tmp_path / "derived/train" / name), np.load(tmp_path / "collected/train" / name)
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-5)
    for name in ("speech_shape", "label_shape"):
        assert (tmp_path / "derived/train" / name).read_text() == (tmp_path / "collected/train" / name).read_text()

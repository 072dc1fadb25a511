import kaldiio
import numpy as np
import pytest

from espnet2_unlearn.purge.archives import NEW, ArchiveError, replace_all, rewrite_archives


def make_ark(d, name, entries):
    d.mkdir(parents=True, exist_ok=True)
    kaldiio.save_ark(str(d / f"{name}.ark"), entries, scp=str(d / f"{name}.scp"))


def features(n, seed=0):
    rng = np.random.default_rng(seed)
    return {f"spk1_u{i:03d}": rng.standard_normal((5 + i, 4)).astype(np.float32) for i in range(n)}


def test_rewritten_arks_drop_the_matrices_and_every_scp_follows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # scp paths are relative to the recipe directory
    feats = features(6)
    make_ark(tmp_path / "dump/train/data", "feats.1", feats)
    # a feats.scp with paths relative to the recipe, and a second scp (a retain
    # set, a statistics split) pointing into the same ark
    lines = (tmp_path / "dump/train/data/feats.1.scp").read_text().replace(str(tmp_path) + "/", "")
    (tmp_path / "dump/train/feats.scp").write_text(lines)
    retain = tmp_path / "dump/train_retain/feats.scp"
    retain.parent.mkdir(parents=True)
    retain.write_text("".join(line + "\n" for line in lines.splitlines()[2:]))
    forget = {"spk1_u001", "spk1_u004"}
    scps = [tmp_path / "dump/train/feats.scp", retain, tmp_path / "dump/train/data/feats.1.scp"]
    rewrites = rewrite_archives([tmp_path / "dump/train/data/feats.1.ark"], scps, forget, tmp_path)
    # nothing is replaced until the caller says so
    assert all(r.new.name.endswith(NEW) and r.new.exists() for r in rewrites)
    assert dict(kaldiio.load_ark(str(tmp_path / "dump/train/data/feats.1.ark"))).keys() == feats.keys()
    replace_all([(r.new, r.final) for r in rewrites])
    ark = dict(kaldiio.load_ark(str(tmp_path / "dump/train/data/feats.1.ark")))
    assert set(ark) == set(feats) - forget
    assert b"spk1_u001" not in (tmp_path / "dump/train/data/feats.1.ark").read_bytes()
    for scp in scps:
        loaded = dict(kaldiio.load_scp(str(scp)).items())
        assert not forget & set(loaded)
        for key, matrix in loaded.items():
            assert np.array_equal(matrix, feats[key])
    assert sorted(kaldiio.load_scp(str(retain))) == ["spk1_u002", "spk1_u003", "spk1_u005"]
    assert all(not r.new.exists() for r in rewrites)


def test_a_line_into_a_rewritten_ark_for_a_key_it_does_not_hold_is_refused(tmp_path):
    make_ark(tmp_path, "a", features(3))
    scp = tmp_path / "x.scp"
    scp.write_text(f"ghost {tmp_path}/a.ark:16\n")
    with pytest.raises(ArchiveError, match="x.scp:1: ghost points into"):
        rewrite_archives([tmp_path / "a.ark"], [scp], {"spk1_u000"}, tmp_path)


def test_replace_all_finishes_what_an_interrupted_run_left(tmp_path):
    (tmp_path / "a").write_text("old a")
    (tmp_path / "b").write_text("old b")
    (tmp_path / ("b" + NEW)).write_text("new b")
    replace_all([(tmp_path / ("a" + NEW), tmp_path / "a"), (tmp_path / ("b" + NEW), tmp_path / "b")])
    assert (tmp_path / "a").read_text() == "old a"  # its new file was renamed before the interruption
    assert (tmp_path / "b").read_text() == "new b"


def test_scp_lines_of_forgotten_keys_go_whatever_they_point_to(tmp_path):
    make_ark(tmp_path, "a", features(2))
    wav = tmp_path / "wav.scp"
    wav.write_text("spk1_u000 downloads/spk1_u000.wav\nspk1_u001 downloads/spk1_u001.wav\n")
    (rewrite,) = rewrite_archives([], [wav], {"spk1_u000"}, tmp_path)
    assert rewrite.new.read_text() == "spk1_u001 downloads/spk1_u001.wav\n"

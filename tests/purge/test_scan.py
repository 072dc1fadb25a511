import zipfile

import kaldiio
import numpy as np

from espnet2_unlearn.purge.audit import salted_hashes
from espnet2_unlearn.purge.scan import id_pattern, scan, scan_hashed


def test_ids_are_found_whole_not_inside_longer_ids():
    p = id_pattern(["spk1_001"])
    assert p.search(b"spk1_001 angry")
    assert p.search(b"downloads/builtin/spk1/spk1_001.wav")
    assert not p.search(b"spk1_0012 angry") and not p.search(b"xspk1_001")


def recipe_with_mentions(root):
    (root / "data/train").mkdir(parents=True)
    (root / "data/train/text").write_text("spk1_001 angry\nspk1_002 sad\n")
    (root / "exp/m").mkdir(parents=True)
    (root / "exp/m/model.pth").write_bytes(b"\x00\x01 weights")
    # the key of an ark right after a matrix that ends in letters: found all the same
    matrix = np.frombuffer(b"abcdabcdabcdabcd", dtype=np.float32).reshape(1, 4)
    kaldiio.save_ark(str(root / "exp/m/x.ark"), {"spk1_000": matrix, "spk1_003": matrix})
    with zipfile.ZipFile(root / "exp/m/packed.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.txt", "forgot spk1_004\n")
    (root / "dump/spk1_005").mkdir(parents=True)


def test_scan_finds_text_ark_keys_zip_members_and_names(tmp_path):
    recipe_with_mentions(tmp_path)
    ids = ["spk1_001", "spk1_003", "spk1_004", "spk1_005", "spk1_999"]
    found = {(f.path.relative_to(tmp_path).as_posix(), f.kind, tuple(sorted(f.ids)))
             for f in scan([tmp_path / r for r in ("data", "dump", "exp")], ids)}
    assert found == {("data/train/text", "text", ("spk1_001",)), ("exp/m/x.ark", "ark", ("spk1_003",)),
                     ("exp/m/packed.zip", "zip", ("spk1_004",)), ("dump/spk1_005", "name", ("spk1_005",))}
    assert not scan([tmp_path / "data"], ["spk1_001"], skip=[tmp_path / "data/train"])


def test_the_hashed_scan_finds_the_same_files_without_the_ids(tmp_path):
    recipe_with_mentions(tmp_path)
    salt = "00ff"
    hashes = salted_hashes(["spk1_001", "spk1_003", "spk1_004", "spk1_005"], salt)
    found = {p.relative_to(tmp_path).as_posix() for p in scan_hashed([tmp_path / r for r in ("data", "dump", "exp")],
                                                                      salt, hashes)}
    assert found == {"data/train/text", "exp/m/x.ark", "exp/m/packed.zip", "dump/spk1_005"}
    assert not scan_hashed([tmp_path / "data"], salt, salted_hashes(["spk1_0"], salt))

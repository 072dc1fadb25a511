"""bench/model_store.py: content keys follow inputs, entries round-trip."""

import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import model_store  # noqa: E402


def test_the_module_closure_follows_imports_into_the_package():
    files = {str(p.relative_to(ROOT)) for p in model_store.module_closure(["espnet2_unlearn.bin.train_statistics"], ROOT)}
    assert "espnet2_unlearn/bin/train_statistics.py" in files
    assert "espnet2_unlearn/unlearn/training_data.py" in files  # imported by name from espnet2_unlearn.unlearn
    assert "espnet2_unlearn/unlearn/__init__.py" in files
    assert "espnet2_unlearn/bin/purge.py" not in files


def test_a_key_changes_with_its_arguments_and_files(tmp_path):
    (tmp_path / "conf").mkdir()
    config = tmp_path / "conf/train.yaml"
    config.write_text("max_epoch: 30\n")
    key = model_store.content_key(tmp_path, {"n": 1}, ["conf/train.yaml"])
    assert key == model_store.content_key(tmp_path, {"n": 1}, ["conf/train.yaml"])
    assert key != model_store.content_key(tmp_path, {"n": 2}, ["conf/train.yaml"])
    config.write_text("max_epoch: 20\n")
    assert key != model_store.content_key(tmp_path, {"n": 1}, ["conf/train.yaml"])
    with pytest.raises(FileNotFoundError, match="missing.*absent.yaml"):
        model_store.content_key(tmp_path, {}, ["conf/absent.yaml"])


def test_an_entry_round_trips_and_links_are_stored_as_files(tmp_path):
    base, store, other = tmp_path / "recipe", tmp_path / "store", tmp_path / "other"
    (base / "exp/m/decode").mkdir(parents=True)
    (base / "exp/m/model_5best.pth").write_bytes(b"weights")
    (base / "exp/m/model.pth").symlink_to("model_5best.pth")
    (base / "exp/m/decode/score").write_text("u1 happy\n")
    model_store.save("source", "abc", base, [Path("exp/m/model.pth"), Path("exp/m/decode")], store)
    assert [p.name for p in store.iterdir()] == ["source_abc.tar.gz"]
    assert model_store.restore("source", "abc", other, store)
    assert not (other / "exp/m/model.pth").is_symlink()
    assert (other / "exp/m/model.pth").read_bytes() == b"weights"
    assert (other / "exp/m/decode/score").read_text() == "u1 happy\n"
    assert not model_store.restore("source", "abd", other, store)


def test_a_missing_member_stores_nothing(tmp_path):
    (tmp_path / "exp").mkdir()
    with pytest.raises(FileNotFoundError, match="exp/absent"):
        model_store.save("gold", "k", tmp_path, [Path("exp/absent")], tmp_path / "store")
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").iterdir())


def test_an_entry_that_leaves_its_directory_is_refused(tmp_path):
    (tmp_path / "store").mkdir()
    evil = tmp_path / "evil"
    evil.write_text("x")
    with tarfile.open(model_store.entry("gold", "k", tmp_path / "store"), "w:gz") as tar:
        tar.add(evil, arcname="../evil")
    with pytest.raises(ValueError, match="leaves the directory"):
        model_store.restore("gold", "k", tmp_path / "recipe", tmp_path / "store")

import json
import pytest

from helpers import run
from espnet2_unlearn.data.forget_list import ForgetSetError, content_key, read_forget_ids, request_of

UTT2SPK = {"a1": "a", "a2": "a", "b1": "b", "b2": "b"}


def test_content_key_depends_on_the_ids_only():
    assert content_key(["a1", "b1"]) == content_key(["b1", "a1"])
    assert content_key(["a1", "b1"]) != content_key(["a1", "b2"])
    assert len(content_key(["a1"])) == 12


def test_request_kind():
    assert request_of(["a1", "a2"], UTT2SPK) == "speaker"
    assert request_of(["a1", "a2", "b1"], UTT2SPK) == "utterance"


def test_data_dir_or_id_file(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d/utt2spk").write_text("a1 a\nb1 b\n")
    (tmp_path / "ids").write_text("b1 whatever\n\na1\n")
    assert read_forget_ids(tmp_path / "d") == ["a1", "b1"]
    assert read_forget_ids(tmp_path / "ids") == ["b1", "a1"]
    (tmp_path / "dup").write_text("a1\nb1\na1\n")
    with pytest.raises(ForgetSetError, match="dup:3: utterance a1 is listed twice"):
        read_forget_ids(tmp_path / "dup")


def write_train(tmp_path):
    d = tmp_path / "train"
    d.mkdir()
    (d / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in UTT2SPK.items()))
    return d


def test_command_prints_count_request_and_key(tmp_path):
    train = write_train(tmp_path)
    (tmp_path / "ids").write_text("b2\nb1\n")
    out = run(f"python -m espnet2_unlearn.bin.forget_list --train_dir {train} --ids_for 7 --expdir {tmp_path}/exp "
              f"{tmp_path}/ids").stdout.split()
    assert out == ["2", "speaker", content_key(["b1", "b2"]), "2", f"{tmp_path}/exp/.forget_ids.7"]
    assert (tmp_path / "exp/.forget_ids.7").read_text() == "b1\nb2\n"


def test_gold_leaves_out_the_requests_a_model_served_before(tmp_path):
    import yaml

    train = write_train(tmp_path)
    (tmp_path / "first").write_text("a1\n")
    (tmp_path / "ids").write_text("b2\n")
    conf = tmp_path / "config.yaml"
    conf.write_text(yaml.safe_dump({"unlearn_conf": {"requests_served": [
        {"request": "first", "forget_list": str(tmp_path / "first"), "forget_key": "x", "num_forget_utts": 1}]}}))
    out = run(f"python -m espnet2_unlearn.bin.forget_list --train_dir {train} --ids_for 7 --expdir {tmp_path}/exp "
              f"--source_config {conf} {tmp_path}/ids").stdout.split()
    assert out[:4] == ["1", "utterance", content_key(["a1", "b2"]), "2"]
    assert (tmp_path / "exp/.forget_ids.7").read_text() == "a1\nb2\n"
    # an earlier request whose list is gone and that was never purged cannot be left out
    (tmp_path / "first").unlink()
    proc = run(f"python -m espnet2_unlearn.bin.forget_list --train_dir {train} --source_config {conf} "
               f"--expdir {tmp_path} {tmp_path}/ids", check=False)
    assert "served request first before, whose forget list" in proc.stderr and "was not purged" in proc.stderr


def test_an_utterance_purged_before_is_named_as_such(tmp_path):
    from espnet2_unlearn.purge.audit import salted_hashes

    train = write_train(tmp_path)
    requests = tmp_path / "exp/requests"
    requests.mkdir(parents=True)
    (requests / "old.json").write_text(json.dumps({"request": "old", "time": "2026-01-01T00:00:00+00:00",
                                                   "utterance_id_hashes": {"salt": "ab",
                                                                           "hashes": salted_hashes(["gone"], "ab")}}))
    (tmp_path / "ids").write_text("a1\ngone\n")
    proc = run(f"python -m espnet2_unlearn.bin.forget_list --train_dir {train} --expdir {tmp_path}/exp "
               f"{tmp_path}/ids", check=False)
    assert "utterance gone of the forget list was purged by request old (2026-01-01T00:00:00+00:00)" in proc.stderr


def test_command_refuses_ids_outside_the_training_data(tmp_path):
    train = write_train(tmp_path)
    (tmp_path / "ids").write_text("a1\nzz\nyy\n")
    proc = run(f"python -m espnet2_unlearn.bin.forget_list --train_dir {train} --ids_for 7 --expdir {tmp_path}/exp "
               f"{tmp_path}/ids", check=False)
    assert f"utterance zz (line 2) of the forget list is not in {train}/utt2spk (nor are 1 more)" in proc.stderr
    assert not (tmp_path / "exp/.forget_ids.7").exists() and proc.stdout == ""


@pytest.mark.parametrize("content, message", [
    (b"a1\n\x00\xff\xfe\x89PNG\n", "bad:2: not UTF-8 text"),
    (b"# ids of request 7\na1\n", "bad:1: '#' is not an utterance id"),
])
def test_a_list_that_is_no_list_of_ids_is_refused_naming_the_line(tmp_path, content, message):
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(ForgetSetError, match=message):
        read_forget_ids(tmp_path / "bad")


@pytest.mark.parametrize("ids, message", [
    ("a1\na2\nb1\nb2\n", "holds all 4 training utterances"),
    ("a1\nb1\n", "holds every training utterance of class 'sad' (2 in"),
])
def test_a_list_that_leaves_nothing_or_no_class_to_learn_from_is_refused(tmp_path, ids, message):
    train = write_train(tmp_path)
    (train / "text").write_text("a1 sad\na2 happy\nb1 sad\nb2 happy\n")
    (tmp_path / "ids").write_text(ids)
    proc = run(f"python -m espnet2_unlearn.bin.forget_list --train_dir {train} --ids_for 7 --expdir {tmp_path}/exp "
               f"{tmp_path}/ids", check=False)
    assert message in proc.stderr and not (tmp_path / "exp/.forget_ids.7").exists()

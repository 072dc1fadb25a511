"""A purge killed (SIGKILL) at each step of its journal and run again
writes the audit record an uninterrupted purge writes, field by field, and
one line of the index for it."""

import json
import sys
from pathlib import Path

import pytest

from helpers import TINY_DATA, copy_recipe, run
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.purge.audit import salted_hashes

RUN = f"./run.sh {TINY_DATA} --tag tiny"
FAULT_AT = Path(__file__).with_name("fault_at.py")
# after the journal is first written, after the first archive and the first
# scp are renamed over their originals, after the second of the recipe's
# own audio copies is deleted, and with the record written, just before the
# journal is removed
KILL_POINTS = ["replace:.purge.json:1", "replace:.ark:1", "replace:.scp:1", "unlink:.wav:2",
               "unlink_before:.purge.json:1"]


@pytest.fixture(scope="module")
def served(tiny_recipe, tmp_path_factory):
    """A recipe with a served, evaluated speaker request, not yet purged."""
    d = copy_recipe(tiny_recipe[0], tmp_path_factory.mktemp("served") / "recipe",
                    ("conf", "data", "dump", "exp", "downloads"))
    speaker = sorted(read_table(d / "data/train/spk2utt"))[0]
    run(f". ./path.sh && python -m espnet2_unlearn.bin.make_forget --speakers {speaker} data/train data/forget", cwd=d)
    run(f"{RUN} --stage 5 --stop_stage 6 --forget_list data/forget --unlearn_args '--max_steps 2 --allow_unreached true'",
        cwd=d)
    return d


# as ser.sh's stage 9 calls it
PURGE_ARGS = ("--forget_list data/forget --request forget --unlearn_exp exp/unlearn_forget "
              "--source_model exp/ser_tiny/train.loss.ave.pth")


def comparable(record):
    """The record without what differs by construction (the salt, and so the
    hashes); the hashes are checked against the ids instead."""
    r = json.loads(json.dumps(record))
    del r["utterance_id_hashes"]["salt"], r["utterance_id_hashes"]["hashes"], r["time"]
    return r


@pytest.fixture(scope="module")
def uninterrupted(served, tmp_path_factory):
    d = copy_recipe(served, tmp_path_factory.mktemp("whole") / "recipe", ("conf", "data", "dump", "exp", "downloads"))
    ids = sorted(read_table(d / "data/forget/utt2spk"))
    run(f"{RUN} --stage 9 --forget_list data/forget", cwd=d)
    return json.loads((d / "exp/requests/forget.json").read_text()), ids


@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_a_purge_killed_and_resumed_records_what_an_uninterrupted_one_does(served, uninterrupted, tmp_path, kill_at):
    whole, ids = uninterrupted
    assert len(whole["purge"]["files"]) > 5 and whole["purge"]["own_audio_deleted"]["files"] > 2
    d = copy_recipe(served, tmp_path / "recipe", ("conf", "data", "dump", "exp", "downloads"))
    proc = run(f". ./path.sh && {sys.executable} {FAULT_AT} -m espnet2_unlearn.bin.purge {PURGE_ARGS}", cwd=d,
               check=None, env={"FAULT_AT": f"kill:{kill_at}"})
    assert proc.returncode in (-9, 128 + 9), (proc.returncode, proc.stderr)  # SIGKILLed where it was told
    assert (d / "exp/requests/.forget.purge.json").exists()  # the journal says a purge is under way
    run(f"{RUN} --stage 9 --forget_list data/forget", cwd=d)
    record = json.loads((d / "exp/requests/forget.json").read_text())
    assert comparable(record) == comparable(whole)
    salt = record["utterance_id_hashes"]["salt"]
    assert record["utterance_id_hashes"]["hashes"] == salted_hashes(ids, salt)
    index = (d / "exp/requests/index.tsv").read_text().splitlines()
    assert len(index) == 2 and index[1].split("\t")[1] == "forget"
    assert not (d / "exp/requests/.forget.purge.json").exists()
    run(". ./path.sh && python -m espnet2_unlearn.bin.verify_purge --request forget", cwd=d)

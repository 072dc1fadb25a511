"""Each bad input of stage 5 ends in one ERROR line naming the file, line or
utterance, before anything is written (no output dir, no temporary left)."""

import hashlib
import shutil

import pytest

from helpers import TINY_DATA, copy_recipe, run
from espnet2_unlearn.data.kaldi_dir import read_table

RUN = f"./run.sh {TINY_DATA} --tag tiny"


@pytest.fixture(scope="module")
def recipe(tiny_recipe, tmp_path_factory):
    return copy_recipe(tiny_recipe[0], tmp_path_factory.mktemp("bad") / "recipe")


def tree(d):
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for r in ("data", "dump", "exp") for p in sorted((d / r).rglob("*"))
            if p.is_file() and not p.name.endswith(".log")}


def a_forget_id(d, i=0):
    return sorted(read_table(d / "data/train/utt2spk"))[i]


def binary_list(d):
    (d / "data/binary").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    return "--forget_list data/binary", "data/binary:1: not UTF-8 text"


def blank_in_path(d):
    (d / "data/my list").write_text(a_forget_id(d) + "\n")
    return "--forget_list 'data/my list'", "its path holds a blank"


def comment_line(d):
    (d / "data/commented").write_text(f"{a_forget_id(d)}\n# the rest tomorrow\n")
    return "--forget_list data/commented", "data/commented:2: '#' is not an utterance id"


def all_training_data(d):
    (d / "data/everything").write_text("".join(u + "\n" for u in read_table(d / "data/train/utt2spk")))
    return "--forget_list data/everything", "holds all"


def truncated_model(d):
    shutil.copytree(d / "exp/ser_tiny", d / "exp/ser_cut")
    model = d / "exp/ser_cut/train.loss.ave.pth"
    model.write_bytes(model.read_bytes()[:2000])
    (d / "data/one").write_text(a_forget_id(d) + "\n")
    return "--forget_list data/one --ser_exp exp/ser_cut", "exp/ser_cut/train.loss.ave.pth cannot be read"


def yaml_error(d):
    (d / "conf/broken.yaml").write_text("forget_loss: targeted\nadv_num: [2\n")
    (d / "data/one").write_text(a_forget_id(d) + "\n")
    return "--forget_list data/one --unlearn_config conf/broken.yaml", "conf/broken.yaml"


def truncated_ark(d):
    utt = a_forget_id(d, 3)
    where = read_table(d / "dump/fbank/train/feats.scp")[utt]
    ark, offset = where.rsplit(":", 1)
    cut = d / "dump/cut.ark"
    cut.write_bytes((d / ark).read_bytes()[: int(offset) + 40])  # its matrix header, then nothing
    scp = d / "dump/fbank/train/feats.scp"
    scp.write_text(scp.read_text().replace(f"{utt} {where}\n", f"{utt} dump/cut.ark:{offset}\n"))
    (d / "data/cut").write_text(utt + "\n")
    return "--forget_list data/cut", f"cannot read forget utterance {utt}"


@pytest.mark.parametrize("make", [binary_list, blank_in_path, comment_line, all_training_data, truncated_model,
                                  yaml_error, truncated_ark])
def test_bad_input_gets_one_error_and_nothing_is_written(recipe, tmp_path, make):
    d = copy_recipe(recipe, tmp_path / "recipe")
    options, message = make(d)
    before = tree(d)
    proc = run(f"{RUN} --stage 5 --stop_stage 5 {options}", cwd=d, check=False)
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line or line.startswith("unlearn_train:")]
    assert errors and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list((d / "exp").glob("unlearn_*")) and not list((d / "exp").glob(".unlearn_*.tmp"))
    assert not list((d / "exp").glob(".forget_ids.*"))
    assert tree(d) == before
    said = next(line for line in proc.stderr.splitlines() if message in line)
    print(f"| {make.__name__} | {said[:200]} | none |")  # the bad-input table of the closing note (pytest -s)

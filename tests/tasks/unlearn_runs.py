"""Running stage 5 (unlearn_train) in the tests of the task: a process of
its own, as the recipe runs it, or in this process for runs that must fail
before any work."""

import hashlib
import os

from helpers import run
from espnet2_unlearn.bin.unlearn_train import main as unlearn_train

EXP = "exp/ser_tiny"


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_hashes(d):
    return {p.name: sha(p) for p in sorted((d / EXP).iterdir()) if p.is_file()}


def unlearn_cmd(out, forget_list, *extra, source_model=f"{EXP}/train.loss.ave.pth",
                text="dump/fbank/train/text"):
    return ("--config conf/unlearn.yaml "
            f"--source_model {source_model} --forget_list {forget_list} "
            "--forget_data_path_and_name_and_type dump/fbank/train/feats.scp,speech,kaldi_ark "
            f"--forget_data_path_and_name_and_type {text},label,text "
            f"--output_dir {out} " + " ".join(extra))


def unlearn(d, out, forget_list, *extra, **kw):
    """A real run, in a process of its own as the recipe runs it."""
    return run("python -m espnet2_unlearn.bin.unlearn_train " + unlearn_cmd(out, forget_list, *extra, **kw), cwd=d)


def unlearn_error(d, out, forget_list, *extra, **kw) -> str:
    """The error of a run that must fail before it starts, in this process
    (the checks come before any work, so no process start-up is spent)."""
    cwd = os.getcwd()
    os.chdir(d)
    try:
        unlearn_train([a for a in unlearn_cmd(out, forget_list, *extra, **kw).split() if a])
    except SystemExit as e:
        return str(e.code)
    finally:
        os.chdir(cwd)
    raise AssertionError("the run did not fail")


# Bad input: one clear error, nothing written, the source model unchanged.

def fails(d, out, forget_list, message, *extra, **kw):
    """A run that fails naming the cause, writes nothing and leaves the source as it was."""
    before = source_hashes(d)
    error = unlearn_error(d, out, forget_list, *extra, **kw)
    assert message in error, error
    assert not out.exists() and not list(out.parent.glob(f".{out.name}*"))
    assert source_hashes(d) == before



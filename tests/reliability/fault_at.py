"""Runs a module as `python -m` would, with a fault at a chosen point of
its work: a SIGKILL (a power cut, the OOM killer) or a full disk.

    FAULT_AT=kill:replace:.ark:1 python fault_at.py -m espnet2_unlearn.bin.purge ARGS...

FAULT_AT is what:op:substring:n, the n-th time `op` touches a path that
contains the substring.  what: kill (SIGKILL), or enospc (the call fails
with "No space left on device").  op: replace (os.replace renaming a file
to it; kill: after), unlink (a file deleted; kill: after), unlink_before
(kill: just before), write (a file opened for writing)."""

import builtins
import errno
import io
import os
import runpy
import signal
import sys
from pathlib import Path

what, op, part, nth = os.environ.get("FAULT_AT", "none:none:none:0").split(":")
seen = 0


def fault(path, when: str) -> None:
    global seen
    if when != op or part not in str(path):
        return
    seen += 1
    if seen != int(nth):
        return
    if what == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


_replace, _unlink, _open = os.replace, Path.unlink, builtins.open


def replace(src, dst, *args, **kwargs):
    if what == "enospc":
        fault(dst, "replace")
    _replace(src, dst, *args, **kwargs)
    if what == "kill":
        fault(dst, "replace")


def unlink(self, *args, **kwargs):
    fault(self, "unlink_before")
    _unlink(self, *args, **kwargs)
    fault(self, "unlink")


def open_(file, mode="r", *args, **kwargs):
    if any(c in mode for c in "wax+") and isinstance(file, (str, bytes, os.PathLike)):
        fault(os.fsdecode(file), "write")
    return _open(file, mode, *args, **kwargs)


os.replace, Path.unlink, builtins.open, io.open = replace, unlink, open_, open_
args = sys.argv[1:]
if args[:1] == ["-m"]:
    args = args[1:]
module = args[0]
sys.argv = [module, *args[1:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)

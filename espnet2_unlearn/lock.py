"""One run at a time per request: an exclusive flock on a file beside the
request's output.  The kernel releases it when its process dies however it
dies, so a lock left by a killed run is simply taken by the next one; the
file holds the holder's pid so that a refused run can name it, and goes
with the run.  A stage
script that took the lock before starting its job (unlearn.sh, whose job
may run on another node) says so in HELD_BY_CALLER, naming the file."""

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


HELD_BY_CALLER = "ESPNET_UNLEARN_LOCKED"


class Busy(RuntimeError):
    """Another live process holds the lock."""


@contextmanager
def exclusive(path: Path, what: str):
    if os.environ.get(HELD_BY_CALLER) and Path(os.environ[HELD_BY_CALLER]).resolve() == path.resolve():
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            raise Busy(f"{what} is running already (pid {holder}, lock {path}): wait for it to finish, "
                       "or stop it") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder removed the file just as this run opened it
            raise Busy(f"{what} was started again while this run started: run it once more")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # before the lock goes: a run that opened it meanwhile sees it gone
    finally:
        os.close(fd)

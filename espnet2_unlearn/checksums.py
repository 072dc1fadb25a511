"""SHA-256 of a file, read in blocks: how stage 5 shows that the source model
was only read, and how the audit record of a purge names model files."""

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

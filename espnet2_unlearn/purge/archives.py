"""Kaldi feature archives without given utterances.  An ark keeps a matrix
even when no scp line points to it any more, so the ark itself is rewritten:
the kept matrices are copied to a new ark beside the old one and checked,
and every scp that points into the old ark gets new offsets.  Nothing is
replaced here: the caller renames the new files over the old ones, all at
once, when every archive is ready."""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import kaldiio
import numpy as np

SCP_LINE = re.compile(r"^(\S+) (\S+\.ark):(\d+)(\[[^\]]*\])?\s*$")
NEW = ".purge"  # suffix of the files waiting to replace the originals


class ArchiveError(ValueError):
    """An archive or scp that cannot be rewritten safely; names the file."""


@dataclass
class Rewrite:
    final: Path
    new: Path
    bytes_before: int
    bytes_after: int


def rewrite_ark(ark: Path, forget: Set[str]) -> Tuple[Rewrite, Dict[str, int]]:
    """Writes ark + NEW holding every matrix but the forgotten ones, in the
    same order, checks it against the original and returns it with the new
    offset of every kept key."""
    new = ark.with_name(ark.name + NEW)
    scp = ark.with_name(ark.name + NEW + ".scp")
    with kaldiio.WriteHelper(f"ark,scp:{new},{scp}") as writer:
        for key, matrix in kaldiio.load_ark(str(ark)):
            if key not in forget:
                writer(key, matrix)
    offsets = {}
    with open(scp, encoding="utf-8") as f:
        for line in f:
            key, where = line.split()
            offsets[key] = int(where.rsplit(":", 1)[1])
    scp.unlink()
    kept = ((k, m) for k, m in kaldiio.load_ark(str(ark)) if k not in forget)
    for (key, matrix), (new_key, new_matrix) in zip(kept, kaldiio.load_ark(str(new))):
        if key != new_key or not np.array_equal(matrix, new_matrix):
            new.unlink()
            raise ArchiveError(f"{new}: the copy of {ark} differs at {key}; nothing was replaced")
    return Rewrite(ark, new, ark.stat().st_size, new.stat().st_size), offsets


def rewrite_scp(scp: Path, moved: Dict[Path, Dict[str, int]], forget: Set[str], root: Path) -> Rewrite:
    """Writes scp + NEW: forgotten lines dropped, lines into a rewritten ark
    given their new offsets (ark paths are relative to root, the recipe)."""
    lines = []
    with open(scp, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.split(maxsplit=1)[:1] and line.split(maxsplit=1)[0] in forget:
                continue
            m = SCP_LINE.match(line)
            if m is None:
                lines.append(line)
                continue
            key, ark, _, rest = m.groups()
            offsets = moved.get((root / ark).resolve())
            if offsets is not None:
                if key not in offsets:
                    raise ArchiveError(f"{scp}:{lineno}: {key} points into {ark}, which does not hold it")
                line = f"{key} {ark}:{offsets[key]}{rest or ''}\n"
            lines.append(line)
    new = scp.with_name(scp.name + NEW)
    new.write_text("".join(lines), encoding="utf-8")
    return Rewrite(scp, new, scp.stat().st_size, new.stat().st_size)


def points_into(scp: Path, arks: Iterable[Path], root: Path) -> bool:
    targets = {a.resolve() for a in arks}
    with open(scp, encoding="utf-8", errors="replace") as f:
        return any((m := SCP_LINE.match(line)) and (root / m.group(2)).resolve() in targets for line in f)


def rewrite_archives(arks: List[Path], scps: List[Path], forget: Set[str], root: Path) -> List[Rewrite]:
    """New arks without the forgotten matrices and new scps for every scp
    that points into them or lists a forgotten key (all written beside the
    originals with the NEW suffix)."""
    moved, rewrites = {}, []
    for ark in arks:
        rewrite, offsets = rewrite_ark(ark, forget)
        moved[ark.resolve()] = offsets
        rewrites.append(rewrite)
    for scp in scps:
        rewrites.append(rewrite_scp(scp, moved, forget, root))
    return rewrites


def replace_all(pairs: Iterable[Tuple[Path, Path]]) -> None:
    """Renames each waiting file over its original; a pair whose new file is
    gone was done by an earlier, interrupted run."""
    for new, final in pairs:
        if Path(new).exists():
            os.replace(new, final)

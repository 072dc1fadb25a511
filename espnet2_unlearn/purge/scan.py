"""Where a recipe still holds given utterance ids: in file names, in the
bytes of any file (Kaldi ark keys are plain bytes too) and in the members of
zip archives (packed models).  Used to plan a purge and to verify one."""

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import kaldiio

# An id counts when it stands alone: not glued to more word characters on
# either side (spk1_001 is not found inside spk1_0012), though a file
# extension may follow (spk1_001.wav).
WORD = rb"A-Za-z0-9_\-"


def id_pattern(ids: Iterable[str]) -> re.Pattern:
    alternatives = b"|".join(re.escape(u.encode("utf-8")) for u in sorted(set(ids), key=len, reverse=True))
    return re.compile(rb"(?<![" + WORD + rb"])(?:" + alternatives + rb")(?![" + WORD + rb"])")


@dataclass
class Finding:
    path: Path
    kind: str  # "name", "ark" (a Kaldi ark's keys), "zip", "text" or "binary"
    ids: Set[str]  # the ids found there
    member: Optional[str] = None  # inside a zip archive


def kind_of(path: Path, head: bytes) -> str:
    if zipfile.is_zipfile(path):
        return "zip"
    if b"\0" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:  # a cut multi-byte character at the end is fine
        if e.start < len(head) - 4:
            return "binary"
    return "text"


def ark_keys(path: Path) -> Optional[List[str]]:
    """The keys of a Kaldi ark (read through kaldiio: a key is not found by
    searching the bytes, as the matrix before it may end in letters); None
    for a file that is not one."""
    if path.suffix != ".ark":
        return None
    try:
        return [key for key, _ in kaldiio.load_ark(str(path))]
    except Exception:  # not an ark after all: searched as bytes
        return None


def scan_file(path: Path, pattern: re.Pattern) -> List[Finding]:
    found = []
    name_hits = {m.decode() for m in pattern.findall(path.name.encode("utf-8"))}
    if name_hits:
        found.append(Finding(path, "name", name_hits))
    keys = ark_keys(path)
    if keys is not None:
        hits = {k for k in keys if pattern.fullmatch(k.encode("utf-8"))}
        return found + ([Finding(path, "ark", hits)] if hits else [])
    with open(path, "rb") as f:
        data = f.read()
    kind = kind_of(path, data[:8192])
    if kind == "zip":
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                hits = {m.decode() for m in pattern.findall(member.encode("utf-8") + b"\n" + z.read(member))}
                if hits:
                    found.append(Finding(path, "zip", hits, member))
        return found
    hits = {m.decode() for m in pattern.findall(data)}
    if hits:
        found.append(Finding(path, kind, hits))
    return found


def walk(roots: Sequence[Path], skip: Iterable[Path] = ()) -> Iterator[Tuple[Path, bool]]:
    """(path, is_dir) of everything under the roots, symbolic links and the
    skipped paths (and what is under them) left out."""
    skip = {Path(p).resolve() for p in skip}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            for d in list(dirnames):
                if (here / d).is_symlink() or (here / d).resolve() in skip:
                    dirnames.remove(d)
                else:
                    yield here / d, True
            for name in sorted(filenames):
                path = here / name
                if not path.is_symlink() and path.resolve() not in skip:
                    yield path, False


def scan(roots: Sequence[Path], ids: Iterable[str], skip: Iterable[Path] = ()) -> List[Finding]:
    """Every mention of the ids under the roots (file contents, file and
    directory names)."""
    pattern = id_pattern(ids)
    found: List[Finding] = []
    for path, is_dir in walk(roots, skip):
        if is_dir:
            hits = {m.decode() for m in pattern.findall(path.name.encode("utf-8"))}
            if hits:
                found.append(Finding(path, "name", hits))
        else:
            found += scan_file(path, pattern)
    return found

TOKEN = re.compile(rb"[" + WORD + rb"]{3,}")
ANY = re.compile(rb".+", re.S)  # the whole string as one token



def scan_hashed(roots: Sequence[Path], salt: str, hashes: Iterable[str], skip: Iterable[Path] = ()) -> List[Path]:
    """The files (and directories) under the roots holding a token whose
    salted hash is one of the given ones: a scan for the ids of a request
    that only its audit record remembers.  Ids are taken to be made of
    letters, digits, '_' and '-', as Kaldi ids are."""
    wanted = set(hashes)
    salt_bytes = salt.encode("utf-8")

    def holds(data: bytes, tokens: re.Pattern = TOKEN) -> bool:  # noqa: E306
        return any(hashlib.sha256(salt_bytes + t).hexdigest() in wanted for t in set(tokens.findall(data)))

    found: List[Path] = []
    for path, is_dir in walk(roots, skip):
        if is_dir:
            if holds(path.name.encode("utf-8")):
                found.append(path)
            continue
        with open(path, "rb") as f:
            data = f.read()
        members = []
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                members = [z.read(m) for m in z.namelist()]
        keys = ark_keys(path)
        content = any(holds(k.encode("utf-8"), ANY) for k in keys) if keys is not None else holds(data)
        if holds(path.name.encode("utf-8")) or content or any(holds(m) for m in members):
            found.append(path)
    return found

"""Reading and writing Kaldi data directories, all-or-nothing."""

import os
import shutil
from pathlib import Path
from typing import Dict, Iterable, Mapping, Tuple


class DataDirError(ValueError):
    """Bad content in a data directory; the message names the file and line."""


def read_table(path, num_fields: int = 2) -> Dict[str, str]:
    """`<key> <value...>` lines -> dict.  With num_fields=2 the value is the
    rest of the line; errors name the file and line."""
    table: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            parts = line.split(maxsplit=num_fields - 1)
            if len(parts) < num_fields:
                raise DataDirError(f"{path}:{lineno}: expected '<utt> <value>', got '{line}'")
            key, value = parts[0], parts[1].strip()
            if key in table:
                raise DataDirError(f"{path}:{lineno}: duplicate key '{key}'")
            table[key] = value
    return table


def write_table(path, table: Mapping[str, str]) -> None:
    """Sorted `<key> <value>` lines, written to a temporary name first."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for key in sorted(table):
            f.write(f"{key} {table[key]}\n")
    os.replace(tmp, path)


def spk2utt_of(utt2spk: Mapping[str, str]) -> Dict[str, str]:
    spk2utt: Dict[str, list] = {}
    for utt in sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return {spk: " ".join(utts) for spk, utts in spk2utt.items()}


def replace_dirs(pairs: Iterable[Tuple[Path, Path]]) -> None:
    """Move each finished temporary dir onto its final name."""
    for tmp, final in pairs:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)

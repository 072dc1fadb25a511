"""Trained models kept by content key, so that a bench picks up what an
earlier session trained and retrains what was trained from other inputs.

A key is a digest of everything a training's outputs depend on: the
arguments given (corpus size, forget ids, ...), the text of the files that
decide the data and the training (configs, the recipe's run.sh and
local/data.sh, and every module of the package that the stage's programs
import, followed statically), and the versions of espnet and torch.  Change
any of them and the key changes: the stored model is not found and the bench
trains again.  What ser.sh itself does in stages 1-4 is not in the key (a
change to the stage engine would retrain everything); a change there that
alters a model must raise KEY_VERSION.

An entry is one tar.gz under bench/trained/, named KIND_KEY.tar.gz, holding
the files of a recipe directory that later stages read (paths relative to
it); it is written under a temporary name and renamed, so an interrupted
write leaves nothing under the final name.
"""

import ast
import hashlib
import json
import os
import tarfile
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, List

KEY_VERSION = 1
STORE = Path(__file__).resolve().parent / "trained"
PACKAGE = "espnet2_unlearn"


def _digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def module_closure(modules: Iterable[str], root: Path) -> List[Path]:
    """The source files of the given modules of PACKAGE and of every module of
    PACKAGE they import (at any depth, any import statement in the file)."""
    seen, todo, files = set(), list(modules), []
    while todo:
        name = todo.pop()
        if name in seen or not (name == PACKAGE or name.startswith(PACKAGE + ".")):
            continue
        seen.add(name)
        base = root / Path(*name.split("."))
        path = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if not path.exists():
            continue
        files.append(path)
        # A package's __init__ runs before any of its modules.
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return sorted(set(files))


def content_key(root: Path, args: Dict, files: Iterable[str], modules: Iterable[str] = ()) -> str:
    """12 hex digits naming args, the files (relative to root) and the module
    closure of modules, with the versions of espnet and torch."""
    paths = sorted({root / f for f in files} | set(module_closure(modules, root)))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"a file of the content key is missing: {missing[0]}")
    described = {
        "key_version": KEY_VERSION,
        "args": args,
        "files": {str(p.relative_to(root)): _digest_bytes(p.read_bytes()) for p in paths},
        "packages": {name: metadata.version(name) for name in ("espnet", "torch")},
    }
    return _digest_bytes(json.dumps(described, sort_keys=True).encode())[:12]


def entry(kind: str, key: str, store: Path = STORE) -> Path:
    return store / f"{kind}_{key}.tar.gz"


def save(kind: str, key: str, base: Path, members: Iterable[Path], store: Path = STORE) -> Path:
    """Stores the files and directories members (under base) as kind/key.
    Symbolic links are stored as the files they point to."""
    members = sorted(set(members))
    missing = [str(m) for m in members if not (base / m).exists()]
    if missing:
        raise FileNotFoundError(f"cannot store {kind} {key}: {base / missing[0]} does not exist")
    store.mkdir(parents=True, exist_ok=True)
    path = entry(kind, key, store)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with tarfile.open(tmp, "w:gz", dereference=True) as tar:
        for m in members:
            tar.add(base / m, arcname=str(m))
    tmp.replace(path)
    return path


def restore(kind: str, key: str, base: Path, store: Path = STORE) -> bool:
    """Unpacks kind/key under base; False when the store has no such entry."""
    path = entry(kind, key, store)
    if not path.exists():
        return False
    with tarfile.open(path, "r:gz") as tar:
        for m in tar.getmembers():
            if m.name.startswith("/") or ".." in Path(m.name).parts:
                raise ValueError(f"{path}: member {m.name} leaves the directory it is restored into")
        tar.extractall(base, filter="data")
    return True

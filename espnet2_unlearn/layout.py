"""Where a recipe keeps what the project writes: one place for the names
the stages, the purge and its verification share.  The stage engine owns
the roots (ser.sh's --expdir and --dumpdir, data/ always) and passes them
on; nothing else writes a path of the layout."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List

FORGET_IDS = ".forget_ids."


@dataclass(frozen=True)
class Layout:
    root: Path  # the recipe directory
    data: Path
    dump: Path
    exp: Path

    @classmethod
    def of(cls, root=".", data="data", dump="dump", exp="exp") -> "Layout":
        """Relative roots are taken from the recipe directory, as ser.sh's are."""
        root = Path(root)

        def under(p) -> Path:
            return Path(p) if os.path.isabs(p) else root / p
        return cls(root, under(data), under(dump), under(exp))

    @property
    def roots(self) -> List[Path]:
        """Everything the purge scans, rewrites and verifies."""
        return [self.data, self.dump, self.exp]

    @property
    def requests_dir(self) -> Path:
        return self.exp / "requests"

    def record(self, request: str) -> Path:
        """The audit record of a purged request."""
        return self.requests_dir / f"{request}.json"

    def journal(self, request: str) -> Path:
        """What a purge in progress has planned and done (the one file that
        holds ids while it lasts)."""
        return self.requests_dir / f".{request}.purge.json"

    def unlearn_dir(self, tag: str) -> Path:
        return self.exp / f"unlearn_{tag}"

    def forget_ids(self, owner: str) -> Path:
        """The sorted ids of a request while a stage engine (its pid: owner)
        serves it: the one file outside a purge's journal that names them."""
        return self.exp / f"{FORGET_IDS}{owner}"

    def leftovers(self, request: str) -> List[Path]:
        """Temporaries of interrupted runs that may hold the request's ids:
        the stage engine's forget-id lists, stage 5's and the baselines' directories."""
        return [*sorted(self.exp.glob(f"{FORGET_IDS}*")), *sorted(self.exp.glob(f".unlearn_{request}.tmp")),
                *sorted(self.exp.glob(f".baseline_*_{request}.tmp"))]

    def relative(self, path: Path) -> str:
        return os.path.relpath(path, self.root)

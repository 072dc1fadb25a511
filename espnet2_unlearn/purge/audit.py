"""The audit record of a deletion request: what was forgotten, by which
model, with which result, what was removed and that nothing was left, all
without the record becoming a copy of personal data (utterance ids appear
only as salted hashes; the salt is kept in the record so that an operator
holding an id can show that it was part of the request)."""

import hashlib
import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from espnet2_unlearn.checksums import sha256_file

INDEX = "index.tsv"


def salted_hashes(ids: Iterable[str], salt: str) -> List[str]:
    return sorted(hashlib.sha256((salt + u).encode("utf-8")).hexdigest() for u in ids)


def new_salt() -> str:
    return secrets.token_hex(16)


def evaluation_summary(metrics: Dict) -> Dict:
    """Stage 6's forget and test figures of the unlearned model, with their
    paired intervals against the original (and gold when there is one)."""
    unlearned = metrics["models"]["unlearned"]
    summary = {
        "forget_accuracy": unlearned["forget"]["accuracy"],
        "test_uar": unlearned["test"]["uar"],
        "mia_efficacy": unlearned["mia"]["efficacy"],
        "vs": unlearned.get("vs", {}),
    }
    if "bars" in metrics:
        summary["bars"] = {k: v["status"] for k, v in metrics["bars"].items() if isinstance(v, dict)}
    return summary


def write_record(requests_dir: Path, record: Dict) -> Path:
    """exp/requests/<request>.json (temporary name, then renamed) and one
    line appended to the index: time, request, utterances, result, record."""
    requests_dir.mkdir(parents=True, exist_ok=True)
    path = requests_dir / f"{record['request']}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    index = requests_dir / INDEX
    new = not index.exists()
    with open(index, "a", encoding="utf-8") as f:
        if new:
            f.write("time\trequest\tutterances\tspeakers\tverification\trecord\n")
        f.write(f"{record['time']}\t{record['request']}\t{record['num_utterances']}\t{record['num_speakers']}\t"
                f"{record['verification']['result']}\t{path.name}\n")
    return path


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def model_entry(path: Optional[Path]) -> Optional[Dict]:
    if path is None or not path.is_file():
        return None
    return {"file": str(path), "sha256": sha256_file(path)}


def purged_by(ids: Iterable[str], requests_dir: Path) -> Dict[str, str]:
    """id -> the request that purged it, for the ids some audit record under
    requests_dir holds (by its salted hashes)."""
    found = {}
    for record_file in sorted(Path(requests_dir).glob("*.json")):
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
            salt, hashes = record["utterance_id_hashes"]["salt"], set(record["utterance_id_hashes"]["hashes"])
        except (ValueError, KeyError, TypeError):
            continue
        for u in ids:
            if u not in found and hashlib.sha256((salt + u).encode("utf-8")).hexdigest() in hashes:
                found[u] = f"{record['request']} ({record.get('time', '?')})"
    return found

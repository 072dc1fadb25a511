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
    """exp/requests/<request>.json (temporary name, then renamed), then the
    index rebuilt from the records, so that writing a record twice (a purge
    resumed after its record was written) leaves one line for it."""
    requests_dir.mkdir(parents=True, exist_ok=True)
    path = requests_dir / f"{record['request']}.json"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    write_index(requests_dir)
    return path


def write_index(requests_dir: Path) -> Path:
    """index.tsv: one line per audit record, oldest first: time, request,
    utterances, speakers, verification, record."""
    lines = []
    for record_file in sorted(requests_dir.glob("*.json")):
        try:
            r = json.loads(record_file.read_text(encoding="utf-8"))
            lines.append((r["time"], f"{r['time']}\t{r['request']}\t{r['num_utterances']}\t{r['num_speakers']}\t"
                                     f"{r['verification']['result']}\t{record_file.name}\n"))
        except (ValueError, KeyError, TypeError):
            continue  # not an audit record
    index = requests_dir / INDEX
    tmp = index.with_name(f".{INDEX}.tmp")
    tmp.write_text("time\trequest\tutterances\tspeakers\tverification\trecord\n"
                   + "".join(line for _, line in sorted(lines)), encoding="utf-8")
    os.replace(tmp, index)
    return index


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

"""Stage 9: remove what a recipe holds of the utterances of a served
deletion request, verify that nothing is left, and write the audit record.

Order of work, so that an interrupted purge can be run again and finishes:
1. plan: scan data/, dump/ and exp/ for the ids; refuse before any change
   when something mentions them that cannot be rewritten (a binary file, a
   packed model, JSON);
2. journal: the ids and the plan in exp/requests/.<request>.purge.json (the
   one file that holds ids while the purge lasts);
3. archives: new arks and scps written beside the old ones and checked, then
   renamed over them;
4. tables and other text files: the lines of the forgotten utterances
   dropped (spk2utt: the ids dropped from their speaker's line);
5. deletions: the forget list, stage 5's derived data, the recipe's own
   audio copies of the utterances;
6. verification scan; the audit record; the journal removed.
Audio outside the recipe directory (the user's corpus) is never touched: it
is listed for its owner to delete."""

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from espnet2_unlearn.data.forget_list import content_key, served_requests
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.purge import audit
from espnet2_unlearn.purge.archives import ArchiveError, points_into, replace_all, rewrite_archives
from espnet2_unlearn.purge.scan import Finding, id_pattern, scan
from espnet2_unlearn.unlearn.layer_statistics import STATISTICS_FILE

ROOTS = ("data", "dump", "exp")


class PurgeError(ValueError):
    """A purge that cannot be done safely; nothing was changed."""


@dataclass
class Plan:
    arks: List[Path] = field(default_factory=list)
    scps: List[Path] = field(default_factory=list)
    texts: List[Path] = field(default_factory=list)
    deletions: List[Path] = field(default_factory=list)  # files and directories
    audio_inside: List[Path] = field(default_factory=list)  # the recipe's own copies
    audio_outside: List[str] = field(default_factory=list)  # the user's, listed only


def journal_path(requests_dir: Path, request: str) -> Path:
    return requests_dir / f".{request}.purge.json"


def within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def audio_of(ids: Sequence[str], root: Path) -> Dict[str, str]:
    """utterance -> its wav.scp entry, from every wav.scp under data/."""
    want, entries = set(ids), {}
    for wav_scp in sorted((root / "data").rglob("wav.scp")):
        for utt, where in read_table(wav_scp).items():
            if utt in want:
                entries[utt] = where
    return entries


def models_trained_on(ids: Sequence[str], root: Path, unlearn_exp: Path) -> List[str]:
    """Model directories under exp/ that learned from the utterances and
    keep what they learned: trained on data holding them, started from a
    model (init_param), or unlearned from such a model for other requests.
    Read before the purge, from each model's config.yaml."""
    forget, key = set(ids), content_key(ids)
    holding = []
    for d in sorted(p for p in (root / "exp").iterdir() if p.is_dir()):
        conf_file = d / "config.yaml"
        if d.resolve() == unlearn_exp.resolve() or not conf_file.is_file() or not any(d.glob("*.pth")):
            continue
        conf = yaml.safe_load(conf_file.read_text(encoding="utf-8")) or {}
        if conf.get("unlearn_conf"):
            served = {e.get("forget_key") for e in served_requests(conf)}
            if key not in served:
                holding.append(os.path.relpath(d, root))
            continue
        trained_on = [Path(t[0]) for t in conf.get("train_data_path_and_name_and_type") or [] if t]
        saw = any((root / t).is_file() and forget & set(read_table(root / t)) for t in trained_on
                  if t.name in ("feats.scp", "wav.scp", "text"))
        if saw or conf.get("init_param"):
            holding.append(os.path.relpath(d, root))
    return holding


def make_plan(ids: Sequence[str], root: Path, forget_list: Optional[Path], derived: Sequence[Path],
              requests_dir: Path, audio: Dict[str, str]) -> Plan:
    forget = set(ids)
    plan = Plan()
    for d in [forget_list, *derived]:
        if d is not None and d.exists() and within(d, root):
            plan.deletions.append(d)
    for where in audio.values():
        path = Path(where) if os.path.isabs(where) else root / where
        if len(where.split()) > 1 or not path.is_file():
            plan.audio_outside.append(where)  # a command or a missing file: nothing of ours to delete
        elif within(path, root):
            plan.audio_inside.append(path)
        else:
            plan.audio_outside.append(str(path))
    skip = [*plan.deletions, requests_dir]
    findings = scan([root / r for r in ROOTS], forget, skip=skip)
    refused = []
    for f in findings:
        if f.kind == "ark":
            plan.arks.append(f.path)
        elif f.kind == "text" and f.path.suffix != ".json":
            plan.texts.append(f.path)
        elif f.kind == "name" and f.path in plan.audio_inside:
            continue
        else:
            refused.append(f)
    if refused:
        first = refused[0]
        raise PurgeError(f"{first.path}{':' + first.member if first.member else ''} ({first.kind}) mentions "
                         f"{len(first.ids)} forgotten utterance(s) and cannot be rewritten"
                         + (f" (nor can {len(refused) - 1} more)" if len(refused) > 1 else "")
                         + ": delete or rebuild it, then run stage 9 again; nothing was changed")
    # Every scp that points into a rewritten ark is rewritten with it.
    candidates = [p for r in ROOTS for p in sorted((root / r).rglob("*.scp")) if p.is_file()
                  and not any(within(p, d) for d in skip)]
    plan.scps = [p for p in candidates if p in plan.texts or (plan.arks and points_into(p, plan.arks, root))]
    plan.texts = [p for p in plan.texts if p not in plan.scps]
    return plan


def filter_text(path: Path, forget: set) -> Dict:
    """Drops the lines that mention a forgotten id; in spk2utt files drops
    the ids from their speaker's line (and a line left with no utterance)."""
    pattern = id_pattern(forget)
    before = path.stat().st_size
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not pattern.search(line.encode("utf-8")):
                out.append(line)
            elif path.name == "spk2utt":
                fields = line.split()
                kept = [u for u in fields[1:] if u not in forget]
                if kept:
                    out.append(" ".join([fields[0], *kept]) + "\n")
    tmp = path.with_name(path.name + ".purge")
    tmp.write_text("".join(out), encoding="utf-8")
    os.replace(tmp, path)
    return {"path": str(path), "action": "rewritten", "bytes_before": before, "bytes_after": path.stat().st_size}


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return path.stat().st_size


def describe(plan: Plan, root: Path) -> List[str]:
    def rel(p):
        return os.path.relpath(p, root)
    lines = [f"feature archives to rewrite: {len(plan.arks)}"] + [f"  {rel(p)}" for p in plan.arks]
    lines += [f"scp files to rewrite: {len(plan.scps)}"] + [f"  {rel(p)}" for p in plan.scps]
    lines += [f"tables and other text files to filter: {len(plan.texts)}"] + [f"  {rel(p)}" for p in plan.texts]
    lines += [f"to delete: {len(plan.deletions)}"] + [f"  {rel(p)}" for p in plan.deletions]
    lines += [f"the recipe's own audio copies to delete: {len(plan.audio_inside)} files "
              f"({sum(p.stat().st_size for p in plan.audio_inside)} bytes)"]
    return lines


def purge_request(ids: Sequence[str], request: str, root: Path, forget_list: Optional[Path], unlearn_exp: Path,
                  source_model: Optional[Path], dry_run: bool = False) -> Optional[Dict]:
    """Runs the purge (or, dry_run, prints what it would remove); returns the audit record."""
    requests_dir = root / "exp" / "requests"
    journal = journal_path(requests_dir, request)
    state = json.loads(journal.read_text(encoding="utf-8")) if journal.exists() else None
    if state is not None:
        logging.info(f"finishing the interrupted purge of {request} ({journal})")
        ids = state["ids"]
        replace_all([(Path(a), Path(b)) for a, b in state.get("renames", [])])
    forget = set(ids)
    # stage 5's derived data, and what an interrupted run of this request
    # (stage 5, a baseline) or of the stages left behind
    derived = [unlearn_exp / "derived", *sorted((root / "exp").glob(".forget_ids.*")),
               *sorted((root / "exp").glob(f".{unlearn_exp.name}.tmp")),
               *sorted((root / "exp").glob(f".baseline_*_{request}.tmp"))]
    audio = state["audio"] if state is not None else audio_of(ids, root)
    plan = make_plan(ids, root, forget_list, derived, requests_dir, audio)
    holding = state["models_trained_on_them"] if state is not None else models_trained_on(ids, root, unlearn_exp)
    for line in describe(plan, root):
        print(line, flush=True)
    if holding:
        print(f"models trained with these utterances, left in place (delete them once unused): {' '.join(holding)}",
              flush=True)
    if plan.audio_outside:
        print(f"audio of these utterances outside the recipe directory, not touched (the source corpus: "
              f"its owner deletes it): {len(plan.audio_outside)} files", flush=True)
        for where in sorted(plan.audio_outside):
            print(f"  {where}", flush=True)
    if dry_run:
        print("dry run: nothing was changed", flush=True)
        return None

    if state is None:  # read before anything changes; a resumed purge has it in its journal
        speakers = {spk for utt2spk in (root / "data").rglob("utt2spk")
                    for utt, spk in read_table(utt2spk).items() if utt in forget}
        state = {"request": request, "ids": sorted(forget), "audio": audio,
                 "speakers": len(speakers), "models_trained_on_them": holding}
    requests_dir.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps(state), encoding="utf-8")

    try:
        rewrites = rewrite_archives(plan.arks, plan.scps, forget, root)
    except ArchiveError as e:
        raise PurgeError(str(e)) from e
    state["renames"] = [[str(r.new), str(r.final)] for r in rewrites]
    journal.write_text(json.dumps(state), encoding="utf-8")
    replace_all([(r.new, r.final) for r in rewrites])
    files = [{"path": os.path.relpath(r.final, root), "action": "rewritten", "bytes_before": r.bytes_before,
              "bytes_after": r.bytes_after} for r in rewrites]
    for path in plan.texts:
        entry = filter_text(path, forget)
        entry["path"] = os.path.relpath(path, root)
        files.append(entry)
    for path in plan.deletions:
        files.append({"path": os.path.relpath(path, root), "action": "deleted", "bytes_before": size_of(path),
                      "bytes_after": 0})
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    audio_bytes = 0
    for path in plan.audio_inside:
        audio_bytes += path.stat().st_size
        path.unlink()

    left = verify(ids, root, skip=[journal])
    if left:
        raise PurgeError(f"verification failed: {left[0].path} still mentions {len(left[0].ids)} forgotten "
                         f"utterance(s) ({len(left)} finding(s) in all); run stage 9 again after fixing it")
    metrics_file = unlearn_exp / "eval" / "metrics.json"
    salt = audit.new_salt()
    record = {
        "request": request,
        "time": audit.now(),
        "num_utterances": len(forget),
        "num_speakers": state["speakers"],
        "utterance_id_hashes": {"algorithm": "sha256(salt + utterance id), hex", "salt": salt,
                                "hashes": audit.salted_hashes(forget, salt)},
        "models": {"source": audit.model_entry(source_model),
                   "unlearned": audit.model_entry(unlearn_exp / "unlearned.pth")},
        "evaluation": audit.evaluation_summary(json.loads(metrics_file.read_text())),
        "purge": {
            "files": files,
            "own_audio_deleted": {"files": len(plan.audio_inside), "bytes": audio_bytes},
            "source_audio_outside_recipe": {"files": len(plan.audio_outside),
                                            "note": "listed by stage 9 on its output; not touched"},
        },
        "models_trained_on_them": holding,
        # Aggregate per-layer sums (no ids) that still count these utterances;
        # the unlearned model's own copy has had them subtracted.
        "statistics_including_them": [d for d in holding if (root / d / STATISTICS_FILE).is_file()],
        "verification": {"roots": list(ROOTS), "result": "clean",
                         "command": f"python -m espnet2_unlearn.bin.verify_purge --request {request}"},
    }
    path = audit.write_record(requests_dir, record)
    journal.unlink()
    logging.info(f"audit record: {path}")
    return record


def verify(ids: Sequence[str], root: Path, skip: Sequence[Path] = ()) -> List[Finding]:
    """Every mention of the ids left under data/, dump/ and exp/."""
    return scan([root / r for r in ROOTS], ids, skip=skip)

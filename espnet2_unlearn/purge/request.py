"""Stage 9: remove what a recipe holds of the utterances of a served
deletion request, verify that nothing is left, and write the audit record.

Order of work, so that an interrupted purge can be run again and finishes:
1. plan: scan data/, dump/ and exp/ for the ids; refuse before any change
   when something mentions them that cannot be rewritten (a binary file, a
   packed model, JSON);
2. journal: the ids and the plan in exp/requests/.<request>.purge.json (the
   one file that holds ids while the purge lasts); each run adds to it what
   it is about to change before it changes it, so the audit record, built
   from the journal, lists everything removed however many runs it took;
3. archives: new arks and scps written beside the old ones and checked, then
   renamed over them;
4. tables and other text files: the lines of the forgotten utterances
   dropped (spk2utt: the ids dropped from their speaker's line);
5. deletions: the forget list, stage 5's derived data, the recipe's own
   audio copies of the utterances;
6. verification scan; the audit record and the index rebuilt from the
   records; the journal removed.
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
from espnet2_unlearn.layout import Layout
from espnet2_unlearn.purge import audit
from espnet2_unlearn.purge.archives import ArchiveError, points_into, replace_all, rewrite_archives
from espnet2_unlearn.purge.scan import Finding, id_pattern, scan
from espnet2_unlearn.unlearn.layer_statistics import STATISTICS_FILE

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


def within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def audio_of(ids: Sequence[str], layout: Layout) -> Dict[str, str]:
    """utterance -> its wav.scp entry, from every wav.scp under data/."""
    want, entries = set(ids), {}
    for wav_scp in sorted(layout.data.rglob("wav.scp")):
        for utt, where in read_table(wav_scp).items():
            if utt in want:
                entries[utt] = where
    return entries


def models_trained_on(ids: Sequence[str], layout: Layout, unlearn_exp: Path) -> List[str]:
    """Model directories under exp/ that learned from the utterances and
    keep what they learned: trained on data holding them, started from a
    model (init_param), or unlearned from such a model for other requests.
    Read before the purge, from each model's config.yaml."""
    forget, key = set(ids), content_key(ids)
    root = layout.root
    holding = []
    for d in sorted(p for p in layout.exp.iterdir() if p.is_dir()):
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


def make_plan(ids: Sequence[str], layout: Layout, forget_list: Optional[Path], derived: Sequence[Path],
              audio: Dict[str, str], deleted_audio: Sequence[str] = ()) -> Plan:
    """What is left to do.  deleted_audio: the recipe's own audio copies an
    interrupted run of this purge deleted already (not the user's)."""
    forget, root = set(ids), layout.root
    plan = Plan()
    for d in [forget_list, *derived]:
        if d is not None and d.exists() and within(d, root):
            plan.deletions.append(d)
    for where in audio.values():
        path = Path(where) if os.path.isabs(where) else root / where
        if str(path) in deleted_audio:
            continue
        if len(where.split()) > 1 or not path.is_file():
            plan.audio_outside.append(where)  # a command or a missing file: nothing of ours to delete
        elif within(path, root):
            plan.audio_inside.append(path)
        else:
            plan.audio_outside.append(str(path))
    skip = [*plan.deletions, layout.requests_dir]
    findings = scan(layout.roots, forget, skip=skip)
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
    candidates = [p for r in layout.roots for p in sorted(r.rglob("*.scp")) if p.is_file()
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


def write_journal(journal: Path, state: Dict) -> None:
    """Whole or not at all: a kill while writing leaves the last journal."""
    tmp = journal.with_name(journal.name + ".tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, journal)


def journal_plan(state: Dict, plan: Plan, layout: Layout) -> None:
    """Adds to the journal what this run is about to change, with its size
    before; what an earlier run planned stays as it was."""
    files = state.setdefault("files", {})
    for path in [*plan.arks, *plan.scps, *plan.texts]:
        files.setdefault(layout.relative(path), {"action": "rewritten", "bytes_before": path.stat().st_size})
    for path in plan.deletions:
        files.setdefault(layout.relative(path), {"action": "deleted", "bytes_before": size_of(path)})
    own = state.setdefault("own_audio", {})
    for path in plan.audio_inside:
        own.setdefault(layout.relative(path), path.stat().st_size)


def purged_files(state: Dict, layout: Layout) -> List[Dict]:
    """The record's list of files, from the journal: what every run of the
    purge changed, with the sizes now."""
    out = []
    for rel, entry in state.get("files", {}).items():
        path = layout.root / rel
        after = 0 if entry["action"] == "deleted" or not path.exists() else size_of(path)
        out.append({"path": rel, **entry, "bytes_after": after})
    return out


def purge_request(ids: Sequence[str], request: str, layout: Layout, forget_list: Optional[Path], unlearn_exp: Path,
                  source_model: Optional[Path], dry_run: bool = False) -> Optional[Dict]:
    """Runs the purge (or, dry_run, prints what it would remove); returns the audit record."""
    root, requests_dir = layout.root, layout.requests_dir
    journal = layout.journal(request)
    state = json.loads(journal.read_text(encoding="utf-8")) if journal.exists() else None
    if state is not None:
        logging.info(f"finishing the interrupted purge of {request} ({journal})")
        ids = state["ids"]
        state.setdefault("salt", audit.new_salt())
        state.setdefault("started", audit.now())
        state.setdefault("audio_outside", 0)
        replace_all([(Path(a), Path(b)) for a, b in state.get("renames", [])])
    forget = set(ids)
    # stage 5's derived data, and what an interrupted run of this request
    # (stage 5, a baseline) or of the stages left behind
    derived = [unlearn_exp / "derived", *layout.leftovers(request)]
    audio = state["audio"] if state is not None else audio_of(ids, layout)
    deleted_audio = [str(root / p) for p in (state or {}).get("own_audio", {}) if not (root / p).exists()]
    plan = make_plan(ids, layout, forget_list, derived, audio, deleted_audio)
    holding = state["models_trained_on_them"] if state is not None else models_trained_on(ids, layout, unlearn_exp)
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
        speakers = {spk for utt2spk in layout.data.rglob("utt2spk")
                    for utt, spk in read_table(utt2spk).items() if utt in forget}
        state = {"request": request, "ids": sorted(forget), "audio": audio, "speakers": len(speakers),
                 "models_trained_on_them": holding, "salt": audit.new_salt(), "started": audit.now(),
                 "audio_outside": len(plan.audio_outside)}
    journal_plan(state, plan, layout)
    requests_dir.mkdir(parents=True, exist_ok=True)
    write_journal(journal, state)

    try:
        rewrites = rewrite_archives(plan.arks, plan.scps, forget, root)
    except ArchiveError as e:
        raise PurgeError(str(e)) from e
    state["renames"] = [[str(r.new), str(r.final)] for r in rewrites]
    write_journal(journal, state)
    replace_all([(r.new, r.final) for r in rewrites])
    for path in plan.texts:
        filter_text(path, forget)
    for path in plan.deletions:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for path in plan.audio_inside:
        path.unlink()

    left = verify(ids, layout, skip=[journal])
    if left:
        raise PurgeError(f"verification failed: {left[0].path} still mentions {len(left[0].ids)} forgotten "
                         f"utterance(s) ({len(left)} finding(s) in all); run stage 9 again after fixing it")
    record = build_record(state, layout, unlearn_exp, source_model)
    path = audit.write_record(requests_dir, record)
    journal.unlink()
    logging.info(f"audit record: {path}")
    return record


def build_record(state: Dict, layout: Layout, unlearn_exp: Path, source_model: Optional[Path]) -> Dict:
    """The audit record, from the journal of the purge (state) and what the
    request left: the models, stage 6's evaluation, the verification."""
    request, forget, holding, root = state["request"], set(state["ids"]), state["models_trained_on_them"], layout.root
    metrics_file = unlearn_exp / "eval" / "metrics.json"
    salt = state["salt"]
    return {
        "request": request,
        "time": state["started"],  # when the purge began; the record is the same however many runs it took
        "num_utterances": len(forget),
        "num_speakers": state["speakers"],
        "utterance_id_hashes": {"algorithm": "sha256(salt + utterance id), hex", "salt": salt,
                                "hashes": audit.salted_hashes(forget, salt)},
        "models": {"source": audit.model_entry(source_model),
                   "unlearned": audit.model_entry(unlearn_exp / "unlearned.pth")},
        "evaluation": audit.evaluation_summary(json.loads(metrics_file.read_text())),
        "purge": {
            "files": purged_files(state, layout),
            "own_audio_deleted": {"files": len(state["own_audio"]), "bytes": sum(state["own_audio"].values())},
            "source_audio_outside_recipe": {"files": state["audio_outside"],
                                            "note": "listed by stage 9 on its output; not touched"},
        },
        "models_trained_on_them": holding,
        # Aggregate per-layer sums (no ids) that still count these utterances;
        # the unlearned model's own copy has had them subtracted.
        "statistics_including_them": [d for d in holding if (root / d / STATISTICS_FILE).is_file()],
        "verification": {"roots": [layout.relative(r) for r in layout.roots], "result": "clean",
                         "command": f"python -m espnet2_unlearn.bin.verify_purge --request {request}"
                                    + verify_options(layout)},
    }


def verify_options(layout: Layout) -> str:
    """verify_purge's options for a recipe whose roots are not the default."""
    default = Layout.of(layout.root)
    return "".join(f" --{name}dir {layout.relative(getattr(layout, name))}" for name in ("dump", "exp")
                   if getattr(layout, name) != getattr(default, name))


def verify(ids: Sequence[str], layout: Layout, skip: Sequence[Path] = ()) -> List[Finding]:
    """Every mention of the ids left under data/, dump/ and exp/."""
    return scan(layout.roots, ids, skip=skip)

"""The one home of a forget list: what it names, what kind of request it is,
and the key its gold model and retain set are stored under.

A forget list is a Kaldi data dir (its utt2spk names the utterances) or a
file with one utterance id per line (further fields are ignored).
"""

import hashlib
from pathlib import Path
from typing import Dict, List, Sequence


class ForgetSetError(ValueError):
    """A forget request that cannot be served; the message names the cause."""


def read_forget_lines(forget_list) -> Dict[str, int]:
    """utterance id -> its line, in the list's order; refuses a missing,
    empty or binary list, comment lines and duplicates, naming the file and
    line."""
    path = Path(forget_list)
    source = path / "utt2spk" if path.is_dir() else path
    if not source.is_file():
        raise ForgetSetError(f"forget list {forget_list}: {source} does not exist")
    lines: Dict[str, int] = {}
    with open(source, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ForgetSetError(f"{source}:{lineno}: not UTF-8 text: a forget list holds one utterance id "
                                     "per line (is it a binary file?)") from None
            fields = line.split()
            if not fields:
                continue
            if fields[0].startswith("#") or not fields[0].isprintable():
                raise ForgetSetError(f"{source}:{lineno}: {fields[0][:40]!r} is not an utterance id (a forget list "
                                     "holds one id per line, no comments)")
            if fields[0] in lines:
                raise ForgetSetError(
                    f"{source}:{lineno}: utterance {fields[0]} is listed twice (first on line {lines[fields[0]]})"
                )
            lines[fields[0]] = lineno
    if not lines:
        raise ForgetSetError(f"forget list {source} is empty")
    return lines


def read_forget_ids(forget_list) -> List[str]:
    """Utterance ids of a forget list, in its order (read_forget_lines)."""
    return list(read_forget_lines(forget_list))


def check_in_training_data(ids: Sequence[str], utt2spk: Dict[str, str], where, lines: Dict[str, int] = None) -> None:
    missing = [u for u in ids if u not in utt2spk]
    if missing:
        line = f" (line {lines[missing[0]]})" if lines and missing[0] in lines else ""
        raise ForgetSetError(
            f"utterance {missing[0]}{line} of the forget list is not in {where}"
            + (f" (nor are {len(missing) - 1} more)" if len(missing) > 1 else "")
        )


def check_something_is_kept(ids: Sequence[str], labels: Dict[str, str], where) -> None:
    """Unlearning keeps what the rest of the training data teaches: a list
    that leaves no training utterance, or none of some class, asks for a
    model a retraining could not make (refused before anything runs)."""
    forget = set(ids)
    kept = [u for u in labels if u not in forget]
    if not kept:
        raise ForgetSetError(f"the forget list holds all {len(labels)} training utterances of {where}: nothing "
                             "would be left to learn from (delete the model instead)")
    gone = sorted(set(labels.values()) - {labels[u] for u in kept})
    if gone:
        n = sum(labels[u] == gone[0] for u in labels)
        raise ForgetSetError(f"the forget list holds every training utterance of class {gone[0]!r} ({n} in "
                             f"{where}): no model trained on the rest could predict it; leave some out, or "
                             "retrain without the class")


def request_of(ids: Sequence[str], utt2spk: Dict[str, str]) -> str:
    """speaker when the list holds every training utterance of each of its
    speakers (those speakers become unseen), otherwise utterance."""
    want = set(ids)
    speakers = {utt2spk[u] for u in want}
    whole = all(u in want for u, s in utt2spk.items() if s in speakers)
    return "speaker" if whole else "utterance"


def content_key(ids: Sequence[str]) -> str:
    """12 hex digits of the SHA-256 of the sorted ids: two lists with the
    same utterances share a key whatever their names, two different lists
    never (in practice) do."""
    return hashlib.sha256("".join(u + "\n" for u in sorted(ids)).encode("utf-8")).hexdigest()[:12]


def served_requests(model_conf: Dict) -> List[Dict]:
    """The requests a model has served, oldest first (its config.yaml's
    unlearn_conf lineage; none for a trained model)."""
    return list((model_conf.get("unlearn_conf") or {}).get("requests_served") or [])


def excluded_ids(ids: Sequence[str], served: Sequence[Dict], utt2spk: Dict[str, str], requests_dir: Path) -> List[str]:
    """What a gold model for a request must leave out: its own utterances
    and those of every request the source model served before that are still
    in the training data (a purged request's are gone from it already).
    Refuses when an earlier request can be accounted for neither way."""
    out = set(ids)
    for entry in served:
        lst = Path(entry["forget_list"])
        if lst.exists():
            out |= {u for u in read_forget_ids(lst) if u in utt2spk}
        elif not (requests_dir / f"{entry['request']}.json").is_file():
            raise ForgetSetError(
                f"the source model served request {entry['request']} before, whose forget list {lst} is gone "
                f"and which was not purged ({requests_dir / (entry['request'] + '.json')} does not exist): "
                "a gold model cannot leave its utterances out"
            )
    return sorted(out)

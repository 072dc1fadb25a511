"""The forget set: the only data unlearning reads, held in memory."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import torch

from espnet2.tasks.cls import CLSTask
from espnet2_unlearn.data.kaldi_dir import read_table


class ForgetSetError(ValueError):
    """A forget request that cannot be served; the message names the cause."""


@dataclass
class ForgetSet:
    utts: List[str]
    speech: List[torch.Tensor]  # one (time, ...) tensor per utterance, unpadded
    labels: torch.Tensor  # (N,) true class ids

    def __len__(self) -> int:
        return len(self.utts)


def read_forget_ids(forget_list) -> List[str]:
    """Utterance ids of a forget request: a Kaldi data dir (its utt2spk) or a
    file with one id per line (further fields are ignored)."""
    path = Path(forget_list)
    source = path / "utt2spk" if path.is_dir() else path
    if not source.is_file():
        raise ForgetSetError(f"forget list {forget_list}: {source} does not exist")
    ids, seen = [], {}
    with open(source, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if fields[0] in seen:
                raise ForgetSetError(
                    f"{source}:{lineno}: utterance {fields[0]} is listed twice (first on line {seen[fields[0]]})"
                )
            seen[fields[0]] = lineno
            ids.append(fields[0])
    if not ids:
        raise ForgetSetError(f"forget list {source} is empty")
    return ids


def check_forget_ids(ids: Sequence[str], data_path_and_name_and_type, classes: Sequence[str]) -> None:
    """Every id must be in every forget data file, with a known label."""
    for path, name, _ in data_path_and_name_and_type:
        if not Path(path).is_file():
            raise ForgetSetError(f"forget data file {path} ({name}) does not exist")
        table = read_table(path)
        missing = [u for u in ids if u not in table]
        if missing:
            raise ForgetSetError(
                f"utterance {missing[0]} of the forget list is not in {path}"
                + (f" (nor are {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        if name == "label":
            for u in ids:
                if table[u] not in classes:
                    raise ForgetSetError(
                        f"{path}: label '{table[u]}' of forget utterance {u} is not in the model's token list"
                    )


def load_forget_set(ids: Sequence[str], data_path_and_name_and_type, model_args, key_file) -> ForgetSet:
    """Reads the forget utterances through ESPnet's own iterator and the
    source model's preprocessing, so they look exactly as in training."""
    loader = CLSTask.build_streaming_iterator(
        data_path_and_name_and_type,
        preprocess_fn=CLSTask.build_preprocess_fn(model_args, False),
        collate_fn=CLSTask.build_collate_fn(model_args, False),
        key_file=str(key_file),
        dtype="float32",
        batch_size=1,
        num_workers=0,
        inference=False,
    )
    by_utt = {}
    for keys, batch in loader:
        by_utt[keys[0]] = (batch["speech"][0, : int(batch["speech_lengths"][0])], int(batch["label"][0, 0]))
    utts = list(ids)
    return ForgetSet(
        utts=utts,
        speech=[by_utt[u][0] for u in utts],
        labels=torch.tensor([by_utt[u][1] for u in utts], dtype=torch.long),
    )


def pad(speech: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded batch and lengths."""
    lengths = torch.tensor([s.shape[0] for s in speech], dtype=torch.long, device=speech[0].device)
    return torch.nn.utils.rnn.pad_sequence(list(speech), batch_first=True), lengths


def logits_of(model, speech: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Class scores of an ESPnet classification model, before softmax."""
    encoded, encoded_lengths = model.encode(speech, lengths)
    return model.decoder(encoded, encoded_lengths)

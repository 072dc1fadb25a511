"""The forget set: the only data unlearning reads, held in memory."""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Set

import torch

from espnet2_unlearn.espnet_imports import CLSTask
from espnet2_unlearn.data.forget_list import (  # noqa: F401 (ForgetSetError, read_forget_ids re-exported)
    ForgetSetError,
    check_in_training_data,
    read_forget_ids,
)
from espnet2_unlearn.data.kaldi_dir import read_table


@dataclass
class ForgetSet:
    utts: List[str]
    speech: List[torch.Tensor]  # one (time, ...) tensor per utterance, unpadded
    labels: torch.Tensor  # (N,) true class ids

    def __len__(self) -> int:
        return len(self.utts)


def check_forget_ids(ids: Sequence[str], data_path_and_name_and_type, classes: Sequence[str]) -> Set[str]:
    """Every id must be in every forget data file, with a label among the
    classes; returns the labels the label file holds (for every utterance
    of the training data, not only the forget set's)."""
    seen: Set[str] = set()
    for path, name, _ in data_path_and_name_and_type:
        if not Path(path).is_file():
            raise ForgetSetError(f"forget data file {path} ({name}) does not exist")
        table = read_table(path)
        check_in_training_data(ids, table, path)
        if name == "label":
            seen = set(table.values())
            for u in ids:
                if table[u] not in classes:
                    raise ForgetSetError(
                        f"{path}: label '{table[u]}' of forget utterance {u} is not one of the model's classes "
                        f"({', '.join(classes)})"
                    )
    return seen


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
    by_utt, order = {}, sorted(ids)  # the order the reader walks them in
    batches = iter(loader)
    while True:
        try:
            keys, batch = next(batches)
        except StopIteration:
            break
        except Exception as e:  # a damaged file: name the utterance it stopped at, and where it lives
            utt = order[len(by_utt)] if len(by_utt) < len(order) else "?"
            where = "; ".join(f"{path} has it as {read_table(path).get(utt, '(absent)')!r}"
                              for path, _, kind in data_path_and_name_and_type if kind != "text")
            raise ForgetSetError(f"cannot read forget utterance {utt}: {type(e).__name__}: {e} ({where})") from e
        by_utt[keys[0]] = (batch["speech"][0, : int(batch["speech_lengths"][0])], int(batch["label"][0, 0]))
    utts = list(ids)
    return ForgetSet(
        utts=utts,
        speech=[by_utt[u][0] for u in utts],
        labels=torch.tensor([by_utt[u][1] for u in utts], dtype=torch.long),
    )

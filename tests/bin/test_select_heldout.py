from espnet2_unlearn.bin.select_heldout import select_heldout


def corpus():
    utt2spk, text = {}, {}
    for s in ("s1", "s2"):
        for e in ("angry", "sad", "happy"):
            for i in range(4):
                utt = f"{s}_{e}_{i}"
                utt2spk[utt], text[utt] = s, e
    return utt2spk, text


def test_spreads_over_labels_per_speaker_and_repeats_for_a_seed():
    utt2spk, text = corpus()
    chosen = select_heldout(utt2spk, text, per_spk=3, seed=0)
    assert len(chosen) == 6
    for s in ("s1", "s2"):
        assert sorted(text[u] for u in chosen if utt2spk[u] == s) == ["angry", "happy", "sad"]
    assert chosen == select_heldout(utt2spk, text, per_spk=3, seed=0)
    assert chosen != select_heldout(utt2spk, text, per_spk=3, seed=1)


def test_keeps_training_data_for_every_speaker():
    utt2spk, text = corpus()
    import pytest

    with pytest.raises(ValueError, match="none would be left for training"):
        select_heldout(utt2spk, text, per_spk=12, seed=0)


def test_every_class_is_held_out_in_proportion_when_slots_are_fewer_than_classes():
    # An EmoDB-like layout: 7 classes, 10 speakers, 5 held-out slots each.
    classes = ["angry", "bored", "disgust", "fearful", "happy", "neutral", "sad"]
    utt2spk, text = {}, {}
    for s in range(10):
        for c in classes:
            for i in range(4):
                utt = f"spk{s:02d}_{c}_{i}"
                utt2spk[utt], text[utt] = f"spk{s:02d}", c
    chosen = select_heldout(utt2spk, text, per_spk=5, seed=0)
    counts = {c: sum(text[u] == c for u in chosen) for c in classes}
    assert len(chosen) == 50 and max(counts.values()) - min(counts.values()) <= 1
    for s in range(10):  # each speaker's five are five different classes
        assert len({text[u] for u in chosen if utt2spk[u] == f"spk{s:02d}"}) == 5
    assert select_heldout(utt2spk, text, per_spk=5, seed=1) != chosen

import pytest

from espnet2_unlearn.metrics.classification import classification_scores, confusion_matrix

CLASSES = ["a", "b", "c"]


def test_uar_weights_classes_equally_on_imbalanced_data():
    refs = ["a"] * 8 + ["b"] * 2
    hyps = ["a"] * 8 + ["a", "b"]
    s = classification_scores(refs, hyps, CLASSES)
    assert s["accuracy"] == pytest.approx(0.9)
    assert s["uar"] == pytest.approx((1.0 + 0.5) / 2)  # class c absent from refs: not averaged


def test_macro_f1_counts_a_never_predicted_class_as_zero():
    refs = ["a", "a", "b", "c"]
    hyps = ["a", "a", "a", "a"]
    s = classification_scores(refs, hyps, CLASSES)
    f1_a = 2 * 0.5 * 1.0 / 1.5
    assert s["macro_f1"] == pytest.approx(f1_a / 3)


def test_confusion_rows_are_references():
    cm = confusion_matrix(["a", "b"], ["b", "b"], CLASSES)
    assert cm.tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError):
        classification_scores([], [], CLASSES)

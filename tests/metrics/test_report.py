from espnet2_unlearn.metrics.report import write_report


def scores(acc):
    return {"accuracy": acc, "uar": acc, "macro_f1": acc, "num_utts": 4}


def model(forget, retain, test, efficacy):
    return {"forget": scores(forget), "retain": scores(retain), "test": scores(test),
            "mia": {"efficacy": efficacy, "attack_train_accuracy": 0.7, "nonmember_set": "heldout",
                    "loss_auc_forget_vs_nonmember": 0.5}}


def report_text(metrics, out_dir):
    """Writes the report of these metrics, every set's confusion the same."""
    refs, hyps = ["a", "a", "b", "b"], ["a", "b", "b", "b"]
    confusions = {name: {s: [refs, hyps] for s in ("forget", "retain", "test")} for name in metrics["models"]}
    write_report(metrics, confusions, out_dir)
    return (out_dir / "RESULTS.md").read_text()


def test_report_from_small_metrics(tmp_path):
    metrics = {"forget_request": "utterance", "num_forget_utts": 4, "classes": ["a", "b"],
               "models": {"original": model(1.0, 0.95, 0.6, 0.1), "unlearned": model(0.5, 0.9, 0.58, 0.45)}}
    metrics["models"]["unlearned"]["compute_time_s"] = 3.25
    text = report_text(metrics, tmp_path)
    assert "| original | 100.0 | 95.0 | 60.0 | 10.0 | 0.500 |" in text
    assert "| unlearned | 50.0 | 90.0 | 58.0 | 45.0 | 0.500 |" in text
    assert "| unlearned | 3.2 | - |" in text or "| unlearned | 3.3 | - |" in text
    assert "non-members" in text and "`heldout`" in text
    for png in ("methods.png", "confusion_test.png", "confusion_forget.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({png})" in text


def test_report_with_gold_has_intervals_gaps_speedups_and_bars(tmp_path):
    import numpy as np

    from espnet2_unlearn.metrics.comparison import compare

    metrics = {"forget_request": "utterance", "num_forget_utts": 4, "classes": ["a", "b"],
               "models": {"original": model(1.0, 0.95, 0.6, 0.1), "unlearned": model(0.5, 0.9, 0.58, 0.45),
                          "gold": model(0.6, 0.95, 0.6, 0.5)}}
    metrics["models"]["unlearned"].update(compute_time_s=2.0, process_time_s=10.0)
    metrics["models"]["gold"].update(compute_time_s=300.0, process_time_s=400.0)
    test_refs = np.array(["a", "b"] * 50)
    outcomes = {name: {"test_refs": test_refs, "test_correct": np.arange(100) < k,
                       "forget_correct": np.array(f, bool), "forget_called_nonmember": np.array(c, bool)}
                for name, k, f, c in (("original", 60, [1, 1, 1, 1], [0, 0, 0, 0]),
                                      ("unlearned", 58, [1, 1, 0, 0], [1, 1, 0, 0]),
                                      ("gold", 60, [1, 1, 1, 0], [1, 1, 0, 0]))}
    compare(metrics, outcomes, seed=0)
    text = report_text(metrics, tmp_path)
    # forget 10, retain 5, test 2, MIA 5 points from gold: mean 5.5
    assert "| unlearned | 50.0 | 90.0 | 58.0 | 45.0 | 0.500 | 5.5 |" in text
    assert "| gold | 60.0 | 95.0 | 60.0 | 50.0 | 0.500 | - |" in text
    assert "| unlearned | 10.0 | 5.0 | 2.0 | 5.0 | 5.5 |" in text
    assert "| unlearned | 2.0 | 10.0 | 150.0x | 40.0x | - |" in text
    assert "## Difference from original (points, paired bootstrap 95 % interval)" in text
    # Two test utterances of 100 flipped: -2 points of UAR with an interval; 4 forget utterances: none.
    row = next(line for line in text.splitlines() if line.startswith("| unlearned | \u22122.0 ["))
    assert "(n=4: too few for an interval)" in row
    assert "## Bars" in text and "| not resolved |" in text

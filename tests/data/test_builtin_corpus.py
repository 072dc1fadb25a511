import numpy as np

from espnet2_unlearn.data import builtin_corpus as corpus


def test_synthesis_is_deterministic_for_a_seed():
    spk = corpus.make_speakers(4, seed=3)[1]
    a = corpus.synthesize(spk, "angry", seed=11)
    b = corpus.synthesize(spk, "angry", seed=11)
    c = corpus.synthesize(spk, "angry", seed=12)
    assert np.array_equal(a, b)
    assert not (len(a) == len(c) and np.array_equal(a, c))
    assert a.dtype == np.float32 and np.abs(a).max() < 1.0
    assert 0.5 < len(a) / corpus.SAMPLE_RATE < 6


def test_speakers_have_distinct_voices():
    speakers = corpus.make_speakers(10, seed=0)
    assert len({s.name for s in speakers}) == 10
    assert len({round(s.f0, 3) for s in speakers}) == 10
    assert {s.gender for s in speakers} == {"f", "m"}


def test_emotion_moves_prosody_in_the_declared_direction():
    # Averaged over utterances: angry is louder than sad, sad lower in pitch
    # (by zero crossings, a rough proxy) than happy.
    spk = corpus.make_speakers(2, seed=0)[0]

    def mean_rms(emotion):
        return np.mean([np.sqrt(np.mean(corpus.synthesize(spk, emotion, s) ** 2)) for s in range(20)])

    assert mean_rms("angry") > mean_rms("neutral") > mean_rms("sad")


def test_speaker_split_is_disjoint_and_complete():
    split = corpus.speaker_split(16, 2, 4)
    assert sorted(split) == [f"spk{i:02d}" for i in range(1, 17)]
    assert sum(v == "train" for v in split.values()) == 10
    assert sum(v == "valid" for v in split.values()) == 2
    assert sum(v == "test" for v in split.values()) == 4


def test_plan_has_every_speaker_emotion_pair_and_unique_ids():
    utts = corpus.plan_corpus(3, 2, seed=0)
    assert len(utts) == 3 * len(corpus.EMOTIONS) * 2
    assert len({u.utt_id for u in utts}) == len(utts)
    assert len({u.seed for u in utts}) == len(utts)
    for u in utts:
        assert u.utt_id.startswith(u.speaker + "_" + u.emotion)

"""split_scp.pl, filter_scp.pl, subset_data_dir.sh, validate_data_dir.sh and
the utt2spk/spk2utt converters on a small data dir."""

import pytest

from helpers import ROOT, run

U = ROOT / "utils"


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    utts = [(f"s{s}_u{i}", f"s{s}", ["angry", "sad"][i % 2]) for s in (1, 2, 3) for i in range(3)]
    (d / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s, _ in utts))
    (d / "text").write_text("".join(f"{u} {e}\n" for u, _, e in utts))
    (d / "wav.scp").write_text("".join(f"{u} /w/{u}.wav\n" for u, _, _ in utts))
    run(f"{U}/utt2spk_to_spk2utt.pl {d}/utt2spk > {d}/spk2utt")
    return d


def test_spk2utt_round_trip(data):
    assert (data / "spk2utt").read_text().splitlines()[0] == "s1 s1_u0 s1_u1 s1_u2"
    back = run(f"{U}/spk2utt_to_utt2spk.pl {data}/spk2utt").stdout
    assert back == (data / "utt2spk").read_text()


def test_split_scp_loses_nothing_and_keeps_speakers_together(data, tmp_path):
    outs = [tmp_path / f"p{i}" for i in range(4)]
    run(f"{U}/split_scp.pl {data}/wav.scp " + " ".join(map(str, outs)))
    pieces = [p.read_text().splitlines() for p in outs]
    assert sum(pieces, []) == (data / "wav.scp").read_text().splitlines()
    assert sorted(map(len, pieces)) == [2, 2, 2, 3]
    outs = outs[:3]
    run(f"{U}/split_scp.pl --utt2spk {data}/utt2spk {data}/wav.scp " + " ".join(map(str, outs)))
    for i, p in enumerate(outs):
        assert {line.split("_")[0] for line in p.read_text().splitlines()} == {f"s{i + 1}"}
    proc = run(f"{U}/split_scp.pl --utt2spk {data}/utt2spk {data}/wav.scp " + " ".join(
        str(tmp_path / f"q{i}") for i in range(4)), check=False)
    assert "cannot split 3 speakers" in proc.stderr


def test_subset_by_utterances_and_speakers(data, tmp_path):
    (tmp_path / "list").write_text("s2_u1\ns3_u0\n")
    run(f"{U}/subset_data_dir.sh --utt-list {tmp_path}/list {data} {tmp_path}/sub")
    assert (tmp_path / "sub/text").read_text() == "s2_u1 sad\ns3_u0 angry\n"
    assert (tmp_path / "sub/spk2utt").read_text() == "s2 s2_u1\ns3 s3_u0\n"
    run(f"{U}/validate_data_dir.sh {tmp_path}/sub")
    (tmp_path / "spks").write_text("s1\n")
    run(f"{U}/subset_data_dir.sh --spk-list {tmp_path}/spks {data} {tmp_path}/sub1")
    assert len((tmp_path / "sub1/wav.scp").read_text().splitlines()) == 3


def test_validate_names_the_problem(data, tmp_path):
    run(f"{U}/validate_data_dir.sh {data}")
    (tmp_path / "tokens").write_text("angry\nhappy\n<unk>\n")
    proc = run(f"{U}/validate_data_dir.sh --token-list {tmp_path}/tokens {data}", check=False)
    assert 'label "sad" of utterance s1_u1' in proc.stderr
    text = (data / "text").read_text().splitlines()
    (data / "text").write_text("\n".join(text[:4] + text[5:]) + "\n")
    proc = run(f"{U}/validate_data_dir.sh {data}", check=False)
    assert "utterance s2_u1 is in" in proc.stderr and "not in" in proc.stderr
    (data / "text").write_text("\n".join([text[1], text[0]] + text[2:]) + "\n")
    proc = run(f"{U}/validate_data_dir.sh {data}", check=False)
    assert "text:2: key s1_u0 is out of order" in proc.stderr

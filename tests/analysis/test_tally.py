"""Packed word counts (analysis.tally) come back exactly as they went in."""

import random

import pytest

from analysis.tally import tally_pack, tally_unpack


def test_round_trip_keeps_every_word_count_and_order():
    rng = random.Random(7)
    alphabet = "abcxyz-'’é\u0301ß𝐛😀 " + "".join(chr(c) for c in range(0x4E00, 0x4E10))
    counts = {
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))): rng.randint(1, 10**6)
        for _ in range(3000)
    }
    counts["big"] = 2**40  # more than 32 bits
    counts["\ud800"] = 1  # a lone surrogate survives too
    back = tally_unpack(tally_pack(counts))
    assert back == counts
    assert list(back) == list(counts)


def test_empty_and_single():
    assert tally_unpack(tally_pack({})) == {}
    assert tally_unpack(tally_pack({"": 3})) == {"": 3}
    assert tally_unpack(memoryview(tally_pack({"skills": 2}))) == {"skills": 2}


def test_a_word_with_nul_is_refused_and_a_damaged_value_is_noticed():
    with pytest.raises(ValueError, match="NUL"):
        tally_pack({"a\x00b": 1})
    packed = tally_pack({"a": 1, "b": 2})
    with pytest.raises(ValueError, match="words for"):
        tally_unpack(packed + b"\x00c")

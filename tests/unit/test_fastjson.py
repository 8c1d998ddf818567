"""corpus.importers.fastjson gives exactly what the standard library's json gives: the same
values, the same types, the same errors, on the cases where orjson alone would differ and on
real posts."""

import json
import math
from pathlib import Path

import pytest

from corpus.importers import fastjson, open_rows

CORPORA = Path(__file__).resolve().parents[3] / "shared/data/corpora"

SAME_AS_JSON = [
    '{"id": 1, "text": "plain"}',
    '{"a": 1, "a": 2}',  # the last duplicate key wins
    '{"id": 123456789012345678901234567890}',  # orjson alone: a float
    '{"id": -9223372036854775809}',  # orjson alone: a float
    '{"id": 18446744073709551615}',
    '{"id": 7123456789012345678, "url": "urn:li:activity:7123456789012345678"}',
    '{"score": NaN, "other": Infinity, "low": -Infinity}',  # orjson alone: refused
    '{"big": 1e400}',  # orjson alone: refused
    '{"text": "\\ud800 lone"}',  # an escaped lone surrogate: orjson alone refuses it
    '{"text": "\\ud83d\\ude00 pair"}',
    '{"x": -0.0, "y": 0.1, "z": 1E5, "w": 2.5e-308}',
    '{"nested": {"list": [1, "two", null, true, false]}}',
    '"just a string"',
    " [1, 2] ",
]

NOT_JSON = ['{"a": 1}x', "[1,]", '{"a": "tab\there"}', "{'a': 1}", "", '{"a": 01}']


def _typed(value):
    """A value with the type of every part spelt out (1 == 1.0 == True in Python)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


@pytest.mark.parametrize("text", SAME_AS_JSON)
def test_loads_gives_what_json_gives(text):
    assert _typed(fastjson.loads(text)) == _typed(json.loads(text))


def test_loads_keeps_a_string_that_holds_surrogates():
    text = '{"text": "\ud83d\ude00"}'  # the surrogates themselves, not escapes
    assert fastjson.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", NOT_JSON)
def test_loads_fails_as_json_fails(text):
    with pytest.raises(json.JSONDecodeError) as ours:
        fastjson.loads(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert (ours.value.msg, ours.value.pos) == (theirs.value.msg, theirs.value.pos)


def test_loads_real_tweets_as_json_does():
    with open(CORPORA / "tweeteval_155k.jsonl", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(5000), f, strict=False)]
    assert [_typed(fastjson.loads(line)) for line in lines] == [
        _typed(json.loads(line)) for line in lines
    ]


@pytest.mark.parametrize(
    "value",
    [
        [{"sector": "Education", "likes": 12, "share": 0.25, "flag": True, "none": None}],
        [{"id": 123456789012345678901234567890}],  # orjson alone: refused
        [{"text": "lone \ud800"}],  # orjson alone: refused
        [{"emoji": "😀 café ’"}, {}],
        [],
    ],
)
def test_dumps_gives_the_value_json_gives(value):
    ours = fastjson.dumps(value)
    assert isinstance(ours, str)
    assert _typed(json.loads(ours)) == _typed(value)
    assert "\\u00e9" not in ours  # not escaped to ASCII, as ensure_ascii=False


def test_dumps_writes_nan_as_null_which_postgresql_accepts():
    assert json.loads(fastjson.dumps([{"x": math.nan}])) == [{"x": None}]


def test_jsonl_reader_keeps_a_long_numeric_id_exactly(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"id": 123456789012345678901234567890, "text": "first"}\n'
        '{"id": 7, "text": "second", "score": NaN}\n',
        encoding="utf-8",
    )
    with open(path, "rb") as f:
        _, rows = open_rows(f, "jsonl")
        fields = [row.fields for row in rows]
    assert fields[0]["id"] == 123456789012345678901234567890
    assert isinstance(fields[0]["id"], int)
    assert math.isnan(fields[1]["score"])

"""The English stop word list used to leave function words out of word frequency queries."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

__all__ = ["load_stopwords"]

_EN = Path(__file__).with_name("stopwords_en.txt")


@cache
def load_stopwords() -> frozenset[str]:
    """The words of ``stopwords_en.txt``, normalised like ``tokenize.words`` normalises words.

    Entries are NFKC-normalised and case-folded, and ’ becomes ', so "Don’t" in the file
    still matches the word "don't".
    """
    entries = set()
    for line in _EN.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entries.add(unicodedata.normalize("NFKC", line).casefold().replace("\u2019", "'"))
    return frozenset(entries)

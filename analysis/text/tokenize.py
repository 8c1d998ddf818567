"""The one word definition shared by every text analysis (word counts, frequencies, trees)."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import cache

__all__ = ["DEFAULT", "TokenizeOptions", "count_words", "words"]


@dataclass(frozen=True)
class TokenizeOptions:
    drop_urls: bool = True
    drop_emails: bool = True
    drop_mentions: bool = True
    drop_numbers: bool = True
    casefold: bool = True


DEFAULT = TokenizeOptions()
# A post's word count keeps numbers ("3 reasons", "2024") but never URLs, e-mails or mentions.
_COUNTING = TokenizeOptions(drop_numbers=False)

_APOSTROPHES = "'\u2019"
# NFKC turns the non-breaking hyphen U+2011 into U+2010, so both spellings reach the regex.
_HYPHENS = "-\u2010"
_JOINER_TO_ASCII = str.maketrans({"\u2019": "'", "\u2010": "-"})
_HAS_LETTER = re.compile(r"[^\W\d_]")


@cache
def _combining_marks() -> str:
    """A regex character class body of every combining mark (categories Mn, Mc, Me).

    Python's ``\\w`` excludes them, which would split words in Devanagari, Thai and other
    scripts at each vowel sign. Built once, on first use (about 0.1 s).
    """
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


@cache
def _token_pattern() -> re.Pattern[str]:
    segment = rf"[^\W_](?:[^\W_]|[{_combining_marks()}])*"
    # Digit groups such as 3.5 or 10,000 stay one word, so they count once.
    joiner = rf"(?:[{re.escape(_APOSTROPHES + _HYPHENS)}]|(?<=\d)[.,](?=\d))"
    return re.compile(
        rf"""
        (?P<url>(?i:(?:https?://|www\.)\S+|\blnkd\.in/\S*))
        | (?P<email>\w[\w.+-]*@[\w-]+(?:\.[\w-]+)+)
        | (?P<mention>@\w+)
        | (?P<word>{segment}(?:{joiner}{segment})*)
        """,
        re.VERBOSE,
    )


def _prepare(text: str, casefold: bool) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.casefold() if casefold else text


def _words_in(text: str, options: TokenizeOptions) -> list[str]:
    found: list[str] = []
    for match in _token_pattern().finditer(text):
        kind = match.lastgroup
        if kind == "word":
            word = match.group().translate(_JOINER_TO_ASCII)
            if options.drop_numbers and not _HAS_LETTER.search(word):
                continue
            found.append(word)
        elif not getattr(options, f"drop_{kind}s"):
            # Kept URLs, e-mails and mentions are read as the words they are made of.
            inner = match.group().lstrip("@")
            found.extend(_words_in(_spaced(inner, kind), options))
    return found


def _spaced(span: str, kind: str | None) -> str:
    # Breaks the span so it cannot match as a URL, e-mail or mention again.
    return re.sub(r"[/@:.]", " ", span) if kind != "mention" else span


def words(text: str, options: TokenizeOptions = DEFAULT) -> list[str]:
    """The words of ``text`` in order.

    The text is NFKC-normalised (so "mathematical bold" 𝗪𝗛𝗔𝗧 reads as WHAT) and, by default,
    case-folded. A word is a maximal run of letters, digits and combining marks that may
    contain single inner apostrophes (' or ’, returned as ') or hyphens, and digit groups
    joined by . or , (3.5, 10,000): "micro-credentials", "don't" and "covid-19" are one
    word each. ``#hashtag`` gives "hashtag". URLs (http://, https://, www., lnkd.in/),
    e-mail addresses, @mentions and words without a letter are dropped unless
    ``options`` says otherwise.
    """
    return _words_in(_prepare(text, options.casefold), options)


def count_words(text: str) -> int:
    """A post's word count: every word including numbers, without URLs, e-mails, mentions."""
    return len(words(text, _COUNTING))

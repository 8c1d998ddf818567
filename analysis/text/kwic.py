"""Keyword in context: every occurrence of a word or phrase with the words around it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from analysis.text.frequency import Grouping, PhraseMatcher, stem, synonym_members
from analysis.text.tokenize import (
    DEFAULT,
    JOINER_TO_ASCII,
    Token,
    TokenizeOptions,
    sentence_token_ranges,
    sentences,
    tokens,
    word_counts,
    words,
)

__all__ = ["KwicLine", "Occurrence", "find_occurrences", "keyword_in_context"]


@dataclass
class KwicLine:
    doc_id: object
    left: str
    keyword: str
    right: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int


@dataclass(frozen=True, eq=False)
class Occurrence:
    """One match of a keyword: tokens ``[first, last)`` of ``found``, inside one sentence."""

    doc_id: object
    text: str
    found: list[Token]
    first: int
    last: int
    # Token indices [lo, hi) and code point span of the sentence holding the match.
    sentence_tokens: tuple[int, int]
    sentence: tuple[int, int]
    # What the keyword resolved to: its normalised words, or the synonym group label.
    label: str

    @property
    def matched(self) -> str:
        """The matched words, normalised, joined by spaces."""
        return " ".join(token.word for token in self.found[self.first : self.last])


def _resolve(
    keyword: str, grouping: Grouping, options: TokenizeOptions
) -> tuple[dict[tuple[str, ...], str], Callable[[str], str] | None]:
    """The phrases to look for (as keys) with their labels, and the word -> key function."""
    target = tuple(words(keyword, options))
    if not target:
        raise ValueError(f"keyword {keyword!r} has no words")
    label = " ".join(target)
    if grouping == "exact":
        return {target: label}, None
    if grouping == "stem":
        return {tuple(stem(word) for word in target): label}, stem
    if not isinstance(grouping, Mapping):
        raise ValueError(f"grouping must be 'exact', 'stem' or a mapping, not {grouping!r}")
    members = synonym_members(grouping, options)
    group = members.get(target)
    if group is None:
        return {target: label}, None
    return {key: group for key, name in members.items() if name == group}, None


# Read only the sentences around a likely match, not the whole text (exact keywords).
WINDOWS = True
_SPACE = re.compile(r"\s")


def _windows(
    text: str, spans: list[tuple[int, int]], first_words: set[str]
) -> list[tuple[int, int, list[int]]]:
    """Stretches of ``text`` worth tokenising: each sentence whose folded text holds a first
    word of the keyword as a substring, with the sentences either side (for KWIC context),
    widened to whitespace, overlapping stretches merged. Each comes with the sentence indices
    to search in it. Sentences are folded one by one, so offsets stay the text's own."""
    hits = []
    for i, (a, b) in enumerate(spans):
        sentence = text[a:b]
        if sentence.isascii():
            folded = sentence.lower()
        else:
            folded = unicodedata.normalize("NFKC", sentence).casefold()
            folded = folded.translate(JOINER_TO_ASCII)
        if any(word in folded for word in first_words):
            hits.append(i)
    windows: list[list] = []
    for i in hits:
        lo, hi = max(i - 1, 0), min(i + 1, len(spans) - 1)
        a, b = spans[lo][0], spans[hi][1]
        while a > 0 and not _SPACE.match(text, a - 1):
            a -= 1
        while b < len(text) and not _SPACE.match(text, b):
            b += 1
        if windows and a <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], b)
            windows[-1][2].append(i)
        else:
            windows.append([a, b, [i]])
    return [(a, b, wanted) for a, b, wanted in windows]


def find_occurrences(
    docs: Iterable[tuple[object, str]],
    keyword: str,
    *,
    grouping: Grouping = "exact",
    options: TokenizeOptions = DEFAULT,
    quick_check: bool = True,
) -> Iterator[Occurrence]:
    """Every occurrence of ``keyword`` in ``docs`` (``(doc_id, text)`` pairs), in order.

    ``keyword`` is a word or phrase, read with the same word definition as the texts and
    matched on consecutive words of one sentence (a phrase never spans a sentence end).
    With ``grouping="stem"`` words match by Snowball stem; with a synonym mapping a keyword
    that is a member or label of a group matches every member of that group. Matches are
    leftmost-longest and never overlap. ``quick_check=False`` skips the word-count test that
    rules out texts without the keyword, for callers that already kept only likely texts.
    """
    phrases, key_of = _resolve(keyword, grouping, options)
    matcher = PhraseMatcher(phrases)
    first_words = {phrase[0] for phrase in phrases}
    for doc_id, text in docs:
        # Most texts lack the keyword: a plain word count rules them out several times
        # faster than locating every token.
        if quick_check:
            present = word_counts((text,), options).keys()
            if first_words.isdisjoint(map(key_of, present) if key_of else present):
                continue
        spans = sentences(text)
        windows = _windows(text, spans, first_words) if key_of is None and WINDOWS else None
        if windows is None:
            windows = [(0, len(text), range(len(spans)))]
        for a, b, wanted in windows:
            # Tokens of the window only (a window starts and ends at whitespace, where no
            # token can cross), offsets into the whole text.
            found = (
                tokens(text[a:b], options) if (a, b) != (0, len(text)) else tokens(text, options)
            )
            if a:
                found = [Token(t.word, t.start + a, t.end + a) for t in found]
            keys = [token.word for token in found]
            if key_of is not None:
                keys = [key_of(key) for key in keys]
            chosen = [spans[i] for i in wanted]
            for span, (lo, hi) in zip(chosen, sentence_token_ranges(found, chosen), strict=True):
                for first, last, label in matcher.find(keys, lo, hi):
                    yield Occurrence(doc_id, text, found, first, last, (lo, hi), span, label)


def keyword_in_context(
    docs: Iterable[tuple[object, str]],
    keyword: str,
    *,
    width: int = 5,
    grouping: Grouping = "exact",
    options: TokenizeOptions = DEFAULT,
    occurrences: Iterable[Occurrence] | None = None,
) -> list[KwicLine]:
    """A KWIC line per occurrence of ``keyword`` (see ``find_occurrences`` for matching).

    ``occurrences``, when given, are the already found occurrences (a word tree of the same
    keyword shares them, so the texts are read once); ``docs`` is then not read.

    ``left`` and ``right`` are the original text from up to ``width`` words before the
    match and to up to ``width`` words after it, whitespace next to the keyword trimmed.
    They stop at the ends of the text but not at sentence ends, so context may run into
    the neighbouring sentence; ``sentence_start``/``sentence_end`` give the match's own
    sentence. ``keyword``, ``start`` and ``end`` are the matched original text and offsets.
    """
    width = max(width, 0)
    lines: list[KwicLine] = []
    if occurrences is None:
        occurrences = find_occurrences(docs, keyword, grouping=grouping, options=options)
    for occ in occurrences:
        found, text = occ.found, occ.text
        start, end = found[occ.first].start, found[occ.last - 1].end
        left_from = max(occ.first - width, 0)
        right_to = min(occ.last + width, len(found))
        left = text[found[left_from].start : start].rstrip() if left_from < occ.first else ""
        right = text[end : found[right_to - 1].end].lstrip() if right_to > occ.last else ""
        lines.append(
            KwicLine(
                doc_id=occ.doc_id,
                left=left,
                keyword=text[start:end],
                right=right,
                start=start,
                end=end,
                sentence_start=occ.sentence[0],
                sentence_end=occ.sentence[1],
            )
        )
    return lines

"""The one word definition shared by every text analysis (word counts, frequencies, trees)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain, compress, islice
from operator import not_
from typing import NamedTuple

__all__ = [
    "DEFAULT",
    "Token",
    "TokenizeOptions",
    "count_words",
    "sentence_token_ranges",
    "sentences",
    "tokens",
    "word_counts",
    "words",
]


@dataclass(frozen=True)
class TokenizeOptions:
    drop_urls: bool = True
    drop_emails: bool = True
    drop_mentions: bool = True
    drop_numbers: bool = True
    casefold: bool = True


class Token(NamedTuple):
    """A word as ``words`` returns it and where it stands in the original text."""

    word: str
    start: int
    end: int


DEFAULT = TokenizeOptions()
# A post's word count keeps numbers ("3 reasons", "2024") but never URLs, e-mails or mentions.
_COUNTING = TokenizeOptions(drop_numbers=False)

_APOSTROPHES = "'\u2019"
# NFKC turns the non-breaking hyphen U+2011 into U+2010, so both spellings reach the regex.
_HYPHENS = "-\u2010"
# The curly apostrophe and the Unicode hyphen, read as their ASCII forms (shared with kwic and
# the word tree's database prefilter).
JOINER_TO_ASCII = str.maketrans({"\u2019": "'", "\u2010": "-"})
_HAS_LETTER = re.compile(r"[^\W\d_]")


# Combining marks occur only in the Basic and Supplementary Multilingual Planes and, as
# variation selectors, in the Supplementary Special-purpose Plane.
MARK_PLANES = (range(0x20000), range(0xE0000, 0xF0000))


@cache
def _mark_ranges() -> tuple[tuple[int, int], ...]:
    """Code point ranges of every combining mark (categories Mn, Mc, Me).

    Python's ``\\w`` excludes them, which would split words in Devanagari, Thai and other
    scripts at each vowel sign. Built once, on first use, from the planes that hold marks
    (tests check this against a scan of every code point).
    """
    ranges: list[tuple[int, int]] = []
    for code in chain(*MARK_PLANES):
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return tuple(ranges)


def _class_body(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


@cache
def _combining_marks() -> str:
    """A regex character class body of every combining mark."""
    return _class_body(_mark_ranges())


@cache
def _one_mark() -> str:
    """A regex matching one combining mark, fast on text that has none.

    ``re`` tests a class holding code points above U+FFFF range by range, hundreds of
    comparisons per character; the BMP part compiles to a lookup table, and the guard keeps
    ordinary characters away from the slow astral part.
    """
    bmp = [(a, b) for a, b in _mark_ranges() if b <= 0xFFFF]
    astral = [(a, b) for a, b in _mark_ranges() if a > 0xFFFF]
    return rf"(?:[{_class_body(bmp)}]|(?=[\U00010000-\U0010ffff])[{_class_body(astral)}])"


def _pattern_source(capture_kinds: bool) -> str:
    # Possessive quantifiers and the unrolled loop (letters, then marks-and-letters) match
    # exactly what "(?:letter|mark)*" would, without backtracking.
    segment = rf"[^\W_]++(?:{_one_mark()}++[^\W_]*+)*+"
    # Digit groups such as 3.5 or 10,000 stay one word, so they count once.
    joiner = rf"(?:[{re.escape(_APOSTROPHES + _HYPHENS)}]|(?<=\d)[.,](?=\d))"
    # The lookahead only lets positions that can start a URL try the (slow) URL branch.
    kinds = {
        "url": r"(?=[hHwWlL])(?i:(?:https?://|www\.)\S+|\blnkd\.in/\S*)",
        "email": r"\w[\w.+-]*+@[\w-]+(?:\.[\w-]+)+",
        "mention": r"@\w+",
    }
    branches = [f"(?P<{k}>{v})" if capture_kinds else f"(?:{v})" for k, v in kinds.items()]
    word = f"{segment}(?:{joiner}{segment})*+"
    branches.append(f"(?P<word>{word})" if capture_kinds else f"({word})")
    return "|".join(branches)


@cache
def _token_pattern() -> re.Pattern[str]:
    return re.compile(_pattern_source(capture_kinds=True))


@cache
def _count_pattern() -> re.Pattern[str]:
    """The same scan, for ``findall``: a word, or "" for a dropped URL, e-mail or mention."""
    return re.compile(_pattern_source(capture_kinds=False))


def _prepare(text: str, casefold: bool) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.casefold() if casefold else text


def _words_in(text: str, options: TokenizeOptions) -> list[str]:
    found: list[str] = []
    for match in _token_pattern().finditer(text):
        kind = match.lastgroup
        if kind == "word":
            word = match.group().translate(JOINER_TO_ASCII)
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
    prepared = _prepare(text, options.casefold)
    if options.drop_urls and options.drop_emails and options.drop_mentions:
        return _words_found(prepared, options.drop_numbers)
    return _words_in(prepared, options)


def _words_found(prepared: str, drop_numbers: bool) -> list[str]:
    """``_words_in`` for the usual options (URLs, e-mails and mentions dropped), with one
    ``findall`` instead of a Python step per match: several times faster on long texts."""
    # findall gives the word for a word and "" for a URL, e-mail or mention.
    pattern = _ascii_count_pattern() if prepared.isascii() else _count_pattern()
    found = pattern.findall(prepared)
    if "\u2019" in prepared or "\u2010" in prepared:
        found = [word.translate(JOINER_TO_ASCII) for word in found]
    if not drop_numbers:
        return [word for word in found if word]
    has_letter = _HAS_LETTER.search
    # Most words start with a letter; only the others need the full test.
    return [word for word in found if word and (word[0].isalpha() or has_letter(word))]


def count_words(text: str) -> int:
    """A post's word count: every word including numbers, without URLs, e-mails, mentions."""
    # findall gives the word for a word and "" for a URL, e-mail or mention: count the words.
    if text.isascii():  # NFKC leaves ASCII alone, and the ASCII pattern finds the same words
        found = _ascii_count_pattern().findall(text)
    else:
        found = _count_pattern().findall(unicodedata.normalize("NFKC", text))
    return len(found) - found.count("")


# --- Counting many texts ---------------------------------------------------------------

# Texts are cut into pieces in batches of this many: one split per batch, not per text.
_BATCH_TEXTS = 2000


def word_counts(texts: Iterable[str], options: TokenizeOptions = DEFAULT) -> Counter[str]:
    """How often each word of ``words`` occurs in ``texts``, all texts together.

    Equal to ``Counter(w for t in texts for w in words(t, options))`` but several times
    faster. No match contains whitespace, so the texts are cut at whitespace into pieces
    (one ``split`` per batch of texts) and only the distinct pieces are normalised and
    scanned, each counted as often as it occurs: a piece of letters and digits only is a
    word without any scan, and ASCII pieces take an ASCII-only form of the pattern (a third
    faster). Joiners and number filtering are then applied once per distinct word.
    """
    if not (options.drop_urls and options.drop_emails and options.drop_mentions):
        return Counter(w for text in texts for w in words(text, options))
    raw: Counter[str] = Counter()
    remaining = iter(texts)
    while batch := list(islice(remaining, _BATCH_TEXTS)):
        raw.update("\n".join(batch).split())
    # ASCII pieces (88% of the tweets' distinct pieces) are prepared apart: NFKC leaves
    # them as they are, so only the others are normalised (word counts of the 155k tweets,
    # best of six: 0.79 s -> 0.76 s).
    pieces, times = list(raw), list(raw.values())
    plain = list(map(str.isascii, pieces))
    other = list(map(not_, plain))
    prepared = chain(
        zip(_prepared(list(compress(pieces, plain)), options), compress(times, plain), strict=True),
        zip(_prepared(list(compress(pieces, other)), options), compress(times, other), strict=True),
    )
    return _clean_counts(_counts_of_pieces(prepared), options)


def _prepared(pieces: list[str], options: TokenizeOptions) -> list[str]:
    """Each piece as ``_prepare`` would leave it inside its text, in the same order.

    Normalisation never reaches across whitespace: every whitespace character is a starter
    that composes with nothing, so NFKC of a text is NFKC of its pieces, joined by the
    normalised whitespace. Case folding works character by character. The pieces are
    prepared together, joined by line breaks (which no piece holds and neither step makes).
    """
    joined = "\n".join(pieces)
    if not joined.isascii():
        joined = unicodedata.normalize("NFKC", joined)
    if options.casefold:
        # ASCII: lower() is casefold() there, and faster.
        joined = joined.lower() if joined.isascii() else joined.casefold()
    return joined.split("\n") if pieces else []


def _counts_of_pieces(pieces: Iterable[tuple[str, int]]) -> Counter[str]:
    """The words found in prepared pieces of text, given with how often each occurs.

    A piece is scanned once however often it occurs, and its words counted that often (a
    normalised piece may still hold whitespace, such as NFKC's " \u0308" for "\u00a8";
    the scan steps over it as it would inside the text).
    """
    counts: dict[str, int] = {}
    get = counts.get
    # ASCII pieces (most, even in texts with emoji) take the ASCII pattern.
    patterns = {True: _ascii_count_pattern().findall, False: _count_pattern().findall}
    seen_once: dict[bool, list[str]] = {True: [], False: []}
    for piece, n in pieces:
        if piece.isalnum():
            # Letters and digits only: one word, the piece itself (most pieces).
            counts[piece] = get(piece, 0) + n
        elif n == 1:
            seen_once[piece.isascii()].append(piece)
        else:
            for word in patterns[piece.isascii()](piece):
                counts[word] = get(word, 0) + n
    found = Counter(counts)
    # The pieces seen once are scanned together, one call per pattern.
    for plain, once in seen_once.items():
        found.update(patterns[plain]("\n".join(once)))
    return found


@cache
def _ascii_count_pattern() -> re.Pattern[str]:
    """``_count_pattern`` for pure-ASCII text: the same branches and matches, with classes
    spelt out in ASCII (no combining marks can occur) and compiled with re.ASCII. \\s is
    written out, since in Unicode mode it also covers the separators \\x1c-\\x1f."""
    space = r" \t\n\r\f\v\x1c-\x1f"
    kinds = [
        rf"(?=[hHwWlL])(?i:(?:https?://|www\.)[^{space}]+|\blnkd\.in/[^{space}]*)",
        r"\w[\w.+-]*+@[\w-]+(?:\.[\w-]+)+",
        r"@\w+",
    ]
    segment = r"[a-zA-Z0-9]++"
    joiner = r"(?:['\-]|(?<=\d)[.,](?=\d))"
    word = f"({segment}(?:{joiner}{segment})*+)"
    return re.compile("|".join([*(f"(?:{k})" for k in kinds), word]), re.ASCII)


def _clean_counts(counts: Counter[str], options: TokenizeOptions) -> Counter[str]:
    counts.pop("", None)  # the dropped URLs, e-mails and mentions
    # Only non-ASCII words can hold a curly apostrophe or a Unicode hyphen.
    joined = [k for k in counts if not k.isascii() and ("\u2019" in k or "\u2010" in k)]
    for key in joined:
        counts[key.translate(JOINER_TO_ASCII)] += counts.pop(key)
    if options.drop_numbers:
        # Most words start with a letter; only the others need the full test.
        has_letter = _HAS_LETTER.search
        for key in [k for k in counts if not k[0].isalpha() and not has_letter(k)]:
            del counts[key]
    return counts


# --- Offsets in the original text ------------------------------------------------------


def tokens(text: str, options: TokenizeOptions = DEFAULT) -> list[Token]:
    """The words of ``text`` (exactly ``words(text, options)``) with their original offsets.

    ``start`` and ``end`` are code point offsets into ``text`` itself, not into its NFKC
    form, so ``text[start:end]`` is the word as written ("𝗪𝗛𝗔𝗧", "ﬁnance", "Don’t").
    Where normalisation merges or expands characters the span covers whole original
    characters (a combining sequence, a ligature).
    """
    prepared, starts, ends = _offset_map(text, options.casefold)
    spans = _spans_in(prepared, options, 0)
    if starts is None:
        return [Token(w, s, e) for w, s, e in spans]
    return [Token(w, starts[s], ends[e - 1]) for w, s, e in spans]


def _spans_in(text: str, options: TokenizeOptions, base: int) -> list[tuple[str, int, int]]:
    # Mirrors _words_in, keeping each match's offsets.
    found: list[tuple[str, int, int]] = []
    append = found.append
    has_joiners = "\u2019" in text or "\u2010" in text
    drop_numbers = options.drop_numbers
    has_letter = _HAS_LETTER.search
    for match in _token_pattern().finditer(text):
        kind = match.lastgroup
        if kind == "word":
            word = match.group()
            if has_joiners:
                word = word.translate(JOINER_TO_ASCII)
            # Most words start with a letter; only the others need the full test.
            if drop_numbers and not word[0].isalpha() and not has_letter(word):
                continue
            start, end = match.span()
            append((word, base + start, base + end))
        elif not getattr(options, f"drop_{kind}s"):
            inner = match.group().lstrip("@")
            # _spaced replaces characters one for one, so offsets inside carry over.
            offset = base + match.end() - len(inner)
            found.extend(_spans_in(_spaced(inner, kind), options, offset))
    return found


@cache
def _chunk_pattern() -> re.Pattern[str]:
    # Pieces NFKC can normalise one at a time: ASCII runs not followed by a combining mark
    # (kept one-to-one), else one character with the combining marks, or the Hangul vowel
    # and final jamo, that compose with it.
    mark = _one_mark()
    jamo = r"[\u1160-\u11ff\ud7b0-\ud7ff]"
    return re.compile(rf"[\x00-\x7f]+(?!{mark})|.(?:{mark}|{jamo})*", re.DOTALL)


_WHITESPACE_CHUNKS = re.compile(r"\s+|\S+")


def _offset_map(text: str, casefold: bool) -> tuple[str, list[int] | None, list[int] | None]:
    """The prepared text and, per prepared code point, its original start and end offsets.

    None for both maps when preparation changes no length (the usual case): casefolding
    never shortens a character, so equal lengths mean a one-to-one correspondence.
    """
    prepared = _prepare(text, casefold)
    if len(prepared) == len(text) and unicodedata.is_normalized("NFKC", text):
        return prepared, None, None
    for chunker in (_chunk_pattern(), _WHITESPACE_CHUNKS):
        maps = _map_chunks(text, [m.span() for m in chunker.finditer(text)], casefold)
        # Rare compositions across chunks (Hangul jamo) show as a mismatch: use coarser ones.
        if maps[0] == prepared:
            return maps
    return _map_chunks(text, [(0, len(text))], casefold)


def _map_chunks(
    text: str, spans: list[tuple[int, int]], casefold: bool
) -> tuple[str, list[int], list[int]]:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for a, b in spans:
        chunk = text[a:b]
        piece = _prepare(chunk, casefold)
        pieces.append(piece)
        if chunk.isascii():
            starts.extend(range(a, b))
            ends.extend(range(a + 1, b + 1))
        else:
            starts.extend([a] * len(piece))
            ends.extend([b] * len(piece))
    return "".join(pieces), starts, ends


# --- Sentences -------------------------------------------------------------------------

_SENTENCE_END = re.compile(
    r"(?P<stop>[.!?\u2026\u203c\u2047-\u2049\u3002\uff01\uff1f]+)[\"')\]}\u00bb\u201d\u2019]*"
    r"|[\n\r\v\f\x85\u2028\u2029]"
)


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``: code point offsets, surrounding whitespace stripped.

    A sentence ends after a run of . ! ? (or … ‼ ⁇ ⁈ ⁉ 。 ！ ？), with any closing quotes or
    brackets right after it, and at every line break. A run with a letter or digit on both
    sides ("3.5", "example.com", "U.S.A") does not end a sentence, so no word is ever cut.
    Abbreviations followed by a space ("e.g. this") do end one: a known limit.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for match in _SENTENCE_END.finditer(text):
        if match.group("stop") is not None:
            before, after = match.start(), match.end("stop")
            if 0 < before and after < n and text[before - 1].isalnum() and text[after].isalnum():
                continue
            end, next_start = match.end(), match.end()
        else:
            end, next_start = match.start(), match.end()
        _add_stripped(text, start, end, spans)
        start = next_start
    _add_stripped(text, start, n, spans)
    return spans


def _add_stripped(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.lstrip()
    if stripped:
        start += len(piece) - len(stripped)
        spans.append((start, start + len(stripped.rstrip())))


def sentence_token_ranges(
    found: Sequence[Token], spans: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """For each sentence span, the ``[lo, hi)`` indices of the tokens inside it.

    ``found`` and ``spans`` come from ``tokens`` and ``sentences`` of the same text. No word
    crosses a sentence boundary, so every token lands in exactly one sentence.
    """
    ranges: list[tuple[int, int]] = []
    i, n = 0, len(found)
    for start, end in spans:
        while i < n and found[i].start < start:
            i += 1
        lo = i
        while i < n and found[i].start < end:
            i += 1
        ranges.append((lo, i))
    return ranges

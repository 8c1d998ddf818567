"""Unit tests of the shared word definition."""

import pytest

from analysis.text.tokenize import DEFAULT, TokenizeOptions, count_words, words


def test_words_reads_mathematical_bold_as_plain_letters():
    assert words("𝗪𝗛𝗔𝗧? 𝗪𝗛𝗘𝗡?") == ["what", "when"]


@pytest.mark.parametrize("word", ["micro-credentials", "don't", "covid-19", "rock'n'roll"])
def test_words_keeps_inner_hyphens_and_apostrophes_in_one_word(word):
    assert words(f"say {word} now") == ["say", word, "now"]


def test_words_normalises_curly_apostrophe_to_straight():
    assert words("Don’t") == ["don't"]


def test_words_splits_on_double_hyphens_and_outer_punctuation():
    assert words("rock--roll 'quoted' students' -dash-") == [
        "rock",
        "roll",
        "quoted",
        "students",
        "dash",
    ]


def test_words_casefolds_by_default():
    assert words("Straße ÉCOLE") == ["strasse", "école"]


def test_words_keeps_case_when_casefold_disabled():
    assert words("Hello World", TokenizeOptions(casefold=False)) == ["Hello", "World"]


def test_words_counts_hashtag_as_word_after_hash():
    assert words("Great day #MicroCredentials #AI") == ["great", "day", "microcredentials", "ai"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/path?q=1",
        "http://example.org",
        "www.example.com/page",
        "lnkd.in/geGVFynY",
        "HTTPS://EXAMPLE.COM/UPPER",
    ],
)
def test_words_drops_urls_by_default(url):
    assert words(f"see {url} here") == ["see", "here"]


def test_words_drops_emails_and_mentions_by_default():
    assert words("write to jane.doe@example.co.uk or @jane_doe today") == [
        "write",
        "to",
        "or",
        "today",
    ]


def test_words_keeps_url_email_mention_words_when_options_disable_dropping():
    options = TokenizeOptions(drop_urls=False, drop_emails=False, drop_mentions=False)
    assert words("https://x.com jo@ab.org @sam", options) == [
        "https",
        "x",
        "com",
        "jo",
        "ab",
        "org",
        "sam",
    ]


def test_words_drops_digit_only_words_by_default():
    assert words("3 reasons in 2024 and covid-19") == ["reasons", "in", "and", "covid-19"]


def test_words_keeps_numbers_when_drop_numbers_disabled():
    assert words("3 reasons in 2024", TokenizeOptions(drop_numbers=False)) == [
        "3",
        "reasons",
        "in",
        "2024",
    ]


def test_words_keeps_decimal_and_grouped_numbers_as_one_word():
    assert words("grew 3.5% to 10,000 users", TokenizeOptions(drop_numbers=False)) == [
        "grew",
        "3.5",
        "to",
        "10,000",
        "users",
    ]


def test_words_keeps_combining_marks_inside_words():
    assert words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]


def test_words_splits_on_underscores_and_ignores_emoji():
    assert words("snake_case 🚀 rocket") == ["snake", "case", "rocket"]


def test_words_returns_empty_list_for_text_without_words():
    assert words(" ... 🚀 !!! ") == []


def test_default_options_drop_everything_but_words():
    assert DEFAULT == TokenizeOptions(
        drop_urls=True, drop_emails=True, drop_mentions=True, drop_numbers=True, casefold=True
    )


def test_tokenize_options_are_frozen():
    with pytest.raises(AttributeError):
        DEFAULT.casefold = False  # type: ignore[misc]


def test_count_words_counts_numbers_but_not_urls_emails_mentions():
    text = "Top 3 tips from @sam: mail me@x.org, read https://x.com/a and lnkd.in/b #growth"
    # top, 3, tips, from, mail, read, and, growth
    assert count_words(text) == 8


def test_count_words_returns_zero_for_empty_text():
    assert count_words("") == 0


def test_word_counts_ascii_fast_path_finds_exactly_the_words_of_words():
    # Pure-ASCII texts are counted by an ASCII-only pattern; it must agree with `words`
    # on URLs, e-mails, mentions, joiners, digit groups and the \x1c-\x1f separators
    # (whitespace to Unicode regexes, not to ASCII ones).
    import random
    from collections import Counter

    from analysis.text.tokenize import word_counts

    rng = random.Random(7)
    alphabet = " \t\n\x1c\x1fab-'.,09@:/hHwWlL_+XyZ.com"
    starts = ["", "http://a.b/x\x1cy ", "www.x.y ", "lnkd.in/ab ", "me@x.com ", "@bob ", "1,000.5 "]
    texts = [
        rng.choice(starts) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for _ in range(3000)
    ]
    for text in texts:
        assert word_counts([text]) == Counter(reference_words(text)), repr(text)
    mixed = [*texts, "Café 𝗦𝗞𝗜𝗟𝗟𝗦 don’t", "naïve résumé"]
    assert word_counts(mixed) == Counter(w for t in mixed for w in reference_words(t))


def reference_words(text, options=None):
    """``words`` the slow, obvious way: one Python step per regex match (``_words_in``)."""
    from analysis.text.tokenize import DEFAULT, _prepare, _words_in

    options = options or DEFAULT
    return _words_in(_prepare(text, options.casefold), options)


def test_words_fast_path_equals_the_step_by_step_scan_on_random_text():
    import random

    from analysis.text.tokenize import TokenizeOptions, words

    rng = random.Random(11)
    alphabet = " \t\n\x1c\x1fab-'’‐.,09@:/hHwWlL_+XyZ.comé𝗦ﬁ\u0301\u093f½٣"
    starts = ["", "http://a.b/x ", "www.x.y ", "lnkd.in/ab ", "me@x.com ", "@bob ", "1,000.5 "]
    for options in (TokenizeOptions(), TokenizeOptions(drop_numbers=False, casefold=False)):
        for _ in range(3000):
            text = rng.choice(starts) + "".join(
                rng.choice(alphabet) for _ in range(rng.randint(0, 40))
            )
            assert words(text, options) == reference_words(text, options), repr(text)


def test_words_fast_path_equals_the_step_by_step_scan_on_real_posts(shared_data):
    import csv
    import json

    from analysis.text.tokenize import words

    texts = []
    with open(shared_data / "corpora" / "linkedin_influencers_1600.csv", encoding="utf-8") as f:
        texts += [row["content"] for row in csv.DictReader(f)]
    with open(shared_data / "corpora" / "tweeteval_155k.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for _, line in zip(range(20000), f, strict=False)]
    for text in texts:
        assert words(text) == reference_words(text), repr(text[:200])


def test_combining_marks_are_found_in_every_plane_that_has_them():
    """The tokenizer scans only MARK_PLANES for combining marks; no other code point is one."""
    import sys
    import unicodedata

    from analysis.text.tokenize import _mark_ranges

    every = [
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me")
    ]
    found = [code for a, b in _mark_ranges() for code in range(a, b + 1)]
    assert found == every
    assert len(every) > 2_000  # Unicode 14 has 2,300 or so


def test_whitespace_of_split_is_exactly_the_regex_whitespace():
    """word_counts cuts texts with str.split and scans the pieces: that is only the scan of
    the whole text if split's whitespace is exactly what the patterns' \\s excludes."""
    import re
    import sys

    space = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert ch.isspace() == bool(space.match(ch)), hex(code)


def test_normalisation_never_reaches_across_whitespace():
    """NFKC of a text is NFKC of its pieces joined by normalised whitespace: each whitespace
    character is a starter that composes with nothing on either side."""
    import sys
    import unicodedata

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    # Combining marks, Hangul jamo, and characters whose NFKC form holds a space.
    edges = ["a", "e\u0301", "\u0301", "\u0308x", "\u1100", "\u1161", "\u11a8", "가", "\u00a8"]
    for ws in spaces:
        for left in edges:
            for right in edges:
                whole = unicodedata.normalize("NFKC", left + ws + right)
                parts = [unicodedata.normalize("NFKC", s) for s in (left, ws, right)]
                assert whole == "".join(parts), (hex(ord(ws)), left, right)


def test_word_counts_of_repeated_pieces_and_unicode_whitespace_equal_words():
    """Pieces met more than once are scanned once and counted that often; Unicode
    whitespace, combining marks at a piece's start, ligatures, fractions and characters
    that normalise to a space all cut and count as the step-by-step scan does."""
    import random
    from collections import Counter

    from analysis.text.tokenize import TokenizeOptions, word_counts

    rng = random.Random(23)
    alphabet = " \n\u00a0\u2028\u3000\x85\x1c-'’.,09@:/hHwWlL_+é\u0301\u00a8½ﬁ𝗦\u1100\u1161가ΣΑ"
    vocabulary = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(60)
    ]
    vocabulary += ["Skills", "skills", "SKILLS", "http://x.y/z", "me@x.org", "@sam", "3.5"]
    texts = [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 12))) for _ in range(800)
    ]
    for options in (TokenizeOptions(), TokenizeOptions(drop_numbers=False, casefold=False)):
        expected = Counter(w for text in texts for w in reference_words(text, options))
        assert word_counts(texts, options) == expected
    assert word_counts([]) == Counter()
    assert word_counts(["", "  \n "]) == Counter()


def test_count_words_equals_the_step_by_step_scan_on_random_and_real_text(shared_data):
    """ASCII texts are counted with the ASCII pattern, the others after NFKC: both must count
    what the step-by-step scan finds, numbers included."""
    import json
    import random

    counting = TokenizeOptions(drop_numbers=False, casefold=False)
    rng = random.Random(5)
    alphabet = " \t\n\x1c\x1fab-'’.,09@:/hHwWlL_+XyZ.comé𝗦ﬁ\u0301½"
    starts = ["", "http://a.b/x\x1cy ", "www.x.y ", "lnkd.in/ab ", "me@x.com ", "@bob ", "1,000.5 "]
    texts = [
        rng.choice(starts) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        for _ in range(3000)
    ]
    with open(shared_data / "corpora" / "tweeteval_155k.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for _, line in zip(range(5000), f, strict=False)]
    assert any(t.isascii() for t in texts) and not all(t.isascii() for t in texts)
    for text in texts:
        assert count_words(text) == len(reference_words(text, counting)), repr(text)

"""Unit tests of token offsets, sentences, word frequency, KWIC and word trees."""

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from analysis.text.frequency import (
    FrequencyResult,
    WordCount,
    count_tokens,
    merge_counts,
    word_frequency,
)
from analysis.text.kwic import keyword_in_context
from analysis.text.stopwords import load_stopwords
from analysis.text.tokenize import (
    Token,
    TokenizeOptions,
    sentences,
    tokens,
    word_counts,
    words,
)
from analysis.text.wordtree import word_tree

CORPUS = Path(__file__).resolve().parents[3] / "shared/data/corpora/linkedin_influencers_1600.csv"


@pytest.fixture(scope="module")
def real_posts() -> list[str]:
    if not CORPUS.exists():
        pytest.skip(f"real LinkedIn corpus not available at {CORPUS}")
    csv.field_size_limit(10**9)
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        return [row["content"] or "" for row in csv.DictReader(handle)]


def sentence_texts(text):
    return [text[a:b] for a, b in sentences(text)]


# --- tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word", "surface"),
    [
        ("Ask 𝗪𝗛𝗔𝗧 now", "what", "𝗪𝗛𝗔𝗧"),
        ("Personal ﬁnance tips", "finance", "ﬁnance"),
        ("🚀Launch day", "launch", "Launch"),
        ("Big news #MicroCredentials!", "microcredentials", "MicroCredentials"),
        ("I don’t know", "don't", "don’t"),
        ("Earn micro-credentials today", "micro-credentials", "micro-credentials"),
        ("After covid-19 ended", "covid-19", "covid-19"),
        ("Die Straße hier", "strasse", "Straße"),
        ("Une e\u0301cole", "école", "e\u0301cole"),
    ],
)
def test_tokens_offsets_give_surface_text_for_special_forms(text, word, surface):
    found = [token for token in tokens(text) if token.word == word]
    assert len(found) == 1
    assert text[found[0].start : found[0].end] == surface


def test_tokens_offsets_count_code_points_for_mathematical_bold():
    text = "𝗪𝗛𝗔𝗧 is this"
    assert tokens(text) == [Token("what", 0, 4), Token("is", 5, 7), Token("this", 8, 12)]


def test_tokens_offsets_stay_aligned_after_length_changing_normalisation():
    text = "ﬁne Straße 𝗪𝗛𝗔𝗧 ok"
    assert [(t.word, text[t.start : t.end]) for t in tokens(text)] == [
        ("fine", "ﬁne"),
        ("strasse", "Straße"),
        ("what", "𝗪𝗛𝗔𝗧"),
        ("ok", "ok"),
    ]


def test_tokens_skip_url_email_and_mention_by_default():
    text = "see https://x.com/a?b=1 and mail@x.org or @sam now"
    assert [(t.word, text[t.start : t.end]) for t in tokens(text)] == [
        ("see", "see"),
        ("and", "and"),
        ("or", "or"),
        ("now", "now"),
    ]


def test_tokens_offsets_point_inside_kept_urls_and_mentions():
    options = TokenizeOptions(drop_urls=False, drop_mentions=False)
    text = "go https://x.com @sam"
    assert [text[t.start : t.end] for t in tokens(text, options)] == [
        "go",
        "https",
        "x",
        "com",
        "sam",
    ]


def test_tokens_words_equal_words_for_mixed_text():
    text = "𝗪𝗛𝗔𝗧? Don’t miss #AI at www.x.org — 3.5% of ﬁrms, covid-19 🚀rock'n'roll"
    assert [t.word for t in tokens(text)] == words(text)


def test_tokens_return_empty_list_for_text_without_words():
    assert tokens(" 🚀 ... ") == []


# --- sentences -------------------------------------------------------------------------


def test_sentences_split_at_terminator_runs_and_line_breaks():
    text = "Skills matter. Gaps hurt! Really? Wait... What?! Fine\nNext line\r\nLast"
    assert sentence_texts(text) == [
        "Skills matter.",
        "Gaps hurt!",
        "Really?",
        "Wait...",
        "What?!",
        "Fine",
        "Next line",
        "Last",
    ]


def test_sentences_strip_whitespace_and_skip_blank_lines():
    text = "  One.   Two  \n\n   \n  Three  "
    assert sentences(text) == [(2, 6), (9, 12), (22, 27)]


def test_sentences_keep_decimals_domains_and_closing_quotes_together():
    text = 'Growth hit 3.5 at example.com today. She said "stop." Then left'
    assert sentence_texts(text) == [
        "Growth hit 3.5 at example.com today.",
        'She said "stop."',
        "Then left",
    ]


def test_sentences_return_empty_list_for_blank_text():
    assert sentences(" \n\t ") == []


# --- word frequency --------------------------------------------------------------------

TEXTS = [
    "The skills gap is real. Skills matter!",
    "Skilled workers need skills, not degrees. Skill up",
]


def entries(result: FrequencyResult) -> list[tuple[str, int]]:
    return [(w.word, w.count) for w in result.words]


def test_word_frequency_counts_hand_computed_example_with_min_length():
    result = word_frequency(TEXTS)
    # 15 words; "is" and "up" are shorter than 3 code points.
    assert result.total_words == 15
    assert entries(result) == [
        ("skills", 3),
        ("degrees", 1),
        ("gap", 1),
        ("matter", 1),
        ("need", 1),
        ("not", 1),
        ("real", 1),
        ("skill", 1),
        ("skilled", 1),
        ("the", 1),
        ("workers", 1),
    ]


def test_word_frequency_percent_is_weighted_by_all_words_before_filters():
    result = word_frequency(TEXTS, stopwords=load_stopwords())
    skills = result.words[0]
    assert skills == WordCount("skills", 3, pytest.approx(20.0), ["skills"])
    assert result.total_words == 15


def test_word_frequency_drops_stop_words():
    result = word_frequency(TEXTS, stopwords=load_stopwords())
    assert "the" not in [w.word for w in result.words]
    assert "not" not in [w.word for w in result.words]
    assert ("workers", 1) in entries(result)


def test_word_frequency_min_length_one_keeps_short_words():
    assert ("is", 1) in entries(word_frequency(TEXTS, min_length=1))


def test_word_frequency_groups_by_stem_under_most_frequent_member():
    result = word_frequency(TEXTS, grouping="stem")
    assert result.words[0] == WordCount(
        "skills", 5, pytest.approx(100 * 5 / 15), ["skills", "skill", "skilled"]
    )
    assert len([w for w in result.words if w.word.startswith("skill")]) == 1


def test_word_frequency_groups_synonyms_including_two_word_member():
    text = "Micro credentials and micro-credentials matter. A microcredential, a micro credential."
    grouping = {"micro-credential": ["micro-credentials", "microcredential", "micro credential"]}
    result = word_frequency([text], grouping=grouping)
    assert result.total_words == 10
    assert result.words[0] == WordCount(
        "micro-credential",
        3,
        pytest.approx(30.0),
        ["micro credential", "micro-credentials", "microcredential"],
    )
    # The phrase's words do not count again; "Micro credentials" is not a member.
    assert entries(result)[1:] == [("and", 1), ("credentials", 1), ("matter", 1), ("micro", 1)]


def test_word_frequency_does_not_match_synonym_phrase_across_sentences():
    grouping = {"micro-credential": ["micro credential"]}
    result = word_frequency(["Micro. Credential"], grouping=grouping, min_length=1)
    assert entries(result) == [("credential", 1), ("micro", 1)]


def test_word_frequency_cuts_to_top_n():
    assert entries(word_frequency(TEXTS, top=3)) == [("skills", 3), ("degrees", 1), ("gap", 1)]


def test_word_frequency_orders_ties_alphabetically():
    result = word_frequency(["zeta beta alpha beta zeta gamma"])
    assert entries(result) == [("beta", 2), ("zeta", 2), ("alpha", 1), ("gamma", 1)]


def test_word_frequency_top_none_keeps_every_word():
    assert len(word_frequency(TEXTS, top=None, min_length=1).words) == 13


@pytest.mark.parametrize("top", [None, 4])
def test_word_frequency_exact_rows_are_word_counts_with_exact_percentages(top):
    result = word_frequency(TEXTS, top=top, min_length=1)
    counts = Counter(w for text in TEXTS for w in words(text))
    ranked = sorted(counts, key=lambda w: (-counts[w], w))[:top]
    # Built the plain way: the same type, values and float bits (n / total * 100).
    expected = [WordCount(w, counts[w], counts[w] / result.total_words * 100, [w]) for w in ranked]
    assert result.words == expected
    assert all(type(row) is WordCount for row in result.words)
    assert [row.percent.hex() for row in result.words] == [row.percent.hex() for row in expected]


@pytest.mark.parametrize(
    "grouping", ["exact", "stem", {"micro-credential": ["micro credential", "microcredential"]}]
)
def test_word_frequency_counter_input_equals_text_input(grouping):
    texts = [*TEXTS, "A micro credential, a microcredential. Micro credentials!"]
    from_texts = word_frequency(texts, grouping=grouping, top=None)
    counters = [count_tokens(text, grouping=grouping) for text in texts]
    assert word_frequency(counters, grouping=grouping, top=None) == from_texts
    mixed = [texts[0], counters[1], texts[2]]
    assert word_frequency(mixed, grouping=grouping, top=None) == from_texts


def test_word_frequency_returns_zero_percent_for_empty_input():
    assert word_frequency([]) == FrequencyResult(total_words=0, words=[])


def test_word_frequency_rejects_unknown_grouping():
    with pytest.raises(ValueError):
        word_frequency(TEXTS, grouping="lemma")  # type: ignore[arg-type]


def test_merge_counts_sums_counters():
    assert merge_counts([Counter(a=1, b=2), Counter(b=3), {"c": 1}]) == Counter(a=1, b=5, c=1)


def test_count_tokens_counts_one_post():
    assert count_tokens("Skills, skills and #skills at https://x.com") == Counter(
        skills=3, at=1, **{"and": 1}
    )


def test_load_stopwords_holds_function_words_and_contractions():
    stop = load_stopwords()
    assert 150 <= len(stop) <= 350
    assert {"the", "and", "of", "it's", "don't", "i'm", "we're"} <= stop
    assert not any("\u2019" in word or word != word.casefold() for word in stop)
    assert "skills" not in stop


# --- oracles on the real corpus --------------------------------------------------------


def test_word_frequency_matches_count_vectorizer_on_real_posts(real_posts):
    from sklearn.feature_extraction.text import CountVectorizer

    def tokenizer(text):
        return words(text)

    vectorizer = CountVectorizer(
        lowercase=False, token_pattern=None, tokenizer=tokenizer, preprocessor=None
    )
    matrix = vectorizer.fit_transform(real_posts)
    sums = matrix.sum(axis=0).A1
    expected = {word: int(sums[index]) for word, index in vectorizer.vocabulary_.items()}

    result = word_frequency(real_posts, min_length=1, top=None)
    assert {w.word: w.count for w in result.words} == expected
    assert result.total_words == int(matrix.sum())


# Written apart from tokenize.py: ASCII classes only, same precedence (URL, e-mail, mention,
# word), so a drift in either definition shows up on the real posts.
_ASCII_SCAN = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)\S+"
    r"|\b[Ll][Nn][Kk][Dd]\.[Ii][Nn]/\S*"
    r"|[A-Za-z0-9_][A-Za-z0-9_.+-]*@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+"
    r"|@[A-Za-z0-9_]+"
    r"|([A-Za-z0-9]+(?:(?:['-]|(?<=[0-9])[.,](?=[0-9]))[A-Za-z0-9]+)*)"
)


def test_word_frequency_matches_plain_regex_count_on_ascii_posts(real_posts):
    ascii_posts = [post for post in real_posts if post.isascii()]
    assert len(ascii_posts) > 100
    expected = Counter(
        word.lower()
        for post in ascii_posts
        for word in _ASCII_SCAN.findall(post)
        if re.search("[A-Za-z]", word)
    )
    result = word_frequency(ascii_posts, min_length=1, top=None)
    assert {w.word: w.count for w in result.words} == expected


def test_word_counts_equal_counted_words_on_real_posts(real_posts):
    for options in (TokenizeOptions(), TokenizeOptions(drop_numbers=False, casefold=False)):
        expected = Counter(w for post in real_posts for w in words(post, options))
        assert word_counts(real_posts, options) == expected


def test_tokens_match_words_and_surface_on_real_posts(real_posts):
    for post in real_posts:
        found = tokens(post)
        assert [t.word for t in found] == words(post)
        for token in found:
            assert words(post[token.start : token.end]) == [token.word]


# --- keyword in context ----------------------------------------------------------------

KWIC_DOCS = [
    ("a", "One two three skills gap four five six. Seven skills"),
    ("b", "Nothing to see here."),
    ("c", "Skills. Gap analysis needs Skills Gap data"),
]


def test_keyword_in_context_limits_context_to_width():
    lines = keyword_in_context(KWIC_DOCS[:1], "skills", width=2)
    first, second = lines
    assert (first.left, first.keyword, first.right) == ("two three", "skills", "gap four")
    # Context may run into the previous sentence, but not past the text's ends.
    assert (second.left, second.keyword, second.right) == ("six. Seven", "skills", "")


def test_keyword_in_context_gives_offsets_and_sentence_span():
    text = KWIC_DOCS[0][1]
    first, second = keyword_in_context(KWIC_DOCS[:1], "SKILLS")
    assert (first.start, first.end) == (14, 20)
    assert text[second.start : second.end] == "skills"
    assert (first.sentence_start, first.sentence_end) == (0, text.index(".") + 1)
    assert (second.sentence_start, second.sentence_end) == (text.index("Seven"), len(text))


def test_keyword_in_context_matches_phrase_within_sentence_and_keeps_doc_ids():
    lines = keyword_in_context(KWIC_DOCS, "skills gap", width=1)
    assert [(line.doc_id, line.keyword) for line in lines] == [
        ("a", "skills gap"),
        ("c", "Skills Gap"),
    ]
    c = KWIC_DOCS[2][1]
    assert (lines[1].left, lines[1].right) == ("needs", "data")
    assert (lines[1].start, lines[1].end) == (c.index("Skills Gap"), len(c) - len(" data"))


def test_keyword_in_context_width_zero_gives_empty_context():
    line = keyword_in_context(KWIC_DOCS[:1], "gap", width=0)[0]
    assert (line.left, line.keyword, line.right) == ("", "gap", "")


def test_keyword_in_context_matches_by_stem_when_grouped():
    docs = [(1, "Skilled people skill up; skills matter. Skillsets?")]
    lines = keyword_in_context(docs, "skill", grouping="stem")
    assert [line.keyword for line in lines] == ["Skilled", "skill", "skills"]


def test_keyword_in_context_matches_every_synonym_member():
    docs = [(1, "A Micro credential, a microcredential and Micro-credentials.")]
    grouping = {"micro-credential": ["micro credential", "microcredential", "micro-credentials"]}
    lines = keyword_in_context(docs, "microcredential", grouping=grouping)
    assert [line.keyword for line in lines] == [
        "Micro credential",
        "microcredential",
        "Micro-credentials",
    ]


def test_keyword_in_context_matches_curly_apostrophe_surface():
    line = keyword_in_context([(1, "We don’t stop")], "don't")[0]
    assert (line.keyword, line.left, line.right) == ("don’t", "We", "stop")


def test_keyword_in_context_rejects_keyword_without_words():
    with pytest.raises(ValueError):
        keyword_in_context(KWIC_DOCS, " ?! ")


# --- word tree -------------------------------------------------------------------------

TREE_DOCS = [
    (1, "Skills matter. Skills gaps are real. Skills gaps hurt workers."),
    (2, "Real skills gaps hurt workers and firms."),
]


def shape(node):
    """A node without occurrences, to compare branch structure."""
    return (node["phrase"], node["count"], [shape(child) for child in node["children"]])


def test_word_tree_builds_hand_checked_right_tree_with_merged_chains():
    tree = word_tree(TREE_DOCS, "skills")
    assert (tree["root"], tree["count"]) == ("skills", 4)
    assert shape(tree["right"]) == (
        "",
        4,
        [
            ("gaps", 3, [("hurt workers", 2, [("and firms", 1, [])]), ("are real", 1, [])]),
            ("matter", 1, []),
        ],
    )


def test_word_tree_builds_left_tree_from_preceding_words():
    tree = word_tree(TREE_DOCS, "skills")
    assert shape(tree["left"]) == ("", 4, [("real", 1, [])])


def test_word_tree_reads_merged_left_phrases_in_text_order():
    docs = [(1, "We see the real skills gaps. They see the real skills gaps.")]
    tree = word_tree(docs, "skills")
    assert shape(tree["left"]) == ("", 2, [("see the real", 2, [("they", 1, []), ("we", 1, [])])])


def test_word_tree_lists_occurrences_per_branch():
    tree = word_tree(TREE_DOCS, "skills")
    right = tree["right"]
    assert right["occurrences"] == [[1, 0, 14], [1, 15, 36], [1, 37, 62], [2, 0, 40]]
    gaps = right["children"][0]
    assert gaps["occurrences"] == [[1, 15, 36], [1, 37, 62], [2, 0, 40]]
    assert gaps["children"][0]["occurrences"] == [[1, 37, 62], [2, 0, 40]]


def test_word_tree_deduplicates_occurrences_per_sentence():
    tree = word_tree([(7, "Skills skills skills.")], "skills")
    assert tree["count"] == 3
    assert tree["right"]["occurrences"] == [[7, 0, 21]]
    assert shape(tree["right"]) == ("", 3, [("skills", 2, [("skills", 1, [])])])
    assert tree["right"]["children"][0]["occurrences"] == [[7, 0, 21]]


def test_word_tree_accepts_multi_word_root():
    tree = word_tree(TREE_DOCS, "Skills Gaps")
    assert (tree["root"], tree["count"]) == ("skills gaps", 3)
    assert shape(tree["right"]) == (
        "",
        3,
        [("hurt workers", 2, [("and firms", 1, [])]), ("are real", 1, [])],
    )
    assert shape(tree["left"]) == ("", 3, [("real", 1, [])])


def test_word_tree_stops_at_depth():
    tree = word_tree(TREE_DOCS, "skills", depth=2)
    assert shape(tree["right"]) == (
        "",
        4,
        [("gaps", 3, [("hurt", 2, []), ("are", 1, [])]), ("matter", 1, [])],
    )


def test_word_tree_keeps_most_frequent_children_when_limited():
    tree = word_tree(TREE_DOCS, "skills", max_children=1)
    assert shape(tree["right"]) == (
        "",
        4,
        [("gaps", 3, [("hurt workers", 2, [("and firms", 1, [])])])],
    )


def test_word_tree_matches_root_by_stem_and_shows_most_frequent_form():
    docs = [(1, "Skills grow. Skills grow fast. Skill grows.")]
    tree = word_tree(docs, "skilling", grouping="stem")
    assert (tree["root"], tree["count"]) == ("skills", 3)
    assert shape(tree["right"]) == ("", 3, [("grow", 2, [("fast", 1, [])]), ("grows", 1, [])])


def test_word_tree_returns_empty_sides_when_root_is_absent():
    tree = word_tree(TREE_DOCS, "Unicorns")
    assert tree["count"] == 0
    assert tree["right"] == {"phrase": "", "count": 0, "children": [], "occurrences": []}


def check_node(node, parent_occurrences, top):
    children = node["children"]
    assert node["count"] >= sum(child["count"] for child in children)
    keys = [tuple(occurrence) for occurrence in node["occurrences"]]
    assert len(keys) == len(set(keys))
    assert set(keys) <= parent_occurrences
    assert children == sorted(children, key=lambda c: (-c["count"], c["phrase"]))
    if not top:
        # Merging is complete: no single child left that every occurrence continues into.
        assert not (len(children) == 1 and children[0]["count"] == node["count"])
    for child in children:
        check_node(child, set(keys), top=False)


def test_word_tree_counts_never_exceed_parent_on_real_posts(real_posts):
    docs = list(enumerate(real_posts))
    tree = word_tree(docs, "skills")
    assert tree["count"] > 10
    for side in ("right", "left"):
        assert tree[side]["count"] == tree["count"]
        check_node(tree[side], {(i, a, b) for i, post in docs for a, b in sentences(post)}, True)


def test_word_tree_shows_synonym_group_label_as_root():
    grouping = {"micro-credential": ["micro credential", "microcredential"]}
    docs = [(1, "A micro credential helps. A microcredential helps too.")]
    tree = word_tree(docs, "microcredential", grouping=grouping)
    assert (tree["root"], tree["count"]) == ("micro-credential", 2)
    assert shape(tree["right"]) == ("", 2, [("helps", 2, [("too", 1, [])])])
    assert word_tree([], "microcredential", grouping=grouping)["root"] == "micro-credential"


@pytest.mark.parametrize("root", ["skills", "learning", "don't", "digital", "the"])
def test_reading_only_sentences_near_a_match_finds_the_same_trees(shared_data, monkeypatch, root):
    import csv

    from analysis.text import kwic
    from analysis.text.kwic import keyword_in_context
    from analysis.text.wordtree import word_tree

    with open(shared_data / "corpora" / "linkedin_influencers_1600.csv", encoding="utf-8") as f:
        docs = [(i, row["content"]) for i, row in enumerate(csv.DictReader(f)) if row["content"]]
    docs = docs[:600] + [(10_000, "𝗦𝗞𝗜𝗟𝗟𝗦 matter. We don’t wait. ＳＫＩＬＬＳ too.")]

    def run():
        lines = keyword_in_context(docs, root)
        return word_tree(docs, root, depth=5), [(ln.doc_id, ln.start, ln.end) for ln in lines]

    monkeypatch.setattr(kwic, "WINDOWS", False)
    whole = run()
    monkeypatch.setattr(kwic, "WINDOWS", True)
    windowed = run()
    assert windowed == whole
    assert whole[0]["count"] > 0

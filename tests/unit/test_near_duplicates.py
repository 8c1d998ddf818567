"""Unit tests of MinHash/LSH near-duplicate detection (no database)."""

import csv
import random
from pathlib import Path

import pytest

from analysis.text.tokenize import words
from corpus import near_duplicates
from corpus.near_duplicates import (
    BANDS,
    EMPTY,
    NUM_PERM,
    ROWS,
    NearDuplicateIndex,
    estimated_similarity,
    find_near_duplicates,
    find_near_duplicates_in_records,
    jaccard,
    lsh_record,
    minhash_signature,
    shingles,
)

INFLUENCERS_CSV = (
    Path(__file__).resolve().parents[3] / "shared/data/corpora/linkedin_influencers_1600.csv"
)

POST = (
    "I'm off for a 10-day Vipassana meditation program. No phone, laptop, or speaking. "
    "I've heard good things about it and am curious how it will feel to be away from "
    "technology for this long. I've scheduled a few posts, so you'll still see stuff here, "
    "but I won't be replying to comments or messages until I'm back next Sunday evening. "
    "See you all on the other side, hopefully calmer and with fresh ideas for the team. "
    "Why now? The last year has been a blur of launches, hiring and late-night debugging, "
    "and I noticed that I rarely sit with a single thought for more than a few minutes. "
    "Friends who have done the course describe the first three days as the hardest, when "
    "the mind keeps reaching for a screen that is not there. After that, they say, the "
    "silence becomes a kind of company. I'm not expecting enlightenment, just a reset, and "
    "maybe a better sense of which of my habits are choices and which are reflexes."
)
# The same post reposted with three words changed (far apart).
REPOST = POST.replace("10-day", "ten-day").replace("launches", "releases").replace("reset", "pause")
UNRELATED = (
    "Our quarterly results are in and the numbers tell an interesting story about how "
    "customers in smaller cities adopted the new payments feature faster than anyone in the "
    "product team expected, which changes our roadmap priorities for the coming year."
)


def edited_copy(text: str, changes: int, seed: int) -> str:
    rng = random.Random(seed)
    tokens = text.split()
    for _ in range(changes):
        tokens[rng.randrange(len(tokens))] = f"edit{rng.randrange(10**6)}"
    return " ".join(tokens)


# --- shingles and Jaccard ----------------------------------------------------------------


def test_shingles_are_word_5_grams_for_texts_of_five_words_or_more():
    assert shingles(["a", "b", "c", "d", "e", "f"]) == {"a b c d e", "b c d e f"}


@pytest.mark.parametrize("length", [5, 6, 7, 12, 40])
def test_shingles_are_every_run_of_five_words(length):
    rng = random.Random(length)
    text_words = [rng.choice("abcdefgh") for _ in range(length)]
    runs = {" ".join(text_words[i : i + 5]) for i in range(length - 4)}
    assert shingles(text_words) == runs


def test_shingles_are_distinct_words_for_texts_under_five_words():
    assert shingles(["great", "post", "great"]) == {"great", "post"}
    assert shingles([]) == set()


def test_jaccard_of_shingle_sets():
    assert jaccard(words(POST), words(POST)) == 1.0
    assert jaccard(words("great post"), words("Great post, thanks!")) == pytest.approx(2 / 3)
    assert jaccard(words(POST), words(UNRELATED)) == 0.0
    assert jaccard([], words(POST)) == 0.0


# --- signatures ---------------------------------------------------------------------------


def test_minhash_signature_is_deterministic_and_has_128_values():
    signature = minhash_signature(POST)
    assert len(signature) == NUM_PERM == BANDS * ROWS
    assert signature == minhash_signature(POST)
    assert all(isinstance(value, int) and 0 <= value < EMPTY for value in signature)
    # Signatures may be stored, so they must not change between processes or releases.
    assert minhash_signature("one two three four five six")[:2] == (
        130225033995308090,
        130225033995308090,
    )
    assert minhash_signature("One two, three four five six!") == minhash_signature(
        "one two three four five six"
    )


def test_minhash_signature_of_text_without_words_is_empty():
    assert set(minhash_signature("https://lnkd.in/abc 2024 🙂")) == {EMPTY}
    assert estimated_similarity(minhash_signature(""), minhash_signature("")) == 0.0


def test_estimated_similarity_tracks_true_jaccard():
    rng = random.Random(1)
    vocabulary = [f"w{i}" for i in range(400)]
    errors = []
    for _ in range(60):
        base = [rng.choice(vocabulary) for _ in range(120)]
        other = list(base)
        for _ in range(rng.randrange(1, 40)):
            other[rng.randrange(len(other))] = rng.choice(vocabulary)
        true = jaccard(base, other)
        estimate = estimated_similarity(
            minhash_signature(" ".join(base)), minhash_signature(" ".join(other))
        )
        errors.append(estimate - true)
    assert abs(sum(errors) / len(errors)) < 0.03  # unbiased
    assert max(abs(error) for error in errors) < 0.2


def test_estimated_similarity_rejects_signatures_of_different_length():
    with pytest.raises(ValueError):
        estimated_similarity((1, 2), (1, 2, 3))


# --- index --------------------------------------------------------------------------------


def test_index_candidates_include_edited_repost_and_exclude_unrelated_post():
    index = NearDuplicateIndex()
    index.add("post", minhash_signature(POST))
    index.add("other", minhash_signature(UNRELATED))
    assert len(index) == 2
    assert index.candidates(minhash_signature(REPOST)) == {"post"}


def test_index_ignores_texts_without_words():
    index = NearDuplicateIndex()
    index.add("links", minhash_signature("https://example.com"))
    assert len(index) == 0
    assert index.candidates(minhash_signature("https://example.org")) == set()


def test_index_rejects_signature_of_wrong_length():
    with pytest.raises(ValueError):
        NearDuplicateIndex().add("x", (1, 2, 3))


# --- find_near_duplicates -----------------------------------------------------------------


def test_find_near_duplicates_flags_repost_with_few_words_changed():
    true = jaccard(words(POST), words(REPOST))
    assert 0.8 <= true < 1.0
    pairs = find_near_duplicates([(1, POST), (2, UNRELATED), (3, REPOST)], threshold=0.8)
    assert pairs == [(1, 3, pytest.approx(true))]


def test_find_near_duplicates_skips_pairs_below_threshold():
    heavily_edited = edited_copy(POST, 6, seed=4)
    true = jaccard(words(POST), words(heavily_edited))
    assert 0.6 < true < 0.8
    assert find_near_duplicates([("a", POST), ("b", heavily_edited)], threshold=0.8) == []
    lower = find_near_duplicates([("a", POST), ("b", heavily_edited)], threshold=true)
    assert lower == [("a", "b", pytest.approx(true))]


def test_find_near_duplicates_pairs_identical_shingle_sets_with_first_only():
    texts = [("a", "Great post!"), ("b", "great post"), ("c", "GREAT post 🙂"), ("d", "Nope")]
    assert find_near_duplicates(texts) == [("a", "b", 1.0), ("a", "c", 1.0)]


def test_find_near_duplicates_compares_short_texts_by_their_words():
    pairs = find_near_duplicates(
        [("a", "Thanks for sharing this"), ("b", "thanks for sharing"), ("c", "Congrats!")],
        threshold=0.7,
    )
    assert pairs == [("a", "b", 0.75)]


def test_find_near_duplicates_never_pairs_short_text_with_long_text():
    long_text = "thanks for sharing this great post with all of us today"
    assert find_near_duplicates([("a", "thanks for sharing this"), ("b", long_text)], 0.1) == []


def test_find_near_duplicates_ignores_texts_without_words():
    assert find_near_duplicates([("a", "https://x.org"), ("b", "https://x.org 🙂")]) == []


def test_find_near_duplicates_rejects_bad_threshold():
    from corpus.near_duplicates import near_duplicate_id_arrays

    with pytest.raises(ValueError):
        find_near_duplicates([], threshold=0)
    with pytest.raises(ValueError):
        find_near_duplicates_in_records([], threshold=1.5, texts_of=dict)
    with pytest.raises(ValueError):
        near_duplicate_id_arrays([], threshold=-0.1, texts_of=dict)


def test_find_near_duplicates_finds_planted_copies_among_random_posts():
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(2000)]
    posts = [(i, " ".join(rng.choice(vocabulary) for _ in range(80))) for i in range(400)]
    planted = {(i, 1000 + i) for i in range(0, 400, 40)}
    copies = [(1000 + i, edited_copy(posts[i][1], 1, seed=i)) for i in range(0, 400, 40)]
    pairs = find_near_duplicates(posts + copies, threshold=0.8)
    assert {(a, b) for a, b, _ in pairs} == planted
    assert all(similarity >= 0.8 for _, _, similarity in pairs)


# --- the real LinkedIn influencers corpus -------------------------------------------------


def test_find_near_duplicates_on_real_influencers_corpus_verifies_pairs_and_finds_plant():
    if not INFLUENCERS_CSV.exists():
        pytest.skip(f"shared corpus not available at {INFLUENCERS_CSV}")
    with INFLUENCERS_CSV.open(encoding="utf-8", newline="") as handle:
        texts = [row["content"] for row in csv.DictReader(handle)]
    assert len(texts) == 1600
    source = max(range(len(texts)), key=lambda i: len(words(texts[i])) if i % 7 == 0 else 0)
    plant = edited_copy(texts[source], 2, seed=11)
    items = [*enumerate(texts), ("plant", plant)]
    threshold = 0.8
    pairs = find_near_duplicates(items, threshold=threshold)
    by_key = dict(items)
    for key_a, key_b, similarity in pairs:
        true = jaccard(words(by_key[key_a]), words(by_key[key_b]))
        assert similarity == pytest.approx(true) and true >= threshold
    assert (source, "plant") in {(a, b) for a, b, _ in pairs}


def test_texts_loaded_on_demand_give_the_same_pairs(monkeypatch):
    """From stored records the texts are not kept: candidate pairs are verified a block at a
    time with texts loaded for that block, and only candidates' texts are asked for."""
    if not INFLUENCERS_CSV.exists():
        pytest.skip(f"shared corpus not available at {INFLUENCERS_CSV}")
    with INFLUENCERS_CSV.open(encoding="utf-8", newline="") as handle:
        texts = [row["content"] for row in csv.DictReader(handle)]
    rng = random.Random(3)
    plants = [(f"plant{i}", edited_copy(texts[i], 1, seed=i)) for i in range(0, 1600, 50)]
    same_set = [("shouted", texts[100].upper()), ("again", texts[100] + " https://x.org")]
    items = [*enumerate(texts), *plants, *same_set]
    rng.shuffle(items)
    by_key = dict(items)
    asked: list[list] = []

    def texts_of(keys):
        asked.append(list(keys))
        return {key: by_key[key] for key in keys}

    monkeypatch.setattr(near_duplicates, "_VERIFY_BLOCK", 7)
    expected = find_near_duplicates(items, threshold=0.6)
    records = [(key, lsh_record(text)) for key, text in items]
    assert find_near_duplicates_in_records(records, threshold=0.6, texts_of=texts_of) == expected
    assert len(expected) >= 20  # most plants (short posts with an edit fall below 0.6)
    assert sum(1 for _, _, similarity in expected if similarity == 1.0) >= 2  # the same sets
    assert len(asked) > 1  # several blocks
    assert len({key for keys in asked for key in keys}) < len(items) / 4


def test_texts_loaded_on_demand_tolerate_a_post_deleted_meanwhile():
    items = [(1, POST), (2, REPOST)]
    records = [(key, lsh_record(text)) for key, text in items]
    assert find_near_duplicates_in_records(records, texts_of=lambda keys: {}) == []


def _record_text_by_text(text: str) -> bytes:
    """An LSH record the plain way: the signature of ``_signature_of_shingles`` (a Python
    loop per shingle and per empty bin), the band keys of ``_band_keys``."""
    import struct

    own = frozenset(near_duplicates.shingles(words(text)))
    if not own:
        return b""
    keys = near_duplicates._band_keys(near_duplicates._signature_of_shingles(own))
    return near_duplicates._set_digest(own) + struct.pack(f"<{BANDS}q", *keys)


def test_lsh_records_of_a_chunk_equal_records_computed_text_by_text(shared_data):
    """Long posts (more shingles than bins), tweets (most bins borrowed from others), short
    and wordless texts, mixed in one call, give exactly the records computed one by one."""
    import json

    from corpus.near_duplicates import RECORD_SIZE, lsh_records

    with open(shared_data / "corpora" / "linkedin_influencers_1600.csv", encoding="utf-8") as f:
        texts = [row["content"] for row in csv.DictReader(f)][:400]
    with open(shared_data / "corpora" / "tweeteval_155k.jsonl", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for _, line in zip(range(1500), f, strict=False)]
    texts += ["", "Great post!", "https://x.com/a @sam 2024", "one two three four five"]
    random.Random(3).shuffle(texts)
    expected = [_record_text_by_text(text) for text in texts]
    assert lsh_records(texts) == expected
    assert lsh_records(texts[:7]) == expected[:7]
    assert lsh_records([]) == []
    assert {len(r) for r in expected} == {0, RECORD_SIZE}
    assert lsh_record(texts[0]) == expected[0]


def test_first_pass_candidates_are_every_pair_sharing_a_band_key():
    """The array version of candidate finding against the definition, with band keys drawn
    from a few values so that runs of many equal keys occur in every band."""
    rng = random.Random(9)
    first = near_duplicates._FirstPass()
    rows = []
    for position in range(300):
        first.add_key(f"post {position}")
        if rng.random() < 0.2:
            continue  # positions without a record are skipped, as wordless texts are
        band_keys = [
            rng.choice([-(2**63), -1, 0, 7, 2**63 - 1])
            if rng.random() < 0.05
            else rng.randrange(-(2**63), 2**63)
            for _ in range(BANDS)
        ]
        first.add_bands(position, band_keys)
        rows.append((position, band_keys))
    expected = sorted(
        {
            (a, b)
            for i, (a, keys_a) in enumerate(rows)
            for b, keys_b in rows[i + 1 :]
            if any(x == y for x, y in zip(keys_a, keys_b, strict=True))
        }
    )
    earlier, later = first.candidates()
    assert list(zip(earlier.tolist(), later.tolist(), strict=True)) == expected
    assert len(expected) > 300  # many runs longer than two

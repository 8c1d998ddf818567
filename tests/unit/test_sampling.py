"""Unit tests of sampling, sample descriptions, assignment and inclusion criteria (no
database)."""

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest

from corpus.sampling import (
    Criteria,
    SampleResult,
    assign_with_overlap,
    describe_sample,
    every_kth,
    ordinal,
    pair_counts,
    random_sample,
    subtract_months,
    systematic_sample,
)

POOL = [f"p{i}" for i in range(1, 46)]  # 45 posts
CRITERIA_TEXT = "at least 100 words; posted at most 5 months before 2026-11-28"


# --- systematic sample --------------------------------------------------------------------


def test_systematic_sample_keeps_every_third_from_position_2():
    result = systematic_sample(POOL, 3, start=2)
    assert result.positions == list(range(2, 45, 3))
    assert result.positions[-1] == 44
    assert result.ids == POOL[1::3]
    assert (result.n, result.pool_size, result.method, result.k, result.start) == (
        15,
        45,
        "systematic",
        3,
        2,
    )
    assert result.seed is None


def test_systematic_sample_draws_start_from_seed_reproducibly():
    first = systematic_sample(POOL, 7, seed=11)
    again = systematic_sample(POOL, 7, seed=11)
    assert first == again
    assert first.start == random.Random(11).randint(1, 7)
    assert first.seed == 11 and first.ids == POOL[first.start - 1 :: 7]


def test_systematic_sample_without_start_or_seed_is_refused():
    with pytest.raises(ValueError, match="seed"):
        systematic_sample(POOL, 3)


@pytest.mark.parametrize(("k", "start"), [(0, None), (3, 0), (3, 4), (-1, 1)])
def test_systematic_sample_rejects_bad_step_or_start(k, start):
    with pytest.raises(ValueError):
        systematic_sample(POOL, k, start=start, seed=1)


def test_systematic_sample_of_small_pool_may_be_empty():
    result = systematic_sample(["a", "b"], 5, start=4)
    assert result.ids == [] and result.n == 0 and result.pool_size == 2


# --- random sample ------------------------------------------------------------------------


def test_random_sample_is_reproducible_and_in_pool_order():
    first = random_sample(POOL, 15, seed=7)
    assert first == random_sample(POOL, 15, seed=7)
    assert first.ids != random_sample(POOL, 15, seed=8).ids
    assert len(set(first.ids)) == 15
    assert first.positions == sorted(first.positions)
    assert first.ids == [POOL[p - 1] for p in first.positions]
    assert (first.method, first.n, first.pool_size, first.seed) == ("random", 15, 45, 7)


@pytest.mark.parametrize(("n", "seed"), [(46, 1), (-1, 1), (3, None)])
def test_random_sample_rejects_bad_size_or_missing_seed(n, seed):
    with pytest.raises(ValueError):
        random_sample(POOL, n, seed=seed)


# --- descriptions -------------------------------------------------------------------------


def test_describe_sample_systematic_sentence_exactly():
    result = systematic_sample(POOL, 3, start=2)
    assert describe_sample(result, CRITERIA_TEXT) == (
        "45 posts met the criteria (at least 100 words; posted at most 5 months before "
        "2026-11-28); every third post was kept, starting from position 2: 15 posts."
    )


def test_describe_sample_systematic_with_drawn_start_names_seed():
    result = systematic_sample(POOL, 12, seed=3)
    assert describe_sample(result) == (
        f"45 posts met the criteria; every 12th post was kept, starting from position "
        f"{result.start} (drawn with seed 3): {result.n} posts."
    )


def test_describe_sample_random_sentence_exactly():
    result = random_sample(POOL, 15, seed=7)
    assert describe_sample(result, "at least 100 words") == (
        "45 posts met the criteria (at least 100 words); kept: a simple random sample of 15 "
        "of the 45 posts (seed 7)."
    )


def test_describe_sample_all_and_singular():
    result = SampleResult(
        ids=["a"], positions=[1], method="all", k=None, start=None, seed=None, n=1, pool_size=1
    )
    assert describe_sample(result) == "1 post met the criteria; all were kept."


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, "every post"),
        (2, "every second post"),
        (3, "every third post"),
        (10, "every tenth post"),
        (11, "every 11th post"),
        (12, "every 12th post"),
        (21, "every 21st post"),
        (22, "every 22nd post"),
        (113, "every 113th post"),
    ],
)
def test_every_kth_uses_words_up_to_ten(k, expected):
    assert every_kth(k) == expected


def test_ordinal_suffixes():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "101st",
        "111th",
    ]


# --- assignment ---------------------------------------------------------------------------


def check_plan(plan, post_ids, coder_ids, per_post):
    assert list(plan) == list(coder_ids)
    counts = Counter(post for posts in plan.values() for post in posts)
    assert all(counts[post] == per_post for post in post_ids) and len(counts) == len(post_ids)
    for posts in plan.values():
        assert len(set(posts)) == len(posts)
        assert posts == [post for post in post_ids if post in set(posts)]  # post order
    loads = [len(posts) for posts in plan.values()]
    assert max(loads) - min(loads) <= 1
    return loads


@pytest.mark.parametrize(
    ("posts", "coders", "per_post"),
    [(60, 4, 2), (45, 6, 2), (100, 7, 3), (10, 3, 3), (90, 6, 4), (7, 5, 1), (3, 5, 2)],
)
def test_assign_with_overlap_gives_each_post_per_post_coders_balanced(posts, coders, per_post):
    post_ids = [f"post{i}" for i in range(posts)]
    coder_ids = [f"coder{i}" for i in range(coders)]
    loads = check_plan(
        assign_with_overlap(post_ids, coder_ids, per_post, seed=3), post_ids, coder_ids, per_post
    )
    assert sum(loads) == posts * per_post


def test_assign_with_overlap_spreads_pairs_evenly():
    plan = assign_with_overlap(list(range(60)), ["a", "b", "c", "d"], 2, seed=5)
    assert set(pair_counts(plan).values()) == {10}  # 6 pairs share 10 posts each
    plan = assign_with_overlap(list(range(100)), list("abcdefg"), 3, seed=1)
    shared = pair_counts(plan).values()
    assert max(shared) - min(shared) <= 2


def test_assign_with_overlap_is_deterministic_for_a_seed():
    posts, coders = list(range(50)), [10, 20, 30, 40, 50]
    first = assign_with_overlap(posts, coders, 2, seed=42)
    assert first == assign_with_overlap(posts, coders, 2, seed=42)
    assert any(first != assign_with_overlap(posts, coders, 2, seed=seed) for seed in range(1, 6))


@pytest.mark.parametrize(
    ("coders", "per_post", "posts"),
    [
        ([1, 2], 3, [1]),
        ([1, 2], 0, [1]),
        ([], 1, [1]),
        ([1, 1, 2], 1, [1]),
        ([1, 2], 1, [5, 5]),
    ],
)
def test_assign_with_overlap_rejects_bad_arguments(coders, per_post, posts):
    with pytest.raises(ValueError):
        assign_with_overlap(posts, coders, per_post, seed=1)


def test_assign_with_overlap_of_no_posts_gives_empty_lists():
    assert assign_with_overlap([], ["a", "b"], 2, seed=1) == {"a": [], "b": []}


# --- criteria ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 28), 5, date(2026, 6, 28)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
        (date(2026, 5, 31), 14, date(2025, 3, 31)),
        (date(2026, 7, 31), 0, date(2026, 7, 31)),
    ],
)
def test_subtract_months_uses_calendar_months_clamped_to_month_end(day, months, expected):
    assert subtract_months(day, months) == expected


def test_criteria_describe_reads_like_methods_section():
    criteria = Criteria(
        min_words=100,
        months_before=5,
        reference_date=date(2026, 11, 28),
        keywords=["skills", "access"],
    )
    assert criteria.describe() == (
        "at least 100 words; posted at most 5 months before 28 Nov 2026; "
        "mentioning any of “skills”, “access”"
    )


def test_criteria_describe_covers_every_field():
    criteria = Criteria(
        min_words=50,
        max_words=300,
        date_from=date(2026, 1, 1),
        date_to=date(2026, 3, 31),
        months_before=1,
        keywords=["skills"],
        exclude_keywords=["hiring", "job offer"],
        authors=["Ann"],
        metadata={"sector": "health"},
    )
    assert criteria.describe() == (
        "between 50 and 300 words; posted between 1 Jan 2026 and 31 Mar 2026; "
        "posted at most 1 month before today; mentioning “skills”; "
        "mentioning none of “hiring”, “job offer”; by “Ann”; sector is “health”"
    )
    assert Criteria().describe() == "every post"


def test_criteria_window_for_months_before_reference_date():
    criteria = Criteria(months_before=5, reference_date=date(2026, 11, 28))
    assert criteria.window() == (
        datetime(2026, 6, 28, tzinfo=UTC),
        datetime(2026, 11, 29, tzinfo=UTC),
    )


def test_criteria_window_intersects_dates_and_months():
    criteria = Criteria(
        date_from=date(2026, 1, 10),
        date_to=date(2026, 3, 31),
        months_before=1,
        reference_date=date(2026, 3, 31),
    )
    start, end = criteria.window()
    assert start == datetime(2026, 2, 28, tzinfo=UTC)
    assert end == datetime(2026, 4, 1, tzinfo=UTC)
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert Criteria().window() == (None, None)
    assert Criteria(date_from=date(2026, 1, 1)).window() == (
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
    )


def test_criteria_window_without_reference_date_uses_today():
    today = datetime.now(UTC).date()
    start, end = Criteria(months_before=2).window()
    assert start == datetime.combine(subtract_months(today, 2), time.min, tzinfo=UTC)
    assert end == datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)


def test_criteria_to_dict_is_json_safe_and_round_trips():
    criteria = Criteria(
        min_words=100,
        max_words=None,
        date_from=date(2026, 1, 1),
        date_to=None,
        months_before=5,
        reference_date=date(2026, 11, 28),
        keywords=["skills", "open access"],
        exclude_keywords=["spam"],
        authors=["Ann"],
        metadata={"sector": "health"},
    )
    data = criteria.to_dict()
    assert data["date_from"] == "2026-01-01" and data["reference_date"] == "2026-11-28"
    assert Criteria.from_dict(json.loads(json.dumps(data))) == criteria
    assert Criteria.from_dict({}) == Criteria()
    assert Criteria.from_dict(None) == Criteria()
    assert Criteria.from_dict({"min_words": "10", "unknown": 1}).min_words == 10

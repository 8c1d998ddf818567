"""Inclusion criteria, reproducible samples and balanced assignment of posts to coders.

Pure Python (no Django): ``corpus.services.samples`` turns ``Criteria`` into a query and
records what these functions return.
"""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations

_ORDINALS = {
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    6: "sixth",
    7: "seventh",
    8: "eighth",
    9: "ninth",
    10: "tenth",
}


# The criteria as form fields and query parameters (the sampling page, the pool API).
CRITERIA_FIELDS = (
    "min_words",
    "max_words",
    "months_before",
    "reference_date",
    "date_from",
    "date_to",
    "keywords",
    "exclude_keywords",
    "authors",
    "metadata",
)


# --- samples -----------------------------------------------------------------------------


@dataclass
class SampleResult:
    """A drawn sample: the chosen ids in pool order and how they were chosen.

    ``positions`` are the 1-based positions of the ids in the pool. ``method`` is
    "systematic", "random" or "all"; ``k`` and ``start`` are set for a systematic sample,
    ``seed`` when one was given (for a systematic sample, only needed when the start was
    drawn). ``n`` is the number of posts kept, ``pool_size`` the number in the pool.
    """

    ids: list
    positions: list[int]
    method: str
    k: int | None
    start: int | None
    seed: int | None
    n: int
    pool_size: int


def systematic_sample(
    ids: Sequence, k: int, start: int | None = None, seed: int | None = None
) -> SampleResult:
    """Every ``k``-th id, from 1-based position ``start`` (1..k).

    Without ``start``, the start is drawn as ``random.Random(seed).randint(1, k)``, so a
    seed is then required. 45 ids, k=3, start=2 → positions 2, 5, …, 44: 15 ids.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError("k, the step, must be a whole number of at least 1.")
    if start is None:
        if seed is None:
            raise ValueError("Give a start position, or a seed to draw one.")
        start = random.Random(seed).randint(1, k)
    elif isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= k:
        raise ValueError(f"The start must be a whole number between 1 and k ({k}).")
    positions = list(range(start, len(ids) + 1, k))
    return SampleResult(
        ids=[ids[p - 1] for p in positions],
        positions=positions,
        method="systematic",
        k=k,
        start=start,
        seed=seed,
        n=len(positions),
        pool_size=len(ids),
    )


def random_sample(ids: Sequence, n: int, seed: int) -> SampleResult:
    """A simple random sample of ``n`` ids without replacement, seeded; in pool order.

    The positions are ``random.Random(seed).sample(range(len(ids)), n)``, sorted.
    """
    if seed is None:
        raise ValueError("A random sample needs a seed, so that it can be drawn again.")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(ids):
        raise ValueError(f"n must be a whole number between 0 and the pool size ({len(ids)}).")
    chosen = sorted(random.Random(seed).sample(range(len(ids)), n))
    return SampleResult(
        ids=[ids[i] for i in chosen],
        positions=[i + 1 for i in chosen],
        method="random",
        k=None,
        start=None,
        seed=seed,
        n=n,
        pool_size=len(ids),
    )


def _posts(count: int) -> str:
    return f"{count} post" if count == 1 else f"{count} posts"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 102nd, 111th."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def every_kth(k: int) -> str:
    """ "every post", "every second post" … "every tenth post", "every 12th post"."""
    if k == 1:
        return "every post"
    return f"every {_ORDINALS.get(k) or ordinal(k)} post"


def describe_sample(result: SampleResult, criteria_text: str | None = None) -> str:
    """One sentence for a methods section, e.g.

    "45 posts met the criteria (at least 100 words; posted at most 5 months before
    2026-11-28); every third post was kept, starting from position 2: 15 posts."
    """
    criteria = f" ({criteria_text})" if criteria_text else ""
    pool = (
        f"{result.pool_size} post met the criteria{criteria}"
        if result.pool_size == 1
        else f"{result.pool_size} posts met the criteria{criteria}"
    )
    if result.method == "systematic":
        drawn = f" (drawn with seed {result.seed})" if result.seed is not None else ""
        return (
            f"{pool}; {every_kth(result.k)} was kept, starting from position "
            f"{result.start}{drawn}: {_posts(result.n)}."
        )
    if result.method == "random":
        seed = f" (seed {result.seed})" if result.seed is not None else ""
        return (
            f"{pool}; kept: a simple random sample of {result.n} of the "
            f"{_posts(result.pool_size)}{seed}."
        )
    if result.method == "all":
        return f"{pool}; all were kept."
    raise ValueError(f"Unknown sampling method “{result.method}”.")


# --- assignment --------------------------------------------------------------------------


# Above this many ways of choosing a post's coders, they are chosen one by one instead.
EXHAUSTIVE_CHOICES = 500


def assign_with_overlap(
    post_ids: Sequence[Hashable], coder_ids: Sequence[Hashable], per_post: int, seed: int
) -> dict[Hashable, list]:
    """Give each post to ``per_post`` distinct coders: loads balanced, pairs spread.

    Algorithm (greedy, one post at a time, in the order given, ``random.Random(seed)``
    breaking ties):

    1. Load first. Let m be the smallest load (posts assigned so far). If fewer than
       ``per_post`` coders have load m, all of them are taken and the rest are chosen
       among the coders with load m + 1; otherwise all are chosen among those with load m.
       This keeps every two loads within 1 of each other after every post.
    2. Pairs next. Among the allowed choices, take the one whose coders have shared the
       fewest posts so far (the sum, over the pairs of coders in the choice, of the posts
       each pair already shares); ties go to the coders who share fewest posts with anyone,
       then to a seeded random draw. All choices are compared when there are at most
       ``EXHAUSTIVE_CHOICES`` of them; otherwise coders are added one at a time, each the
       best by the same rule given those already chosen.

    Minimising the shared-post sum at each step is the greedy step for making every pair
    of coders share about the same number of posts (it minimises the growth of the sum of
    squared pair counts). The result is the same for the same posts, coders, ``per_post``
    and seed.

    Returns every coder (in the order given) with the posts they got, in post order.
    Raises ``ValueError`` when ``per_post`` is not between 1 and the number of coders, or
    when coders or posts repeat.
    """
    coders = list(coder_ids)
    if len(set(coders)) != len(coders):
        raise ValueError("Each coder may be listed only once.")
    if len(set(post_ids)) != len(post_ids):
        raise ValueError("Each post may be listed only once.")
    if isinstance(per_post, bool) or not isinstance(per_post, int):
        raise ValueError("per_post must be a whole number.")
    if not coders or not 1 <= per_post <= len(coders):
        raise ValueError(f"Each post can go to between 1 and {len(coders)} coders, not {per_post}.")
    rng = random.Random(seed)
    count = len(coders)
    load = [0] * count
    shared_total = [0] * count
    pair = [[0] * count for _ in range(count)]
    plan: dict[Hashable, list] = {coder: [] for coder in coders}

    def shared_within(group: Sequence[int]) -> int:
        return sum(pair[a][b] for a, b in combinations(group, 2))

    for post in post_ids:
        lowest = min(load)
        at_lowest = [c for c in range(count) if load[c] == lowest]
        if len(at_lowest) <= per_post:
            forced = at_lowest
            pool = [c for c in range(count) if load[c] == lowest + 1]
        else:
            forced, pool = [], at_lowest
        need = per_post - len(forced)
        if need == 0:
            chosen = list(forced)
        elif math.comb(len(pool), need) <= EXHAUSTIVE_CHOICES:
            chosen = list(
                min(
                    (tuple(forced) + extra for extra in combinations(pool, need)),
                    key=lambda group: (
                        shared_within(group),
                        sum(shared_total[c] for c in group),
                        rng.random(),
                    ),
                )
            )
        else:
            chosen = list(forced)
            for _ in range(need):
                best = min(
                    (c for c in pool if c not in chosen),
                    key=lambda c: (
                        sum(pair[c][other] for other in chosen),
                        shared_total[c],
                        rng.random(),
                    ),
                )
                chosen.append(best)
        for a, b in combinations(chosen, 2):
            pair[a][b] += 1
            pair[b][a] += 1
            shared_total[a] += 1
            shared_total[b] += 1
        for c in chosen:
            load[c] += 1
            plan[coders[c]].append(post)
    return plan


def pair_counts(plan: dict[Hashable, list]) -> dict[tuple, int]:
    """How many posts each pair of coders shares, for checking an assignment."""
    coders = list(plan)
    sets = {coder: set(posts) for coder, posts in plan.items()}
    return {(a, b): len(sets[a] & sets[b]) for a, b in combinations(coders, 2)}


# --- criteria ----------------------------------------------------------------------------


def subtract_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the month's end:
    2026-11-28 − 5 → 2026-06-28; 2026-03-31 − 1 → 2026-02-28; 2024-03-31 − 1 → 2024-02-29.
    """
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    if year < 1:
        raise ValueError(f"{months} months before {day.isoformat()} is before year 1.")
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _show_date(day: date) -> str:
    # Not strftime("%b"): that follows the process locale.
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _quoted(values: list[str]) -> str:
    return ", ".join(f"“{value}”" for value in values)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _optional_int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass
class Criteria:
    """Inclusion criteria as plain data. Every field is optional; empty means no limit.

    - ``min_words``/``max_words``: bounds on the post's word count (inclusive).
    - ``date_from``/``date_to``: posting dates, both days included (UTC).
    - ``months_before`` with ``reference_date``: posted at most that many calendar months
      before the reference date (``subtract_months``), up to and including it; without a
      reference date, today (UTC) is used when the window is computed.
    - ``keywords``: the post mentions any of them (case-insensitive, whole word or phrase);
      ``exclude_keywords``: it mentions none of them.
    - ``authors``: any of them (the app matches them in the author name or headline).
    - ``metadata``: each attribute equals its value.
    """

    min_words: int | None = None
    max_words: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    months_before: int | None = None
    reference_date: date | None = None
    keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The posting-time window as aware UTC datetimes ``(start, end)``: start inclusive,
        end exclusive (the day after the last included day); None where unbounded. The
        date range and the months window, when both are given, are intersected."""
        starts: list[datetime] = []
        ends: list[datetime] = []
        if self.date_from is not None:
            starts.append(_start_of(self.date_from))
        if self.date_to is not None:
            ends.append(_start_of(self.date_to + timedelta(days=1)))
        if self.months_before is not None:
            reference = self.reference_date or datetime.now(UTC).date()
            starts.append(_start_of(subtract_months(reference, self.months_before)))
            ends.append(_start_of(reference + timedelta(days=1)))
        return (max(starts) if starts else None, min(ends) if ends else None)

    def describe(self) -> str:
        """The criteria in words, e.g. "at least 100 words; posted at most 5 months before
        28 Nov 2026; mentioning any of “skills”, “access”" ("every post" when none)."""
        parts: list[str] = []
        low, high = self.min_words, self.max_words
        if low is not None and high is not None:
            parts.append(f"between {low} and {high} words")
        elif low is not None:
            parts.append(f"at least {low} {'word' if low == 1 else 'words'}")
        elif high is not None:
            parts.append(f"at most {high} {'word' if high == 1 else 'words'}")
        if self.date_from is not None and self.date_to is not None:
            parts.append(
                f"posted between {_show_date(self.date_from)} and {_show_date(self.date_to)}"
            )
        elif self.date_from is not None:
            parts.append(f"posted on or after {_show_date(self.date_from)}")
        elif self.date_to is not None:
            parts.append(f"posted on or before {_show_date(self.date_to)}")
        if self.months_before is not None:
            months = self.months_before
            unit = "month" if months == 1 else "months"
            reference = _show_date(self.reference_date) if self.reference_date else "today"
            parts.append(f"posted at most {months} {unit} before {reference}")
        keywords = [k for k in self.keywords if k.strip()]
        if len(keywords) == 1:
            parts.append(f"mentioning {_quoted(keywords)}")
        elif keywords:
            parts.append(f"mentioning any of {_quoted(keywords)}")
        excluded = [k for k in self.exclude_keywords if k.strip()]
        if len(excluded) == 1:
            parts.append(f"not mentioning {_quoted(excluded)}")
        elif excluded:
            parts.append(f"mentioning none of {_quoted(excluded)}")
        authors = [a for a in self.authors if a.strip()]
        if len(authors) == 1:
            parts.append(f"by {_quoted(authors)}")
        elif authors:
            parts.append(f"by any of {_quoted(authors)}")
        for key, value in (self.metadata or {}).items():
            parts.append(f"{key} is “{value}”")
        return "; ".join(parts) if parts else "every post"

    def to_dict(self) -> dict:
        """A JSON-safe dict (dates as ISO 8601 strings)."""
        return {
            "min_words": self.min_words,
            "max_words": self.max_words,
            "date_from": _iso(self.date_from),
            "date_to": _iso(self.date_to),
            "months_before": self.months_before,
            "reference_date": _iso(self.reference_date),
            "keywords": list(self.keywords),
            "exclude_keywords": list(self.exclude_keywords),
            "authors": list(self.authors),
            "metadata": {str(k): str(v) for k, v in (self.metadata or {}).items()},
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Criteria:
        """The criteria from ``to_dict`` output; missing keys mean no limit, unknown keys
        are ignored."""
        data = data or {}
        return cls(
            min_words=_optional_int(data.get("min_words")),
            max_words=_optional_int(data.get("max_words")),
            date_from=_day(data.get("date_from")),
            date_to=_day(data.get("date_to")),
            months_before=_optional_int(data.get("months_before")),
            reference_date=_day(data.get("reference_date")),
            keywords=[str(k) for k in data.get("keywords") or []],
            exclude_keywords=[str(k) for k in data.get("exclude_keywords") or []],
            authors=[str(a) for a in data.get("authors") or []],
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        )

"""Inter-coder agreement: percent agreement, Krippendorff's alpha, kappas, character overlap."""

from __future__ import annotations

import math
import numbers
import random
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Literal, TypedDict, cast

__all__ = [
    "LEVELS",
    "CharAgreementTable",
    "Level",
    "binary_coincidences",
    "brennan_prediger_kappa",
    "char_agreement_table",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "krippendorff_alpha_bootstrap",
    "krippendorff_alpha_ci",
    "krippendorff_bootstrap_from_coincidences",
    "percent_agreement",
    "scott_pi",
    "table_kappa",
    "table_percent_agreement",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

# A reliability data matrix: one row per coder, one entry per unit, None where a coder
# did not code the unit.
ReliabilityData = Sequence[Sequence[Hashable | None]]

# One pairable unit's entries in the coincidence matrix: (value index c, value index k, o_ck).
_UnitCoincidences = list[tuple[int, int, float]]


class CharAgreementTable(TypedDict):
    """Character counts of a 2×2 coded/not-coded table for two coders."""

    both: int
    only_a: int
    only_b: int
    neither: int


# --------------------------------------------------------------------------------------------
# Reliability data (coders × units) helpers
# --------------------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    # NaN counts as missing as well as None: matrices that went through numpy or pandas use it,
    # and as a value it could never agree with anything (NaN != NaN).
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return math.isnan(value)
    return False


def _units(data: ReliabilityData) -> list[list[Hashable]]:
    """Transpose coders × units into the non-missing values of each unit."""
    if isinstance(data, str | bytes):
        raise ValueError("data must be a list of coders, each a list of values per unit")
    coders = [list(coder) for coder in data]
    if not coders:
        return []
    n_units = len(coders[0])
    if any(len(coder) != n_units for coder in coders):
        raise ValueError("every coder must have exactly one entry (or None) per unit")
    return [[coder[j] for coder in coders if not _is_missing(coder[j])] for j in range(n_units)]


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")


def _check_value(value: object, level: str) -> None:
    if level not in ("interval", "ratio"):
        return
    # bool is an int subclass, but True/False are labels, not measurements.
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{level} data must be numbers; got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{level} data must be finite; got {value!r}")
    # The ratio metric ((c - k) / (c + k))² presupposes an absolute zero; a negative value
    # would make e.g. -1 and 1 look identical (c + k = 0).
    if level == "ratio" and value < 0:
        raise ValueError(f"ratio data must be non-negative; got {value!r}")


def _prepare(data: ReliabilityData, level: str) -> tuple[list[Hashable], list[_UnitCoincidences]]:
    """Value domain and each pairable unit's contribution to the coincidence matrix."""
    _check_level(level)
    pairable: list[Counter[Hashable]] = []
    for values in _units(data):
        for value in values:
            _check_value(value, level)
        # A unit with a single value has no pair, so Krippendorff drops it entirely
        # (it does not even count towards the marginals n_c).
        if len(values) >= 2:
            pairable.append(Counter(values))

    seen: dict[Hashable, None] = {}
    for counts in pairable:
        seen.update(dict.fromkeys(counts))
    if level == "ordinal":
        try:
            domain = sorted(seen)
        except TypeError as exc:
            raise TypeError("ordinal values must be mutually sortable") from exc
    else:
        domain = list(seen)
    index = {value: i for i, value in enumerate(domain)}

    units: list[_UnitCoincidences] = []
    for counts in pairable:
        m_u = sum(counts.values())
        entries: _UnitCoincidences = []
        for c, n_uc in counts.items():
            for k, n_uk in counts.items():
                # Ordered pairs of values from *different* coders: a value is not paired
                # with itself, hence n_uc * (n_uc - 1) on the diagonal.
                pairs = n_uc * (n_uc - 1) if c == k else n_uc * n_uk
                if pairs:
                    entries.append((index[c], index[k], pairs / (m_u - 1)))
        units.append(entries)
    return domain, units


def _coincidences(
    units: list[_UnitCoincidences], times: Mapping[int, int] | None = None
) -> dict[tuple[int, int], float]:
    """Sum unit contributions into o_ck; `times` gives how often each unit is drawn."""
    picks: Iterable[tuple[int, int]] = (
        ((i, 1) for i in range(len(units))) if times is None else times.items()
    )
    o: dict[tuple[int, int], float] = {}
    for unit, weight in picks:
        for c, k, o_ck in units[unit]:
            o[(c, k)] = o.get((c, k), 0.0) + weight * o_ck
    return o


def _marginals(o: Mapping[tuple[int, int], float], size: int) -> list[float]:
    n_c = [0.0] * size
    for (c, _k), o_ck in o.items():
        n_c[c] += o_ck
    return n_c


def _delta(domain: Sequence[Hashable], level: str, n_c: Sequence[float]):
    """The squared difference function δ²(c, k) of the level, over value indexes."""
    if level == "ordinal":
        # Cumulative marginals give Σ_{g=c..k} n_g in O(1); values absent from these data
        # (n_g = 0, possible in a bootstrap resample) add nothing to a rank distance.
        cumulative = [0.0]
        for count in n_c:
            cumulative.append(cumulative[-1] + count)

        def delta(c: int, k: int) -> float:
            low, high = (c, k) if c <= k else (k, c)
            between = cumulative[high + 1] - cumulative[low]
            return (between - (n_c[low] + n_c[high]) / 2) ** 2

    elif level == "nominal":

        def delta(c: int, k: int) -> float:
            return 0.0 if c == k else 1.0

    elif level == "interval":
        numeric = cast("list[float]", domain)  # checked by _check_value

        def delta(c: int, k: int) -> float:
            return float((numeric[c] - numeric[k]) ** 2)

    else:
        numeric = cast("list[float]", domain)  # checked by _check_value, non-negative

        def delta(c: int, k: int) -> float:
            total = numeric[c] + numeric[k]
            # Only 0 and 0 sum to zero for non-negative data, and they are the same value.
            return 0.0 if total == 0 else ((numeric[c] - numeric[k]) / total) ** 2

    return delta


def _alpha(o: dict[tuple[int, int], float], domain: list[Hashable], level: str) -> float:
    """alpha = 1 - (n - 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck  (Krippendorff 2011, eq. for D_o/D_e)."""
    n_c = _marginals(o, len(domain))
    n = math.fsum(n_c)
    if n < 2:
        return math.nan  # no pairable unit
    delta = _delta(domain, level, n_c)
    observed = math.fsum(o_ck * delta(c, k) for (c, k), o_ck in o.items() if c != k)
    present = [c for c, count in enumerate(n_c) if count]
    expected = math.fsum(n_c[c] * n_c[k] * delta(c, k) for c in present for k in present if c != k)
    if expected == 0:
        return math.nan  # a single value used overall: no variation to agree about
    return 1.0 - (n - 1) * observed / expected


def percent_agreement(data: ReliabilityData) -> float:
    """Pairwise percent agreement of a coders × units matrix (None = missing).

    Definition: every unit coded by m_u ≥ 2 coders contributes its m_u(m_u - 1)/2 unordered
    pairs of coders; a pair agrees when both assigned equal values. The result is the number
    of agreeing pairs divided by the number of pairs, pooled over all units (so a unit coded by
    more coders weighs more). Units with fewer than two values are ignored. Returns a float
    in [0, 1], or nan if no unit has two values.
    """
    agreeing = pairs = 0
    for values in _units(data):
        m_u = len(values)
        if m_u < 2:
            continue
        pairs += m_u * (m_u - 1) // 2
        agreeing += sum(n * (n - 1) // 2 for n in Counter(values).values())
    return agreeing / pairs if pairs else math.nan


def krippendorff_alpha(data: ReliabilityData, level: Level = "nominal") -> float:
    """Krippendorff's alpha of a coders × units matrix (None = missing).

    Coincidence-matrix formulation of Krippendorff (2011), "Computing Krippendorff's
    Alpha-Reliability": any number of coders, missing values allowed, units with fewer than
    two values ignored. alpha = 1 - (n - 1) Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck.

    level:
      - "nominal": δ² = 0 if c == k else 1; values may be any hashables.
      - "ordinal": δ²_ck = (Σ_{g=c..k} n_g - (n_c + n_k)/2)², with values ranked by Python's
        sort order (pass ranks or numbers: strings would sort alphabetically).
      - "interval": δ² = (c - k)²; values must be real numbers.
      - "ratio": δ² = ((c - k)/(c + k))²; values must be non-negative real numbers.

    Returns nan when alpha is undefined: no unit has two values, or only one value is used
    overall (expected disagreement 0). Raises ValueError for an unknown level, a ragged matrix
    or an invalid number, TypeError for non-numeric interval/ratio or unsortable ordinal data.
    """
    domain, units = _prepare(data, level)
    return _alpha(_coincidences(units), domain, level)


def _quantile(ordered: Sequence[float], q: float) -> float:
    # Linear interpolation between order statistics (Hyndman & Fan type 7, numpy's default),
    # so the bounds do not jump with n_boot.
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def krippendorff_alpha_ci(
    data: ReliabilityData,
    level: Level = "nominal",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    method: Literal["krippendorff", "units"] = "krippendorff",
) -> tuple[float, float, float]:
    """Krippendorff's alpha with a bootstrap confidence interval: (alpha, low, high).

    method="krippendorff" (the default) is Krippendorff's own bootstrap of pairs of values
    (Hayes & Krippendorff 2007): see `krippendorff_alpha_bootstrap`.

    method="units" is a unit bootstrap instead:
    each of the n_boot replicates draws, with replacement, as many units as there are pairable
    units (units with ≥ 2 values) from those pairable units, keeping every drawn unit's values
    together, and recomputes alpha from scratch on the resample (coincidences, marginals, and
    for "ordinal" the rank distances). Replicates where alpha is undefined (e.g. the resample
    uses only one value) are dropped. low/high are the (1 - ci)/2 and (1 + ci)/2 quantiles of
    the remaining replicates, linearly interpolated between order statistics. The draws come
    from random.Random(seed), so equal arguments give equal intervals.

    Returns (nan, nan, nan) when alpha itself is undefined, and (alpha, nan, nan) when every
    replicate is undefined.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be strictly between 0 and 1; got {ci!r}")
    if method == "krippendorff":
        result = krippendorff_alpha_bootstrap(data, level, n_boot=n_boot, seed=seed, ci=ci)
        return result["alpha"], result["low"], result["high"]
    if method != "units":
        raise ValueError(f"method must be 'krippendorff' or 'units'; got {method!r}")
    domain, units = _prepare(data, level)
    alpha = _alpha(_coincidences(units), domain, level)
    if math.isnan(alpha):
        return math.nan, math.nan, math.nan

    rng = random.Random(seed)
    population = range(len(units))
    replicates: list[float] = []
    for _ in range(n_boot):
        drawn = Counter(rng.choices(population, k=len(units)))
        value = _alpha(_coincidences(units, drawn), domain, level)
        if not math.isnan(value):
            replicates.append(value)
    if not replicates:
        return alpha, math.nan, math.nan
    replicates.sort()
    tail = (1 - ci) / 2
    return alpha, _quantile(replicates, tail), _quantile(replicates, 1 - tail)


class AlphaBootstrap(TypedDict):
    """Krippendorff's bootstrap of alpha: the estimate, the interval and how it was drawn."""

    alpha: float
    low: float
    high: float
    pairs: int  # M, the pairs of values drawn per replicate
    replicates: int
    below: dict[float, float]  # alpha_min → estimated probability that alpha < alpha_min


def krippendorff_alpha_bootstrap(
    data: ReliabilityData,
    level: Level = "nominal",
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    alpha_min: Sequence[float] = (0.8, 0.667),
) -> AlphaBootstrap:
    """Krippendorff's bootstrap of alpha (Krippendorff 2006, "Bootstrapping distributions for
    Krippendorff's alpha"; Hayes & Krippendorff 2007, as in Hayes' KALPHA macro).

    See `krippendorff_bootstrap_from_coincidences` for the algorithm; `data` is the coders ×
    units reliability matrix, None for a missing value.
    """
    domain, units = _prepare(data, level)
    m = len(data)
    return krippendorff_bootstrap_from_coincidences(
        _coincidences(units),
        domain,
        level,
        n_coders=m,
        n_boot=n_boot,
        seed=seed,
        ci=ci,
        alpha_min=alpha_min,
    )


def krippendorff_bootstrap_from_coincidences(
    o: Mapping[tuple[int, int], float],
    domain: Sequence[Hashable],
    level: Level,
    *,
    n_coders: int,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
    alpha_min: Sequence[float] = (0.8, 0.667),
) -> AlphaBootstrap:
    """Krippendorff's bootstrap from a coincidence matrix o (value index pairs → o_ck).

    Every replicate draws M pairs of values with replacement, a pair of values c ≤ k with
    probability o_cc / n.. on the diagonal and 2 o_ck / n.. off it, and computes
    alpha* = 1 - Σ δ²(drawn pairs) / (M · D_e), with D_e = Σ e_ck δ²_ck / n.. kept from the
    data (e_ck = n_c (n_k - [c = k]) / (n.. - 1)). M = min(25 q, (m - 1) n.. / 2), q the
    number of non-zero cells of o and m the number of coders. Replicates below -1 count as -1.
    As Krippendorff prescribes, when only one value was ever paired with itself a replicate
    of 1 is set to 0, and replicates of 1 owed only to drawing no disagreement at all
    (expected n_boot · Σ_c (o_cc / n..)^M of them) are set to 0, since alpha is then
    undefined. The interval is the (1-ci)/2 and (1+ci)/2 order statistics of the sorted
    replicates; `below` gives, for each alpha_min, the share of replicates under it (the
    probability of failing to reach that reliability). Draws come from random.Random(seed).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be strictly between 0 and 1; got {ci!r}")
    undefined: AlphaBootstrap = {
        "alpha": math.nan,
        "low": math.nan,
        "high": math.nan,
        "pairs": 0,
        "replicates": 0,
        "below": {a: math.nan for a in alpha_min},
    }
    alpha = _alpha(dict(o), list(domain), level)
    if math.isnan(alpha):
        return undefined
    size = len(domain)
    n_c = _marginals(o, size)
    n = math.fsum(n_c)
    delta = _delta(domain, level, n_c)
    expected = math.fsum(
        n_c[c] * (n_c[k] - (c == k)) / (n - 1) * delta(c, k)
        for c in range(size)
        for k in range(size)
    )
    d_e = expected / n
    cells, weights, deltas = [], [], []
    for c in range(size):
        for k in range(c, size):
            o_ck = o.get((c, k), 0.0)
            weight = o_ck / n if c == k else 2 * o_ck / n
            if weight > 0:
                cells.append((c, k))
                weights.append(weight)
                deltas.append(delta(c, k))
    q = sum(1 for value in o.values() if value)
    pairs = int(min(25 * q, (n_coders - 1) * n / 2))
    rng = random.Random(seed)
    cumulative = []
    running = 0.0
    for weight in weights:
        running += weight
        cumulative.append(running)
    replicates = []
    ones = 0
    for _ in range(n_boot):
        drawn = rng.choices(range(len(cells)), cum_weights=cumulative, k=pairs)
        value = 1.0 - math.fsum(deltas[i] for i in drawn) / (pairs * d_e)
        value = max(value, -1.0)
        if value == 1.0:
            if sum(1 for c in range(size) if o.get((c, c), 0.0)) == 1:
                value = 0.0
            else:
                ones += 1
        replicates.append(value)
    # Replicates that drew no disagreement only by chance stand for an undefined alpha.
    chance_ones = round(n_boot * math.fsum((o.get((c, c), 0.0) / n) ** pairs for c in range(size)))
    to_zero = min(chance_ones, ones)
    if to_zero:
        for i, value in enumerate(replicates):
            if to_zero and value == 1.0:
                replicates[i] = 0.0
                to_zero -= 1
    replicates.sort()
    tail = (1 - ci) / 2
    low_index = max(int(tail * n_boot), 1) - 1
    high_index = min(int((1 - tail) * n_boot) + 1, n_boot) - 1
    return {
        "alpha": alpha,
        "low": replicates[low_index],
        "high": replicates[high_index],
        "pairs": pairs,
        "replicates": n_boot,
        "below": {a: sum(1 for r in replicates if r < a) / n_boot for a in alpha_min},
    }


def binary_coincidences(o01: float, n0: float, n1: float) -> dict[tuple[int, int], float]:
    """The 2×2 coincidence matrix of binary values (0 not coded, 1 coded) from the summed
    `binary_unit_counts`: o00 = n0 - o01, o11 = n1 - o01, o01 = o10."""
    return {(0, 0): n0 - o01, (0, 1): o01, (1, 0): o01, (1, 1): n1 - o01}


# --------------------------------------------------------------------------------------------
# Two raters, complete data
# --------------------------------------------------------------------------------------------


def _paired(a: Iterable[Hashable], b: Iterable[Hashable]) -> tuple[list[Hashable], list[Hashable]]:
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"both raters must label the same items; got {len(a)} and {len(b)} labels")
    if any(_is_missing(label) for label in a + b):
        raise ValueError("labels must not be missing (None/NaN); drop unpaired items first")
    return a, b


def _kappa(agree_scaled: int, chance: int, total: int) -> float:
    # (p_o - p_e)/(1 - p_e) with every term multiplied by the same integer, so that the
    # undefined case p_e == 1 is detected exactly rather than through float round-off.
    if total == chance:
        return math.nan
    return (agree_scaled - chance) / (total - chance)


def cohen_kappa(
    a: Iterable[Hashable],
    b: Iterable[Hashable],
    weights: Literal["linear", "quadratic"] | None = None,
) -> float:
    """Cohen's kappa of two raters' labels for the same items (no missing labels).

    weights=None: kappa = (p_o - p_e)/(1 - p_e) with p_e = Σ_c p_a(c) p_b(c).
    weights="linear"/"quadratic": kappa = 1 - Σ w_ij O_ij / Σ w_ij E_ij with disagreement
    weights |i - j| or (i - j)², where i, j are positions in the sorted order of the labels
    present in a or b (so labels must be mutually sortable, and an unused category in between
    does not widen the distances).

    Returns nan when undefined (no items, or p_e == 1, e.g. both raters use one same single
    category). Raises ValueError on unequal lengths, missing labels or unknown weights.
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")
    a, b = _paired(a, b)
    n = len(a)
    if n == 0:
        return math.nan
    if weights is None:
        agree = sum(x == y for x, y in zip(a, b, strict=True))
        count_a, count_b = Counter(a), Counter(b)
        chance = sum(count_a[c] * count_b[c] for c in count_a)
        return _kappa(n * agree, chance, n * n)

    try:
        categories = sorted(set(a) | set(b))
    except TypeError as exc:
        raise TypeError("weighted kappa needs mutually sortable labels") from exc
    position = {label: i for i, label in enumerate(categories)}
    power = 1 if weights == "linear" else 2
    row = Counter(position[x] for x in a)
    col = Counter(position[y] for y in b)
    # n Σ w O over n² Σ w E, both as integer counts.
    observed = n * sum(abs(position[x] - position[y]) ** power for x, y in zip(a, b, strict=True))
    expected = sum(row[i] * col[j] * abs(i - j) ** power for i in row for j in col)
    if expected == 0:
        return math.nan
    return 1 - observed / expected


def scott_pi(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """Scott's pi: (p_o - p_e)/(1 - p_e) with p_e = Σ_c ((n_a(c) + n_b(c)) / 2N)².

    Chance agreement uses the pooled label distribution of both raters (unlike Cohen's kappa,
    which uses each rater's own). Returns nan when undefined (no items, or one label only).
    Raises ValueError on unequal lengths or missing labels.
    """
    a, b = _paired(a, b)
    n = len(a)
    if n == 0:
        return math.nan
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    pooled = Counter(a)
    pooled.update(b)
    # Scaled by 4N²: p_o → 4N·agree, p_e → Σ (n_a(c) + n_b(c))².
    chance = sum(count * count for count in pooled.values())
    return _kappa(4 * n * agree, chance, 4 * n * n)


def brennan_prediger_kappa(
    a: Iterable[Hashable], b: Iterable[Hashable], n_categories: int
) -> float:
    """Brennan & Prediger's (1981) free-marginal kappa: (p_o - 1/q)/(1 - 1/q), q = n_categories.

    q is the number of categories available to the raters (not only those used). Returns nan
    for no items. Raises ValueError if q < 2, if the raters used more than q distinct labels,
    on unequal lengths or on missing labels.
    """
    if (
        isinstance(n_categories, bool)
        or not isinstance(n_categories, numbers.Integral)
        or n_categories < 2
    ):
        raise ValueError(f"n_categories must be an integer ≥ 2; got {n_categories!r}")
    a, b = _paired(a, b)
    if len(set(a) | set(b)) > n_categories:
        raise ValueError("the raters used more distinct labels than n_categories")
    n = len(a)
    if n == 0:
        return math.nan
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    q = int(n_categories)
    return (q * agree - n) / (n * (q - 1))


# --------------------------------------------------------------------------------------------
# Many raters, complete data
# --------------------------------------------------------------------------------------------


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"counts must be non-negative integers; got {value!r}")
    return int(value)


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float:
    """Fleiss' (1971) kappa from a subjects × categories table of rating counts.

    Every row must sum to the same number of ratings n ≥ 2. With N subjects,
    P_i = (Σ_j n_ij² - n)/(n(n - 1)), P̄ = mean P_i, p_j = Σ_i n_ij / (N n), P̄_e = Σ_j p_j²,
    kappa = (P̄ - P̄_e)/(1 - P̄_e). Returns nan when undefined (P̄_e == 1: every rating falls in
    one category). Raises ValueError for an empty or ragged table, negative or non-integer
    counts, or rows with unequal or fewer than 2 ratings.
    """
    rows = [[_count(value) for value in row] for row in table]
    if not rows:
        raise ValueError("table must have at least one subject")
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError("every row must have one count per category")
    n = sum(rows[0])
    if n < 2:
        raise ValueError(f"each subject needs at least 2 ratings; got {n}")
    if any(sum(row) != n for row in rows):
        raise ValueError("every subject must have the same number of ratings")
    subjects = len(rows)
    ratings = subjects * n
    # Exact fractions so that P̄_e == 1 is recognised without round-off.
    p_bar = Fraction(sum(v * v for row in rows for v in row) - ratings, ratings * (n - 1))
    totals = [sum(column) for column in zip(*rows, strict=True)]
    p_e = Fraction(sum(t * t for t in totals), ratings * ratings)
    if p_e == 1:
        return math.nan
    return float((p_bar - p_e) / (1 - p_e))


# --------------------------------------------------------------------------------------------
# Character-level comparison of two coders' spans (NVivo's coding comparison)
# --------------------------------------------------------------------------------------------


def _merged(length: int, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    intervals = []
    for span in spans:
        start, end = span
        for offset in (start, end):
            if isinstance(offset, bool) or not isinstance(offset, numbers.Integral):
                raise ValueError(f"span offsets must be integers; got {span!r}")
        if not 0 <= start <= end <= length:
            raise ValueError(f"span {span!r} is not within 0 <= start <= end <= {length}")
        if start < end:
            intervals.append((int(start), int(end)))
    intervals.sort()
    merged: list[tuple[int, int]] = []
    for start, end in intervals:
        # Overlapping (and touching) spans of one coder cover each character once.
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _intersection(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> int:
    # Two-pointer sweep over sorted disjoint intervals: O(len(x) + len(y)).
    i = j = total = 0
    while i < len(x) and j < len(y):
        overlap = min(x[i][1], y[j][1]) - max(x[i][0], y[j][0])
        if overlap > 0:
            total += overlap
        if x[i][1] <= y[j][1]:
            i += 1
        else:
            j += 1
    return total


def char_agreement_table(
    length: int, spans_a: Iterable[tuple[int, int]], spans_b: Iterable[tuple[int, int]]
) -> CharAgreementTable:
    """Count the characters of a text of `length` coded by both, only A, only B, or neither.

    Spans are half-open (start, end) character offsets as in Python slicing, with
    0 <= start <= end <= length; a coder's overlapping spans are merged so each character
    counts once. Runs in O(k log k) for k spans, independent of the text length. Raises
    ValueError for a negative length or an out-of-range or non-integer span.
    """
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
        raise ValueError(f"length must be a non-negative integer; got {length!r}")
    merged_a = _merged(length, spans_a)
    merged_b = _merged(length, spans_b)
    covered_a = sum(end - start for start, end in merged_a)
    covered_b = sum(end - start for start, end in merged_b)
    both = _intersection(merged_a, merged_b)
    return {
        "both": both,
        "only_a": covered_a - both,
        "only_b": covered_b - both,
        "neither": int(length) - covered_a - covered_b + both,
    }


def table_kappa(both: int, only_a: int, only_b: int, neither: int) -> float:
    """Cohen's kappa of a 2×2 table (coded by both / only A / only B / neither).

    Returns nan when undefined (empty table, or p_e == 1: both coders coded everything or
    nothing). Raises ValueError for negative or non-integer counts.
    """
    both, only_a, only_b, neither = map(_count, (both, only_a, only_b, neither))
    total = both + only_a + only_b + neither
    if total == 0:
        return math.nan
    # Scaled by N²: p_o → N·(both + neither), p_e → yes_a·yes_b + no_a·no_b.
    chance = (both + only_a) * (both + only_b) + (neither + only_b) * (neither + only_a)
    return _kappa(total * (both + neither), chance, total * total)


def table_percent_agreement(both: int, only_a: int, only_b: int, neither: int) -> float:
    """(both + neither) / total of a 2×2 table; nan for an empty table."""
    both, only_a, only_b, neither = map(_count, (both, only_a, only_b, neither))
    total = both + only_a + only_b + neither
    return (both + neither) / total if total else math.nan


def coverage_histogram(
    length: int, spans_per_coder: Sequence[Iterable[tuple[int, int]]]
) -> list[int]:
    """How many characters of a text exactly k coders covered, for k = 0..m (m coders).

    Each coder's spans are merged first (overlaps count once); a sweep over the span edges
    keeps this O(s log s) in the number of spans, not in the length of the text.
    """
    events: list[tuple[int, int]] = []
    for spans in spans_per_coder:
        for start, end in _merged(length, spans):
            events.append((start, 1))
            events.append((end, -1))
    events.sort()
    histogram = [0] * (len(spans_per_coder) + 1)
    depth, position = 0, 0
    for at, change in events:
        histogram[depth] += at - position
        depth += change
        position = at
    histogram[depth] += length - position
    return histogram


def binary_alpha_from_histogram(histogram: Sequence[int]) -> float:
    """Krippendorff's nominal alpha for binary units (coded / not coded) that every one of
    m coders judged, from how many units exactly k coders marked (k = 0..m).

    The same value `krippendorff_alpha` gives on the full coders × units matrix, without
    building it: a unit with k ones adds k(k-1)/(m-1) to o11, (m-k)(m-k-1)/(m-1) to o00 and
    k(m-k)/(m-1) to each of o01 and o10.
    """
    if len(histogram) - 1 < 2:
        return math.nan
    return binary_alpha_from_counts(*histogram_counts(histogram))


def histogram_counts(histogram: Sequence[int]) -> tuple[float, int, int]:
    """The `binary_unit_counts` of all the units a coverage histogram describes, summed."""
    m = len(histogram) - 1
    o01 = sum(units * k * (m - k) for k, units in enumerate(histogram)) / (m - 1)
    n0 = sum(units * (m - k) for k, units in enumerate(histogram))
    n1 = sum(units * k for k, units in enumerate(histogram))
    return o01, n0, n1


def binary_unit_counts(values: Iterable[int | None]) -> tuple[float, int, int]:
    """One unit's share of nominal alpha for binary values (1 coded, 0 not, None missing):
    (disagreeing coincidences o01, pairable zeros n0, pairable ones n1).

    These add up over units, so alpha over many units (or a bootstrap over clusters of
    units) needs only sums: see `binary_alpha_from_counts`.
    """
    present = [v for v in values if v is not None]
    m = len(present)
    if m < 2:
        return 0.0, 0, 0
    k = sum(1 for v in present if v)
    return k * (m - k) / (m - 1), m - k, k


def binary_alpha_from_counts(o01: float, n0: int, n1: int) -> float:
    """Krippendorff's nominal alpha from summed `binary_unit_counts`; nan when undefined."""
    n = n0 + n1
    if n0 == 0 or n1 == 0 or n < 2:
        return math.nan  # one value only: agreement cannot be told from chance
    return 1.0 - (n - 1) * o01 / (n0 * n1)

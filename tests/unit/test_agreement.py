"""Agreement statistics against published worked examples and reference implementations."""

import itertools
import math
import random
from collections import Counter

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from analysis.stats.agreement import (
    LEVELS,
    _quantile,
    binary_coincidences,
    binary_unit_counts,
    brennan_prediger_kappa,
    char_agreement_table,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    krippendorff_alpha_bootstrap,
    krippendorff_alpha_ci,
    krippendorff_bootstrap_from_coincidences,
    percent_agreement,
    scott_pi,
    table_kappa,
    table_percent_agreement,
)

N = None

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# 4 coders × 12 units with missing values.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
KRIPPENDORFF_2011_PUBLISHED = {
    "nominal": 0.743,
    "ordinal": 0.815,
    "interval": 0.849,
    "ratio": 0.797,
}

# Fleiss' kappa worked example (Wikipedia "Fleiss' kappa"; also statsmodels' own test):
# 10 subjects, 14 raters, 5 categories, kappa = 0.210.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def as_nan_matrix(data):
    return np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)


def oracle_alpha(data, level):
    return krippendorff.alpha(reliability_data=as_nan_matrix(data), level_of_measurement=level)


def random_reliability_data(rng, *, values, missing=0.3):
    """A seeded coders × units matrix that the oracle accepts (≥ 2 values, a pairable unit)."""
    while True:
        coders = rng.randint(2, 6)
        units = rng.randint(3, 40)
        data = [
            [N if rng.random() < missing else rng.choice(values) for _ in range(units)]
            for _ in range(coders)
        ]
        columns = [[row[j] for row in data if row[j] is not None] for j in range(units)]
        pairable = [column for column in columns if len(column) >= 2]
        if pairable and len({v for column in pairable for v in column}) >= 2:
            return data


def labels_to_table(a, b, categories):
    """Two raters' labels as a Fleiss subjects × categories table."""
    return [[(x == c) + (y == c) for c in categories] for x, y in zip(a, b, strict=True)]


# --------------------------------------------------------------------------------------------
# percent_agreement
# --------------------------------------------------------------------------------------------


def test_percent_agreement_counts_agreeing_pairs_with_missing_values():
    data = [
        [1, 1, N, 2, 7],
        [1, 2, N, 2, N],
        [1, N, 3, 3, N],
    ]
    # Unit 1: 3 pairs, 3 agree. Unit 2: 1 pair, 0 agree. Unit 3: one value, ignored.
    # Unit 4: values 2, 2, 3 -> 3 pairs, 1 agrees. Unit 5: one value, ignored.
    assert percent_agreement(data) == pytest.approx(4 / 7)


def test_percent_agreement_is_nan_when_no_unit_has_two_values():
    assert math.isnan(percent_agreement([[1, N, N], [N, 2, N]]))
    assert math.isnan(percent_agreement([]))


def test_percent_agreement_equals_naive_pair_count_on_random_data():
    rng = random.Random(11)
    for _ in range(30):
        data = random_reliability_data(rng, values=["a", "b", "c"])
        agree = total = 0
        for j in range(len(data[0])):
            column = [row[j] for row in data if row[j] is not None]
            for x, y in itertools.combinations(column, 2):
                total += 1
                agree += x == y
        assert percent_agreement(data) == pytest.approx(agree / total, abs=1e-12)


def test_percent_agreement_equals_accuracy_for_two_complete_coders():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    assert percent_agreement([a.tolist(), b.tolist()]) == pytest.approx(np.mean(a == b))


def test_percent_agreement_raises_on_ragged_matrix():
    with pytest.raises(ValueError):
        percent_agreement([[1, 2, 3], [1, 2]])


# --------------------------------------------------------------------------------------------
# krippendorff_alpha
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_alpha_matches_published_2011_example(level):
    ours = krippendorff_alpha(KRIPPENDORFF_2011, level)
    assert ours == pytest.approx(oracle_alpha(KRIPPENDORFF_2011, level), abs=1e-12)
    assert ours == pytest.approx(KRIPPENDORFF_2011_PUBLISHED[level], abs=0.001)


def test_krippendorff_alpha_default_level_is_nominal():
    assert krippendorff_alpha(KRIPPENDORFF_2011) == krippendorff_alpha(KRIPPENDORFF_2011, "nominal")


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_alpha_matches_package_on_random_integer_data(level):
    rng = random.Random(f"ints-{level}")
    for _ in range(40):
        data = random_reliability_data(rng, values=[0, 1, 2, 3, 4, 5, 7])
        assert krippendorff_alpha(data, level) == pytest.approx(oracle_alpha(data, level), abs=1e-9)


@pytest.mark.parametrize("level", ["interval", "ratio"])
def test_krippendorff_alpha_matches_package_on_random_float_data(level):
    rng = random.Random(f"floats-{level}")
    for _ in range(20):
        values = [round(rng.uniform(0, 10), 3) for _ in range(15)]
        data = random_reliability_data(rng, values=values, missing=0.2)
        assert krippendorff_alpha(data, level) == pytest.approx(oracle_alpha(data, level), abs=1e-9)


def test_krippendorff_alpha_nominal_matches_package_on_string_labels():
    rng = random.Random(5)
    for _ in range(20):
        data = random_reliability_data(rng, values=["joy", "anger", "fear", "other"])
        # The package takes strings with "nan" for missing.
        strings = np.array([["nan" if v is None else v for v in row] for row in data])
        expected = krippendorff.alpha(reliability_data=strings, level_of_measurement="nominal")
        assert krippendorff_alpha(data, "nominal") == pytest.approx(expected, abs=1e-9)


def test_krippendorff_alpha_ordinal_uses_order_not_spacing():
    # Ordinal distances depend on ranks and marginals only, so a monotone relabelling of the
    # values leaves alpha unchanged (interval alpha would change).
    relabel = {1: 10, 2: 11, 3: 50, 4: 51, 5: 1000}
    moved = [[N if v is None else relabel[v] for v in row] for row in KRIPPENDORFF_2011]
    assert krippendorff_alpha(moved, "ordinal") == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, "ordinal"), abs=1e-12
    )
    assert krippendorff_alpha(moved, "interval") != pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, "interval"), abs=1e-3
    )


def test_krippendorff_alpha_treats_nan_like_none():
    with_nan = [[math.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011]
    assert krippendorff_alpha(with_nan, "interval") == krippendorff_alpha(
        KRIPPENDORFF_2011, "interval"
    )


def test_krippendorff_alpha_ignores_units_with_one_value():
    # Two appended units with one value each (one a value seen nowhere else) change nothing,
    # not even the marginals that the ordinal distances use.
    extended = [
        row + ([9, N] if i == 0 else [N, 4] if i == 1 else [N, N])
        for i, row in enumerate(KRIPPENDORFF_2011)
    ]
    for level in LEVELS:
        assert krippendorff_alpha(extended, level) == krippendorff_alpha(KRIPPENDORFF_2011, level)


def test_krippendorff_alpha_perfect_agreement_is_one():
    data = [[1, 2, 3, N], [1, 2, 3, 4], [N, 2, 3, 4]]
    for level in LEVELS:
        assert krippendorff_alpha(data, level) == pytest.approx(1.0)


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_alpha_is_nan_when_one_category_only(level):
    assert math.isnan(krippendorff_alpha([[3, 3, 3], [3, 3, N]], level))


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_alpha_is_nan_when_all_missing(level):
    assert math.isnan(krippendorff_alpha([[N, N, N], [N, N, N]], level))
    assert math.isnan(krippendorff_alpha([], level))


def test_krippendorff_alpha_is_nan_when_no_unit_is_pairable():
    assert math.isnan(krippendorff_alpha([[1, N, 3], [N, 2, N]]))


def test_krippendorff_alpha_raises_on_unknown_level():
    with pytest.raises(ValueError):
        krippendorff_alpha(KRIPPENDORFF_2011, "likert")


def test_krippendorff_alpha_raises_on_ragged_matrix():
    with pytest.raises(ValueError):
        krippendorff_alpha([[1, 2, 3], [1, 2]])


def test_krippendorff_alpha_raises_on_non_numbers_when_interval():
    with pytest.raises(TypeError):
        krippendorff_alpha([["a", "b"], ["a", "a"]], "interval")


def test_krippendorff_alpha_raises_on_negative_values_when_ratio():
    with pytest.raises(ValueError):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")


# --------------------------------------------------------------------------------------------
# krippendorff_alpha_ci
# --------------------------------------------------------------------------------------------


def test_alpha_ci_is_reproducible_with_same_seed():
    first = krippendorff_alpha_ci(KRIPPENDORFF_2011, "interval", n_boot=300, seed=42)
    again = krippendorff_alpha_ci(KRIPPENDORFF_2011, "interval", n_boot=300, seed=42)
    other = krippendorff_alpha_ci(KRIPPENDORFF_2011, "interval", n_boot=300, seed=43)
    assert first == again
    assert first[1:] != other[1:]


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_ci_contains_alpha_for_krippendorff_example(level):
    alpha, low, high = krippendorff_alpha_ci(KRIPPENDORFF_2011, level, n_boot=500, seed=1)
    assert alpha == krippendorff_alpha(KRIPPENDORFF_2011, level)
    assert low <= alpha <= high
    assert -1 <= low < high <= 1


def test_alpha_ci_is_narrower_for_larger_duplicated_data():
    larger = [row * 10 for row in KRIPPENDORFF_2011]
    alpha, low, high = krippendorff_alpha_ci(KRIPPENDORFF_2011, "interval", n_boot=500)
    alpha_10, low_10, high_10 = krippendorff_alpha_ci(larger, "interval", n_boot=500)
    # Alpha itself moves only through its small-sample factor (n - 1).
    assert alpha_10 == pytest.approx(oracle_alpha(larger, "interval"), abs=1e-12)
    assert alpha_10 == pytest.approx(alpha, abs=0.01)
    assert high_10 - low_10 < (high - low) / 2


def test_alpha_ci_is_a_unit_bootstrap_matching_package_on_resamples():
    # Re-run the documented resampling by hand: draw the pairable units with replacement
    # from random.Random(seed), compute the package's alpha on each resample, take the
    # linearly interpolated percentiles.
    seed, n_boot, level = 7, 200, "ordinal"
    matrix = as_nan_matrix(KRIPPENDORFF_2011)
    pairable = [j for j in range(matrix.shape[1]) if np.sum(~np.isnan(matrix[:, j])) >= 2]
    rng = random.Random(seed)
    replicates = []
    for _ in range(n_boot):
        drawn = rng.choices(range(len(pairable)), k=len(pairable))
        resample = matrix[:, [pairable[i] for i in drawn]]
        try:
            replicates.append(krippendorff.alpha(resample, level_of_measurement=level))
        except ValueError:  # the package refuses a resample with a single value
            continue
    expected_low, expected_high = np.quantile(replicates, [0.025, 0.975])

    alpha, low, high = krippendorff_alpha_ci(
        KRIPPENDORFF_2011, level, n_boot=n_boot, seed=seed, method="units"
    )
    assert alpha == pytest.approx(oracle_alpha(KRIPPENDORFF_2011, level), abs=1e-12)
    assert low == pytest.approx(expected_low, abs=1e-9)
    assert high == pytest.approx(expected_high, abs=1e-9)


def test_alpha_ci_respects_ci_level():
    _, low_90, high_90 = krippendorff_alpha_ci(KRIPPENDORFF_2011, "interval", ci=0.90)
    _, low_99, high_99 = krippendorff_alpha_ci(KRIPPENDORFF_2011, "interval", ci=0.99)
    assert low_99 <= low_90 <= high_90 <= high_99


def test_alpha_ci_is_nan_when_alpha_undefined():
    assert all(math.isnan(x) for x in krippendorff_alpha_ci([[1, 1], [1, 1]], n_boot=10))
    assert all(math.isnan(x) for x in krippendorff_alpha_ci([[N, N], [N, N]], n_boot=10))


@pytest.mark.parametrize("kwargs", [{"n_boot": 0}, {"ci": 1.0}, {"ci": 0}, {"n_boot": 2.5}])
def test_alpha_ci_raises_on_invalid_options(kwargs):
    with pytest.raises(ValueError):
        krippendorff_alpha_ci(KRIPPENDORFF_2011, **kwargs)


def test_quantile_matches_numpy_linear_interpolation():
    rng = random.Random(2)
    for size in (1, 2, 5, 101):
        values = sorted(rng.random() for _ in range(size))
        for q in (0.0, 0.025, 0.5, 0.975, 1.0):
            assert _quantile(values, q) == pytest.approx(np.quantile(values, q), abs=1e-15)


# --------------------------------------------------------------------------------------------
# cohen_kappa
# --------------------------------------------------------------------------------------------


def table_to_labels(table):
    """Expand a rater-A (rows) × rater-B (columns) contingency table into two label lists."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def test_cohen_kappa_matches_textbook_yes_no_example():
    # Wikipedia "Cohen's kappa": 50 proposals, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no:
    # p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a, b = table_to_labels([[20, 5], [10, 15]])
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_matches_sas_example_unweighted_and_linear():
    # SAS PROC FREQ example reproduced in statsmodels' tests: kappa 0.4842, weighted 0.4701.
    a, b = table_to_labels([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert cohen_kappa(a, b) == pytest.approx(0.4842, abs=5e-5)
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.4701, abs=5e-5)


def test_cohen_kappa_hand_computed_weighted_example():
    a, b = [0, 1, 2], [0, 2, 1]
    # Unweighted: p_o = 1/3, p_e = 3 · (1/3)² = 1/3 -> 0.
    assert cohen_kappa(a, b) == pytest.approx(0.0)
    # Linear: 1 - n Σ|i-j| O / Σ|i-j| r_i c_j = 1 - 3·2/8 = 0.25.
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.25)
    # Quadratic: 1 - 3·2/12 = 0.5.
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(0.5)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn_on_random_labels(weights):
    rng = np.random.default_rng(17)
    for _ in range(40):
        size = int(rng.integers(5, 120))
        categories = int(rng.integers(2, 6))
        a = rng.integers(0, categories, size)
        # Mostly agreeing raters, so that kappa spans more than values around zero.
        b = np.where(rng.random(size) < 0.6, a, rng.integers(0, categories, size))
        if len(set(a) | set(b)) < 2:
            continue
        expected = cohen_kappa_score(a, b, weights=weights)
        assert cohen_kappa(a.tolist(), b.tolist(), weights) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_orders_string_labels_like_sklearn(weights):
    rng = random.Random(23)
    labels = ["low", "mid", "high", "very high"]
    a = [rng.choice(labels) for _ in range(60)]
    b = [x if rng.random() < 0.5 else rng.choice(labels) for x in a]
    assert cohen_kappa(a, b, weights) == pytest.approx(
        cohen_kappa_score(a, b, weights=weights), abs=1e-12
    )


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_is_nan_when_one_category_only(weights):
    assert math.isnan(cohen_kappa(["x"] * 5, ["x"] * 5, weights))
    assert math.isnan(cohen_kappa([], [], weights))


def test_cohen_kappa_raises_on_unequal_lengths():
    with pytest.raises(ValueError):
        cohen_kappa([1, 2, 3], [1, 2])


def test_cohen_kappa_raises_on_missing_labels():
    with pytest.raises(ValueError):
        cohen_kappa([1, None, 3], [1, 2, 3])


def test_cohen_kappa_raises_on_unknown_weights():
    with pytest.raises(ValueError):
        cohen_kappa([1, 2], [1, 2], weights="cubic")


# --------------------------------------------------------------------------------------------
# fleiss_kappa
# --------------------------------------------------------------------------------------------


def test_fleiss_kappa_matches_published_worked_example():
    ours = fleiss_kappa(FLEISS_WIKIPEDIA)
    assert ours == pytest.approx(0.210, abs=0.0005)
    assert ours == pytest.approx(sm_fleiss_kappa(np.array(FLEISS_WIKIPEDIA)), abs=1e-12)


def test_fleiss_kappa_matches_randolph_calculator_examples():
    # Reference values from statsmodels' tests (Randolph's online calculator).
    assert fleiss_kappa([[7, 1], [3, 5]]) == pytest.approx(0.161905, abs=6e-6)
    assert fleiss_kappa([[6, 1, 0], [0, 7, 0]]) == pytest.approx(0.708333, abs=6e-6)
    assert fleiss_kappa([[7, 0], [0, 7]]) == pytest.approx(1.0)


def test_fleiss_kappa_matches_statsmodels_on_random_tables():
    rng = random.Random(31)
    for _ in range(50):
        raters = rng.randint(2, 10)
        categories = rng.randint(2, 6)
        table = []
        for _ in range(rng.randint(2, 40)):
            row = [0] * categories
            for _ in range(raters):
                row[rng.randrange(categories)] += 1
            table.append(row)
        columns_used = sum(any(row[j] for row in table) for j in range(categories))
        if columns_used < 2:
            continue
        assert fleiss_kappa(table) == pytest.approx(sm_fleiss_kappa(np.array(table)), abs=1e-12)


def test_fleiss_kappa_is_nan_when_one_category_only():
    assert math.isnan(fleiss_kappa([[7, 0], [7, 0]]))
    assert math.isnan(fleiss_kappa([[3], [3]]))


@pytest.mark.parametrize(
    "table",
    [
        [],
        [[1, 0], [0, 1]],  # one rating per subject
        [[2, 1], [1, 1]],  # unequal numbers of ratings
        [[2, 1], [1, 1, 1]],  # ragged
        [[3, -1], [1, 1]],  # negative count
        [[1.5, 0.5], [1, 1]],  # not integers
    ],
)
def test_fleiss_kappa_raises_on_invalid_table(table):
    with pytest.raises(ValueError):
        fleiss_kappa(table)


# --------------------------------------------------------------------------------------------
# scott_pi and brennan_prediger_kappa
# --------------------------------------------------------------------------------------------


def test_scott_pi_hand_computed_example():
    # p_o = 4/5; pooled marginals: 1 -> 5/10, 2 -> 5/10, p_e = 0.5; pi = (0.8 - 0.5)/0.5.
    assert scott_pi([1, 1, 1, 2, 2], [1, 1, 2, 2, 2]) == pytest.approx(0.6)
    # Textbook yes/no table (kappa 0.4): pooled yes = 55/100, p_e = 0.505, pi = 0.195/0.495.
    a, b = table_to_labels([[20, 5], [10, 15]])
    assert scott_pi(a, b) == pytest.approx(0.195 / 0.495)


def test_scott_pi_equals_fleiss_kappa_with_two_raters_on_random_data():
    rng = random.Random(37)
    for _ in range(40):
        categories = list(range(rng.randint(2, 5)))
        a = [rng.choice(categories) for _ in range(rng.randint(3, 80))]
        b = [x if rng.random() < 0.5 else rng.choice(categories) for x in a]
        if len(set(a) | set(b)) < 2:
            continue
        table = labels_to_table(a, b, categories)
        assert scott_pi(a, b) == pytest.approx(fleiss_kappa(table), abs=1e-12)
        assert scott_pi(a, b) == pytest.approx(sm_fleiss_kappa(np.array(table)), abs=1e-12)


def test_scott_pi_is_nan_when_one_category_only():
    assert math.isnan(scott_pi(["x", "x"], ["x", "x"]))


def test_scott_pi_raises_on_unequal_lengths():
    with pytest.raises(ValueError):
        scott_pi([1, 2], [1])


def test_brennan_prediger_kappa_hand_computed_example():
    a, b = [1, 1, 1, 2, 2], [1, 1, 2, 2, 2]  # p_o = 0.8
    assert brennan_prediger_kappa(a, b, 2) == pytest.approx((0.8 - 1 / 2) / (1 - 1 / 2))
    assert brennan_prediger_kappa(a, b, 4) == pytest.approx(11 / 15)  # (0.8 - .25)/.75


def test_brennan_prediger_kappa_is_defined_when_one_category_only():
    # Unlike Cohen/Scott, chance agreement is fixed at 1/q, so full agreement scores 1.
    assert brennan_prediger_kappa(["x"] * 4, ["x"] * 4, 3) == pytest.approx(1.0)


def test_brennan_prediger_kappa_matches_statsmodels_randolph_with_two_raters():
    rng = random.Random(41)
    for _ in range(30):
        q = rng.randint(2, 6)
        a = [rng.randrange(q) for _ in range(rng.randint(3, 60))]
        b = [x if rng.random() < 0.5 else rng.randrange(q) for x in a]
        table = np.array(labels_to_table(a, b, range(q)))
        expected = sm_fleiss_kappa(table, method="randolph")
        assert brennan_prediger_kappa(a, b, q) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_categories", [0, 1, True])
def test_brennan_prediger_kappa_raises_when_fewer_than_two_categories(n_categories):
    with pytest.raises(ValueError):
        brennan_prediger_kappa([1, 1], [1, 1], n_categories)


def test_brennan_prediger_kappa_raises_when_more_labels_than_categories():
    with pytest.raises(ValueError):
        brennan_prediger_kappa([1, 2, 3], [1, 2, 3], 2)


def test_brennan_prediger_kappa_raises_on_unequal_lengths():
    with pytest.raises(ValueError):
        brennan_prediger_kappa([1, 2], [1], 2)


# --------------------------------------------------------------------------------------------
# char_agreement_table, table_kappa, table_percent_agreement
# --------------------------------------------------------------------------------------------


def naive_table(length, spans_a, spans_b):
    coded_a, coded_b = [False] * length, [False] * length
    for start, end in spans_a:
        coded_a[start:end] = [True] * (end - start)
    for start, end in spans_b:
        coded_b[start:end] = [True] * (end - start)
    pairs = list(zip(coded_a, coded_b, strict=True))
    table = {
        "both": pairs.count((True, True)),
        "only_a": pairs.count((True, False)),
        "only_b": pairs.count((False, True)),
        "neither": pairs.count((False, False)),
    }
    return table, coded_a, coded_b


def random_spans(rng, length):
    spans = []
    for _ in range(rng.randint(0, 8)):
        start = rng.randint(0, length)
        spans.append((start, rng.randint(start, min(length, start + rng.randint(0, 40)))))
    return spans


def test_char_agreement_table_counts_overlapping_spans():
    # A codes [0, 10), B codes [5, 15) in a 20-character text.
    assert char_agreement_table(20, [(0, 10)], [(5, 15)]) == {
        "both": 5,
        "only_a": 5,
        "only_b": 5,
        "neither": 5,
    }


def test_char_agreement_table_counts_touching_spans_without_overlap():
    assert char_agreement_table(10, [(0, 5)], [(5, 10)]) == {
        "both": 0,
        "only_a": 5,
        "only_b": 5,
        "neither": 0,
    }


def test_char_agreement_table_merges_one_coders_overlapping_spans():
    # A's spans overlap each other ([2, 8) ∪ [4, 12) ∪ [12, 14) = [2, 14)), so no double count.
    table = char_agreement_table(20, [(4, 12), (2, 8), (12, 14), (5, 6)], [(10, 20)])
    assert table == {"both": 4, "only_a": 8, "only_b": 6, "neither": 2}


def test_char_agreement_table_handles_empty_span_lists():
    assert char_agreement_table(7, [], []) == {"both": 0, "only_a": 0, "only_b": 0, "neither": 7}
    assert char_agreement_table(7, [(3, 3)], [(0, 7)]) == {
        "both": 0,
        "only_a": 0,
        "only_b": 7,
        "neither": 0,
    }
    assert char_agreement_table(0, [], []) == {"both": 0, "only_a": 0, "only_b": 0, "neither": 0}


def test_char_agreement_table_equals_naive_per_character_count_on_random_spans():
    rng = random.Random(43)
    for _ in range(200):
        length = rng.randint(0, 150)
        spans_a, spans_b = random_spans(rng, length), random_spans(rng, length)
        expected, _, _ = naive_table(length, spans_a, spans_b)
        assert char_agreement_table(length, spans_a, spans_b) == expected


def test_char_agreement_table_is_fast_for_long_texts():
    # Ten million characters would take seconds per character; intervals take microseconds.
    table = char_agreement_table(10_000_000, [(0, 6_000_000)], [(4_000_000, 10_000_000)])
    assert table == {"both": 2_000_000, "only_a": 4_000_000, "only_b": 4_000_000, "neither": 0}


@pytest.mark.parametrize(
    "length, spans",
    [(10, [(5, 11)]), (10, [(-1, 3)]), (10, [(6, 4)]), (10, [(1.0, 3)]), (-1, [])],
)
def test_char_agreement_table_raises_on_invalid_spans(length, spans):
    with pytest.raises(ValueError):
        char_agreement_table(length, spans, [])


def test_table_kappa_equals_sklearn_on_per_character_vectors():
    rng = random.Random(47)
    checked = 0
    for _ in range(200):
        length = rng.randint(1, 150)
        spans_a, spans_b = random_spans(rng, length), random_spans(rng, length)
        _, coded_a, coded_b = naive_table(length, spans_a, spans_b)
        if len(set(coded_a) | set(coded_b)) < 2:
            continue
        table = char_agreement_table(length, spans_a, spans_b)
        assert table_kappa(**table) == pytest.approx(cohen_kappa_score(coded_a, coded_b), abs=1e-12)
        assert table_kappa(**table) == pytest.approx(cohen_kappa(coded_a, coded_b), abs=1e-12)
        assert table_percent_agreement(**table) == pytest.approx(
            np.mean(np.array(coded_a) == np.array(coded_b))
        )
        checked += 1
    assert checked > 100


def test_table_kappa_hand_computed_example():
    # Textbook yes/no table: both 20, only A 5, only B 10, neither 15 -> kappa 0.4.
    assert table_kappa(20, 5, 10, 15) == pytest.approx(0.4)
    assert table_percent_agreement(20, 5, 10, 15) == pytest.approx(0.7)


def test_table_kappa_is_nan_when_one_category_only():
    assert math.isnan(table_kappa(10, 0, 0, 0))  # everything coded by both
    assert math.isnan(table_kappa(0, 0, 0, 10))  # nothing coded by either
    assert math.isnan(table_kappa(0, 0, 0, 0))
    assert table_percent_agreement(0, 0, 0, 10) == 1.0
    assert math.isnan(table_percent_agreement(0, 0, 0, 0))


def test_table_kappa_raises_on_negative_counts():
    with pytest.raises(ValueError):
        table_kappa(1, -1, 0, 3)


def test_coverage_histogram_and_binary_alpha_match_full_matrix():
    import random

    import krippendorff
    import numpy as np

    from analysis.stats.agreement import binary_alpha_from_histogram, coverage_histogram

    rng = random.Random(7)
    for _ in range(30):
        length = rng.randint(20, 300)
        coders = rng.randint(2, 5)
        spans = []
        for _c in range(coders):
            mine = []
            for _s in range(rng.randint(0, 4)):
                a = rng.randint(0, length - 1)
                mine.append((a, rng.randint(a + 1, length)))
            spans.append(mine)
        matrix = np.zeros((coders, length))
        for c, mine in enumerate(spans):
            for a, b in mine:
                matrix[c, a:b] = 1
        histogram = coverage_histogram(length, spans)
        assert sum(histogram) == length
        assert histogram == [int((matrix.sum(axis=0) == k).sum()) for k in range(coders + 1)]
        expected = (
            krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
            if 0 < matrix.sum() < matrix.size
            else math.nan
        )
        got = binary_alpha_from_histogram(histogram)
        assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(
            expected, abs=1e-9
        )


def test_binary_alpha_is_nan_when_nothing_or_everything_is_coded():
    from analysis.stats.agreement import binary_alpha_from_histogram

    assert math.isnan(binary_alpha_from_histogram([100, 0, 0]))
    assert math.isnan(binary_alpha_from_histogram([0, 0, 100]))


def test_binary_alpha_from_unit_counts_matches_krippendorff_with_missing():
    import random

    import krippendorff
    import numpy as np

    from analysis.stats.agreement import binary_alpha_from_counts, binary_unit_counts

    rng = random.Random(3)
    for _ in range(40):
        coders, units = rng.randint(2, 5), rng.randint(5, 60)
        data = [[rng.choice([0, 1, None]) for _u in range(units)] for _c in range(coders)]
        o01 = n0 = n1 = 0
        for column in zip(*data, strict=True):
            a, b, c = binary_unit_counts(column)
            o01, n0, n1 = o01 + a, n0 + b, n1 + c
        matrix = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
        try:
            expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        except ValueError:
            expected = math.nan
        got = binary_alpha_from_counts(o01, n0, n1)
        if math.isnan(got):
            assert math.isnan(expected) or n0 == 0 or n1 == 0
        else:
            assert got == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------------------------
# Krippendorff's bootstrap (Krippendorff 2006; Hayes & Krippendorff 2007)
# --------------------------------------------------------------------------------------------

# Hayes & Krippendorff (2007), Table 1: 40 units, 5 observers, ordinal judgements.
HAYES_KRIPPENDORFF_2007 = [
    [None if v == "." else int(v) for v in line.split()]
    for line in """
1 1 2 . 2|1 1 0 1 .|2 3 3 3 .|. 0 0 . 0|0 0 0 . 0|0 0 0 . 0|1 0 2 . 1|1 . 2 0 .|2 2 2 . 2
2 1 1 1 .|. 1 0 0 .|0 0 0 0 .|1 2 2 2 .|3 3 2 2 3|1 1 1 . 1|1 1 1 . 1|2 1 2 . 2|1 2 3 3 .
1 1 0 1 .|0 0 0 . 0|0 0 1 1 .|0 0 . 0 0|2 3 3 3 .|0 0 0 0 .|1 2 . 2 2|0 1 1 1 .|0 0 0 1 0
1 2 1 2 .|1 1 2 2 .|1 1 2 . 2|1 1 0 . 0|2 1 2 1 .|2 2 . 2 2|3 2 2 2 .|2 2 2 . 2|2 2 3 . 2
2 2 2 . 2|2 2 . 1 2|2 2 2 2 .|1 1 1 . 1""".replace("\n", "|")
    .strip("|")
    .split("|")
]
HK_MATRIX = [list(coder) for coder in zip(*HAYES_KRIPPENDORFF_2007, strict=True)]


def test_hayes_krippendorff_example_alpha_is_the_published_0_7598():
    assert len(HAYES_KRIPPENDORFF_2007) == 40
    assert krippendorff_alpha(HK_MATRIX, "ordinal") == pytest.approx(0.7598, abs=5e-5)
    assert krippendorff_alpha(HK_MATRIX, "ordinal") == pytest.approx(
        oracle_alpha(HK_MATRIX, "ordinal"), abs=1e-12
    )


def test_krippendorff_bootstrap_draws_m_pairs_by_krippendorffs_rule():
    # n.. counts the values in units that at least two observers judged; q the non-zero
    # cells of the coincidence matrix (counted here by brute force).
    pairable_units = [u for u in HAYES_KRIPPENDORFF_2007 if sum(v is not None for v in u) >= 2]
    n_values = sum(sum(v is not None for v in u) for u in pairable_units)
    cells = set()
    for unit in pairable_units:
        values = [v for v in unit if v is not None]
        for i, a in enumerate(values):
            for j, b in enumerate(values):
                if i != j:
                    cells.add((a, b))
    expected_m = int(min(25 * len(cells), (5 - 1) * n_values / 2))
    result = krippendorff_alpha_bootstrap(HK_MATRIX, "ordinal", n_boot=50, seed=3)
    assert result["pairs"] == expected_m
    assert result["alpha"] == pytest.approx(0.7598, abs=5e-5)


def test_krippendorff_bootstrap_replicates_follow_the_binomial_law_of_drawn_pairs():
    # Nominal data: each drawn pair disagrees with probability D_o (the observed
    # disagreement per pair), so alpha* = 1 - B / (M D_e) with B ~ Binomial(M, D_o):
    # mean alpha, standard deviation sqrt(D_o (1 - D_o) / M) / D_e.
    n_boot = 20_000
    result = krippendorff_alpha_bootstrap(HK_MATRIX, "nominal", n_boot=n_boot, seed=11, ci=0.95)
    alpha, m = result["alpha"], result["pairs"]
    assert alpha == pytest.approx(oracle_alpha(HK_MATRIX, "nominal"), abs=1e-12)
    # D_o and D_e from the package's coincidence-free formulation: alpha = 1 - D_o / D_e.
    values = [v for u in HAYES_KRIPPENDORFF_2007 if sum(x is not None for x in u) >= 2 for v in u]
    counts = Counter(v for v in values if v is not None)
    n = sum(counts.values())
    d_e = 1 - sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))
    d_o = (1 - alpha) * d_e
    sd = math.sqrt(d_o * (1 - d_o) / m) / d_e
    low, high = result["low"], result["high"]
    # The interval is the binomial one, to Monte Carlo and discreteness error.
    assert low == pytest.approx(alpha - 1.96 * sd, abs=0.25 * sd)
    assert high == pytest.approx(alpha + 1.96 * sd, abs=0.25 * sd)
    assert result["below"][0.8] == 1.0  # alpha .48 never reaches .80 here


def test_krippendorff_bootstrap_is_seeded_and_reports_failure_probabilities():
    first = krippendorff_alpha_bootstrap(HK_MATRIX, "ordinal", n_boot=2000, seed=5)
    again = krippendorff_alpha_bootstrap(HK_MATRIX, "ordinal", n_boot=2000, seed=5)
    other = krippendorff_alpha_bootstrap(HK_MATRIX, "ordinal", n_boot=2000, seed=6)
    assert first == again
    assert (first["low"], first["high"]) != (other["low"], other["high"])
    assert first["low"] <= first["alpha"] <= first["high"]
    # alpha = .76: failing to reach .80 is likely, failing to reach .667 is not.
    assert first["below"][0.8] > 0.5 > first["below"][0.667]
    assert krippendorff_alpha_ci(HK_MATRIX, "ordinal", n_boot=2000, seed=5) == (
        first["alpha"],
        first["low"],
        first["high"],
    )


def test_krippendorff_bootstrap_from_binary_coincidences_matches_the_matrix_route():
    # The first value seen is 0, so both routes index the values alike (0, then 1).
    matrix = [[0, 1, 1, 1, 0, 0, 1, None], [0, 1, 0, 1, 0, 1, 1, 1], [0, 1, 0, 1, 0, 0, 1, 1]]
    totals = [0.0, 0, 0]
    for unit in zip(*matrix, strict=True):
        for i, value in enumerate(binary_unit_counts(unit)):
            totals[i] += value
    from_counts = krippendorff_bootstrap_from_coincidences(
        binary_coincidences(*totals), [0, 1], "nominal", n_coders=3, n_boot=500, seed=9
    )
    from_matrix = krippendorff_alpha_bootstrap(matrix, "nominal", n_boot=500, seed=9)
    assert from_counts["alpha"] == pytest.approx(from_matrix["alpha"], abs=1e-12)
    assert from_counts["pairs"] == from_matrix["pairs"]
    assert (from_counts["low"], from_counts["high"]) == pytest.approx(
        (from_matrix["low"], from_matrix["high"]), abs=1e-9
    )


def test_krippendorff_bootstrap_when_alpha_is_undefined_or_perfect():
    undefined = krippendorff_alpha_bootstrap([[1, 1, 1], [1, 1, 1]], n_boot=20)
    assert math.isnan(undefined["alpha"]) and math.isnan(undefined["low"])
    perfect = krippendorff_alpha_bootstrap([[0, 1, 0, 1], [0, 1, 0, 1]], n_boot=200, seed=1)
    # No disagreement to draw: every replicate is 1, except those Krippendorff sets to 0
    # because they drew a single value only (alpha undefined there).
    assert perfect["alpha"] == 1.0
    assert perfect["high"] == 1.0

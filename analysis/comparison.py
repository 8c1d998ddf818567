"""Coding comparison: how far coders agree, per code (with its sub-theme and theme roll-ups).

Units, stated on every result:
- ``character``: each character of each post in scope is coded or not by each coder (NVivo's
  definition); tables are summed over posts, so longer posts weigh more.
- ``post``: was the code applied anywhere in the post (MAXQDA's “code existence”).
A theme or sub-theme counts as applied wherever any code beneath it is.
"""

import math
from collections import defaultdict

from django.db.models import Q
from django.db.models.functions import Length

from coding_app.models import Assignment, Code, Coding
from corpus.models import Post
from corpus.selectors import post_visible_q

from .stats.agreement import (
    binary_alpha_from_counts,
    binary_alpha_from_histogram,
    binary_coincidences,
    binary_unit_counts,
    char_agreement_table,
    cohen_kappa,
    coverage_histogram,
    fleiss_kappa,
    histogram_counts,
    krippendorff_bootstrap_from_coincidences,
    percent_agreement,
    table_kappa,
    table_percent_agreement,
)

UNITS = ("character", "post")
# Raised when a change to how coders are compared changes results, so that a comparison kept
# from before is computed again (2: a post waiting in a queue is not judged).
COMPARISON_METHOD = 2
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0
ALPHA_MIN = 0.8  # the reliability Krippendorff recommends; the page says how likely it is missed


def _excerpt(text: str, length: int = 140) -> str:
    """The start of a post for a table row, cut at a word with "…" when it goes on."""
    if len(text) <= length:
        return text
    cut = text[:length]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def _nan_to_none(value: float) -> float | None:
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value))
        else round(value, 6)
    )


def _histogram_figures(histogram: list[int]) -> dict:
    """Pairwise percent agreement, Fleiss' kappa and alpha from a coverage histogram."""
    m = len(histogram) - 1
    units = sum(histogram)
    if units == 0:
        return {"percent": None, "kappa": None, "alpha": None}
    pairs = m * (m - 1) / 2
    agreeing = sum(
        n * (k * (k - 1) / 2 + (m - k) * (m - k - 1) / 2) for k, n in enumerate(histogram)
    )
    # Fleiss' kappa in closed form: every unit has m judgements, k of them "coded".
    p1 = sum(n * k for k, n in enumerate(histogram)) / (units * m)
    p_e = p1 * p1 + (1 - p1) * (1 - p1)
    p_bar = agreeing / (units * pairs)
    kappa = math.nan if p_e == 1 else (p_bar - p_e) / (1 - p_e)
    return {
        "percent": _nan_to_none(agreeing / (units * pairs)),
        "kappa": _nan_to_none(kappa),
        "alpha": _nan_to_none(binary_alpha_from_histogram(histogram)),
    }


def comparison_compute(
    *,
    project,
    coder_ids: list[int],
    unit: str = "character",
    post_ids=None,
    groups: list[list[int]] | None = None,
) -> dict:
    """Agreement between the given coders on every code of the project's codebook.

    Posts in scope: `post_ids` when given (a sample, a batch, an assignment), otherwise every
    post that at least one of the coders coded. With `groups`, each group of coders counts
    as one coder: a group codes what any of its members coded, and judged a post when any
    member did (the result's `coders` are then the group numbers 0, 1, ...).
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    member_of = {}
    if groups:
        for index, members in enumerate(groups):
            for member in members:
                if member in member_of:
                    raise ValueError("A coder can be in one group only.")
                member_of[member] = index
        coder_ids = list(range(len(groups)))
    if len(set(coder_ids)) < 2:
        raise ValueError("Choose at least two coders (or two groups) to compare.")
    coder_ids = list(dict.fromkeys(coder_ids))
    who = (lambda coder: member_of[coder]) if groups else (lambda coder: coder)
    codings = Coding.objects.filter(
        post__project=project, coder_id__in=list(member_of) if groups else coder_ids
    ).filter(post_visible_q("post__"))
    if post_ids is not None:
        codings = codings.filter(post_id__in=post_ids)
        scope = set(post_ids)
    else:
        scope = set(codings.values_list("post_id", flat=True))
    # A coder judged a post when they coded anything in it or marked it coded in their
    # queue (as the queue counts it); otherwise their judgement is missing, not “absent”:
    # a post still waiting in a coder's queue is not a post in which nothing applies.
    judged = defaultdict(set)
    for post_id, coder_id in codings.values_list("post_id", "coder_id").distinct():
        judged[post_id].add(who(coder_id))
    for post_id, coder_id in Assignment.objects.filter(
        post__project=project,
        coder_id__in=list(member_of) if groups else coder_ids,
        post_id__in=scope,
        done_at__isnull=False,
    ).values_list("post_id", "coder_id"):
        judged[post_id].add(who(coder_id))
    if unit == "character":  # character tables need every coder's judgement of the post
        scope = {p for p in scope if len(judged[p]) == len(coder_ids)}
    lengths = dict(
        Post.objects.filter(Q(pk__in=scope), project=project)
        .annotate(n=Length("text"))
        .values_list("pk", "n")
    )
    scope = sorted(lengths)

    codes = list(Code.objects.filter(project=project).order_by("parent_id", "position", "name"))
    children = defaultdict(list)
    for code in codes:
        children[code.parent_id].append(code)
    below = {}

    def collect(code):
        ids = {code.pk}
        for child in children[code.pk]:
            ids |= collect(child)
        below[code.pk] = ids
        return ids

    for root in children[None]:
        collect(root)

    # spans[(post, code)][coder] = [(start, end), ...]
    spans = defaultdict(lambda: defaultdict(list))
    for post_id, code_id, coder_id, start, end in codings.values_list(
        "post_id", "code_id", "coder_id", "start", "end"
    ):
        spans[(post_id, code_id)][who(coder_id)].append((start, end))

    rows = []

    def walk(code, depth, path):
        ids = below[code.pk]
        row = {
            "code": code.pk,
            "name": code.name,
            "path": [*path, code.name],
            "depth": depth,
            "level": "theme" if depth == 0 else ("sub-theme" if children[code.pk] else "code"),
        }
        row |= _code_figures(ids, coder_ids, unit, scope, lengths, spans, judged)
        rows.append(row)
        for child in children[code.pk]:
            walk(child, depth + 1, row["path"])

    for root in children[None]:
        walk(root, 0, [])

    # Pooled over the leaves of the codebook, so no character is counted twice.
    leaves = {c.pk for c in codes if not children[c.pk]}
    overall = _pooled([r for r in rows if r["code"] in leaves], len(coder_ids), unit, lengths)
    grid = heatmap(rows, leaves) if unit == "character" else None
    for row in rows:
        row |= _row_interval(row, len(coder_ids), unit)
    for row in rows:  # internal inputs of the pooled figures
        row.pop("decisions", None)
        row.pop("unit_counts", None)
        row.pop("per_post", None)
    return {
        "heatmap": grid,
        "unit": unit,
        "unit_description": (
            "characters of each post that every coder judged, coded or not by each coder "
            "(tables summed over posts)"
            if unit == "character"
            else "posts: was the code applied anywhere in the post (missing where a coder "
            "neither coded in it nor marked it coded in their queue)"
        ),
        "coders": coder_ids,
        "posts": len(scope),
        "characters": sum(lengths.values()),
        "codes": rows,
        "overall": overall,
    }


def _code_figures(ids, coder_ids, unit, scope, lengths, spans, judged) -> dict:
    m = len(coder_ids)
    if unit == "character":
        histogram = [0] * (m + 1)
        table = {"both": 0, "only_a": 0, "only_b": 0, "neither": 0}
        per_post = {}
        coded = {post_id for (post_id, code_id) in spans if code_id in ids}
        for post_id in scope:
            if post_id not in coded:  # nobody applied the code here: every character agrees
                histogram[0] += lengths[post_id]
                table["neither"] += lengths[post_id]
                continue
            per_coder = [
                [s for code_id in ids for s in spans.get((post_id, code_id), {}).get(c, [])]
                for c in coder_ids
            ]
            post_histogram = coverage_histogram(lengths[post_id], per_coder)
            per_post[post_id] = post_histogram
            for k, n in enumerate(post_histogram):
                histogram[k] += n
            if m == 2:
                for key, value in char_agreement_table(
                    lengths[post_id], per_coder[0], per_coder[1]
                ).items():
                    table[key] += value
        figures = {"histogram": histogram, "per_post": per_post}
        if m == 2:
            figures |= table | {
                "percent": _nan_to_none(table_percent_agreement(**table)),
                "kappa": _nan_to_none(table_kappa(**table)),
                "alpha": _nan_to_none(binary_alpha_from_histogram(histogram)),
            }
        else:
            figures |= _histogram_figures(histogram)
        return figures
    # Post level: 1 where the coder applied the code (or one beneath it) anywhere in the
    # post, 0 where they judged the post without it, None where they did not judge it.
    data = [
        [
            int(any(spans.get((post_id, code_id), {}).get(c) for code_id in ids))
            if c in judged[post_id]
            else None
            for post_id in scope
        ]
        for c in coder_ids
    ]
    # Alpha in closed form from per-unit counts (the same value as krippendorff_alpha).
    counts = [binary_unit_counts(column) for column in zip(*data, strict=True)]
    o01, n0, n1 = (sum(c[i] for c in counts) for i in range(3))
    figures = {
        "percent": _nan_to_none(percent_agreement(data)),
        "alpha": _nan_to_none(binary_alpha_from_counts(o01, n0, n1)),
        "decisions": data,
        "unit_counts": dict(zip(scope, counts, strict=True)),
    }
    figures |= _kappa_figures(data)
    return figures


def _kappa_figures(data: list[list]) -> dict:
    """Cohen's kappa and the 2×2 counts (two coders) or Fleiss' kappa (more), over the units
    every coder judged."""
    complete = [col for col in zip(*data, strict=True) if None not in col]
    if len(data) == 2:
        a = [col[0] for col in complete]
        b = [col[1] for col in complete]
        return {
            "both": sum(x and y for x, y in zip(a, b, strict=True)),
            "only_a": sum(x and not y for x, y in zip(a, b, strict=True)),
            "only_b": sum(y and not x for x, y in zip(a, b, strict=True)),
            "neither": sum(not x and not y for x, y in zip(a, b, strict=True)),
            "kappa": _nan_to_none(cohen_kappa(a, b)) if complete else None,
        }
    table = [[len(col) - sum(col), sum(col)] for col in complete]
    return {"kappa": _nan_to_none(fleiss_kappa(table)) if table else None}


def _pooled(rows: list[dict], m: int, unit: str, lengths: dict[int, int]) -> dict:
    """All codes together: the per-code tables (character unit) or decisions (post unit) pooled."""
    if not rows:
        return {"percent": None, "kappa": None, "alpha": None}
    if unit == "character":
        histogram = [sum(r["histogram"][k] for r in rows) for k in range(m + 1)]
        interval = _krippendorff_interval(histogram_counts(histogram), m) | _posts_interval(
            _post_clusters(rows, m, lengths)
        )
        if m == 2:
            table = {
                key: sum(r[key] for r in rows) for key in ("both", "only_a", "only_b", "neither")
            }
            return (
                table
                | interval
                | {
                    "percent": _nan_to_none(table_percent_agreement(**table)),
                    "kappa": _nan_to_none(table_kappa(**table)),
                    "alpha": _nan_to_none(binary_alpha_from_histogram(histogram)),
                }
            )
        return _histogram_figures(histogram) | interval
    data = [sum((r["decisions"][c] for r in rows), []) for c in range(m)]
    # Per post, the codes' counts summed: alpha and a cluster bootstrap over posts.
    per_post = {}
    for r in rows:
        for post_id, (o01, n0, n1) in r["unit_counts"].items():
            a, b, c = per_post.get(post_id, (0.0, 0, 0))
            per_post[post_id] = (a + o01, b + n0, c + n1)
    total = [sum(v[i] for v in per_post.values()) for i in range(3)]
    pooled = {
        "percent": _nan_to_none(percent_agreement(data)),
        "alpha": _nan_to_none(binary_alpha_from_counts(*total)),
    }
    clusters = list(per_post.values())
    return (
        pooled | _krippendorff_interval(total, m) | _posts_interval(clusters) | _kappa_figures(data)
    )


def _krippendorff_interval(counts, m: int) -> dict:
    """Krippendorff's bootstrap (pairs of values drawn from the coincidence matrix) for a
    binary alpha from its summed counts (o01, n0, n1): the 95% interval and the probability
    that alpha falls short of ALPHA_MIN."""
    result = krippendorff_bootstrap_from_coincidences(
        binary_coincidences(*counts),
        [0, 1],
        "nominal",
        n_coders=m,
        n_boot=BOOTSTRAP_SAMPLES,
        seed=BOOTSTRAP_SEED,
        alpha_min=(ALPHA_MIN,),
    )
    return {
        "alpha_low": _nan_to_none(result["low"]),
        "alpha_high": _nan_to_none(result["high"]),
        "alpha_below_min": _nan_to_none(result["below"][ALPHA_MIN]),
    }


def _posts_interval(clusters: list[tuple[float, int, int]]) -> dict:
    """A second, cluster interval for the pooled alpha: posts resampled with replacement (a
    post's units travel together, so it also reflects how posts differ), seeded."""
    interval = _cluster_interval(clusters)
    return {"alpha_low_posts": interval["alpha_low"], "alpha_high_posts": interval["alpha_high"]}


def _cluster_interval(clusters: list[tuple[float, int, int]]) -> dict:
    """95% percentile interval of alpha over posts resampled with replacement (seeded)."""
    import random

    if len(clusters) < 2:
        return {"alpha_low": None, "alpha_high": None}
    rng = random.Random(BOOTSTRAP_SEED)
    values = []
    for _ in range(BOOTSTRAP_SAMPLES):
        o01 = n0 = n1 = 0
        for a, b, c in rng.choices(clusters, k=len(clusters)):
            o01, n0, n1 = o01 + a, n0 + b, n1 + c
        alpha = binary_alpha_from_counts(o01, n0, n1)
        if not math.isnan(alpha):
            values.append(alpha)
    if not values:
        return {"alpha_low": None, "alpha_high": None}
    values.sort()
    return {
        "alpha_low": _nan_to_none(values[int(0.025 * (len(values) - 1))]),
        "alpha_high": _nan_to_none(values[int(0.975 * (len(values) - 1))]),
    }


def _post_clusters(rows: list[dict], m: int, lengths: dict[int, int]) -> list[tuple]:
    """Per post, the alpha counts of the given code rows summed; a code nobody applied in a
    post adds m zeros per character there."""
    clusters = []
    for p, length in lengths.items():
        o01 = n0 = n1 = 0
        for r in rows:
            h = r["per_post"].get(p)
            a, b, c = (0.0, length * m, 0) if h is None else histogram_counts(h)
            o01, n0, n1 = o01 + a, n0 + b, n1 + c
        clusters.append((o01, n0, n1))
    return clusters


def _row_interval(row: dict, m: int, unit: str) -> dict:
    """A code's own alpha interval, by Krippendorff's bootstrap."""
    if unit == "post":
        counts = [0.0, 0, 0]
        for unit_counts in row.get("unit_counts", {}).values():
            counts = [a + b for a, b in zip(counts, unit_counts, strict=True)]
        return _krippendorff_interval(counts, m)
    return _krippendorff_interval(histogram_counts(row["histogram"]), m)


def heatmap(result_rows: list[dict], leaves: set[int]) -> dict:
    """Percent agreement by code (leaves) and post, character units; None where nobody coded."""
    rows = [r for r in result_rows if r["code"] in leaves and "per_post" in r]
    posts = sorted({p for r in rows for p, h in r["per_post"].items() if sum(h[1:])})
    values = []
    for r in rows:
        line = []
        for p in posts:
            h = r["per_post"].get(p)
            if not h or not sum(h[1:]):
                line.append(None)
                continue
            line.append(_histogram_figures(h)["percent"])
        values.append(line)
    return {
        "codes": [r["name"] for r in rows],
        "code_ids": [r["code"] for r in rows],
        "posts": posts,
        "values": values,
    }


def methods_sentence(result: dict, *, coder_names: list[str], groups: bool = False) -> str:
    """A sentence for a methods section."""
    overall = result["overall"]
    alpha = overall.get("alpha")
    words = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}.get(
        len(coder_names), str(len(coder_names))
    )
    if groups:
        words = f"{words} groups of"
    unit = "character units" if result["unit"] == "character" else "post units"
    figure = "undefined" if alpha is None else f"{alpha:.2f}"
    low, high = overall.get("alpha_low"), overall.get("alpha_high")
    interval = (
        f", 95% CI {low:.2f}–{high:.2f} (Krippendorff's bootstrap, {BOOTSTRAP_SAMPLES:,} samples)"
        if low is not None and high is not None
        else ""
    )
    return (
        f"{words} coders independently coded {result['posts']} "
        f"post{'' if result['posts'] == 1 else 's'}; Krippendorff's α "
        f"(nominal, {unit}, all codes pooled) = {figure}{interval}."
    )


def post_disagreements(
    *, post, coder_a: int, coder_b: int, consensus_coder_id: int | None
) -> list[dict]:
    """Two coders' codings of one post, matched: the same code on the same span is agreed;
    the same code on overlapping spans overlaps; anything else belongs to one coder only."""
    codings = list(
        Coding.objects.filter(post=post, coder_id__in=[coder_a, coder_b])
        .select_related("code")
        .order_by("start", "end", "id")
    )
    consensus = set()
    if consensus_coder_id:
        consensus = set(
            Coding.objects.filter(post=post, coder_id=consensus_coder_id).values_list(
                "code_id", "start", "end"
            )
        )
    return _match(
        [c for c in codings if c.coder_id == coder_a],
        [c for c in codings if c.coder_id == coder_b],
        consensus,
    )


def disagreement_counts(*, project, coder_a: int, coder_b: int) -> list[dict]:
    """Per post that both coders coded: how many codings agree, overlap or stand alone."""
    codings = (
        Coding.objects.filter(post__project=project, coder_id__in=[coder_a, coder_b])
        .select_related("code", "post")
        .order_by("post_id", "start", "end", "id")
    )
    by_post = defaultdict(list)
    for coding in codings:
        by_post[coding.post_id].append(coding)
    rows = []
    for post_id, items in by_post.items():
        mine = [c for c in items if c.coder_id == coder_a]
        theirs = [c for c in items if c.coder_id == coder_b]
        if not mine or not theirs:
            continue
        statuses = [item["status"] for item in _match(mine, theirs, set())]
        rows.append(
            {
                "post": post_id,
                "text": _excerpt(items[0].post.text),
                "agreed": statuses.count("agreed"),
                "overlaps": statuses.count("overlaps"),
                "only_a": statuses.count("only A"),
                "only_b": statuses.count("only B"),
            }
        )
    rows.sort(key=lambda r: -(r["overlaps"] + r["only_a"] + r["only_b"]))
    return rows


def post_codings_compared(
    *, post, coder_ids: list[int], consensus_coder_id: int | None
) -> list[dict]:
    """Any number of coders' codings of one post, grouped by code and span: who coded it,
    and whether every coder did ("agreed"), some did with others overlapping ("overlaps"),
    or only some did ("k of n")."""
    codings = list(
        Coding.objects.filter(post=post, coder_id__in=coder_ids)
        .select_related("code")
        .order_by("start", "end", "id")
    )
    consensus = set()
    if consensus_coder_id:
        consensus = set(
            Coding.objects.filter(post=post, coder_id=consensus_coder_id).values_list(
                "code_id", "start", "end"
            )
        )
    groups: dict[tuple, list] = defaultdict(list)
    for coding in codings:
        groups[(coding.code_id, coding.start, coding.end)].append(coding)
    items = []
    for (code_id, start, end), same in groups.items():
        who = sorted({c.coder_id for c in same})
        if len(who) == len(coder_ids):
            status = "agreed"
        elif any(
            c.code_id == code_id and c.coder_id not in who and c.start < end and start < c.end
            for c in codings
        ):
            status = "overlaps"
        else:
            status = f"{len(who)} of {len(coder_ids)}"
        item = _item(same[0], "", status, [c.pk for c in same], consensus)
        item["coders"] = who
        items.append(item)
    items.sort(key=lambda item: (item["start"], item["end"], item["code_name"]))
    return items


def disagreement_counts_many(*, project, coder_ids: list[int]) -> list[dict]:
    """Per post that at least two of the coders coded: spans all of them coded alike, and
    spans only some of them coded (the posts to look at first come first)."""
    codings = Coding.objects.filter(post__project=project, coder_id__in=coder_ids).values_list(
        "post_id", "code_id", "start", "end", "coder_id"
    )
    spans: dict[int, dict[tuple, set]] = defaultdict(lambda: defaultdict(set))
    coders_of: dict[int, set] = defaultdict(set)
    for post_id, code_id, start, end, coder_id in codings:
        spans[post_id][(code_id, start, end)].add(coder_id)
        coders_of[post_id].add(coder_id)
    texts = dict(
        Post.objects.filter(pk__in=[p for p, c in coders_of.items() if len(c) >= 2]).values_list(
            "pk", "text"
        )
    )
    rows = []
    for post_id, text in texts.items():
        counts = [len(who) for who in spans[post_id].values()]
        rows.append(
            {
                "post": post_id,
                "text": _excerpt(text),
                "coders": len(coders_of[post_id]),
                "agreed": sum(1 for n in counts if n == len(coder_ids)),
                "partly": sum(1 for n in counts if n < len(coder_ids)),
            }
        )
    rows.sort(key=lambda r: (-r["partly"], r["post"]))
    return rows


def _match(mine: list, theirs: list, consensus: set) -> list[dict]:
    items, matched = [], set()
    for a in mine:
        twin = next(
            (b for b in theirs if b.code_id == a.code_id and (b.start, b.end) == (a.start, a.end)),
            None,
        )
        if twin is not None:
            matched.add(twin.pk)
            items.append(_item(a, "both", "agreed", [a.pk, twin.pk], consensus))
            continue
        overlapping = any(
            b.code_id == a.code_id and b.start < a.end and a.start < b.end for b in theirs
        )
        items.append(_item(a, "A", "overlaps" if overlapping else "only A", [a.pk], consensus))
    for b in theirs:
        if b.pk in matched:
            continue
        overlapping = any(
            a.code_id == b.code_id and a.start < b.end and b.start < a.end for a in mine
        )
        items.append(_item(b, "B", "overlaps" if overlapping else "only B", [b.pk], consensus))
    items.sort(key=lambda item: (item["start"], item["end"], item["coder"]))
    return items


def _item(coding, coder: str, status: str, ids: list[int], consensus: set) -> dict:
    return {
        "code": coding.code_id,
        "code_name": coding.code.name,
        "colour": coding.code.colour,
        "start": coding.start,
        "end": coding.end,
        "quote": coding.quote,
        "coder": coder,
        "status": status,
        "codings": ids,
        "in_consensus": (coding.code_id, coding.start, coding.end) in consensus,
    }


def highlighted_segments(text: str, codings: list[tuple[int, int, str]]) -> list[dict]:
    """The text cut at every coding edge, each piece with the colours covering it (for pages
    that draw codings server-side; offsets are code points, as Python indexes text)."""
    cuts = sorted({0, len(text), *(s for s, _, _ in codings), *(e for _, e, _ in codings)})
    pieces = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        colours = [colour for s, e, colour in codings if s <= start and e >= end]
        pieces.append(
            {
                "text": text[start:end],
                "colour": colours[0] if colours else "",
                "layers": len(colours),
            }
        )
    return pieces

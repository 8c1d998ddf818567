"""Reviewing the theory as it takes shape: the theme hierarchy with counts and agreement,
review status and comments, code co-occurrence and saturation (selectors and services).

Everything that reads codings goes through `coding_list`, so blind mode holds; the
consensus layer (codings by `consensus@<slug>`) is left out, since it copies coders' work.
"""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from coding_app.access import has_role, sees_all_codings
from coding_app.models import Code, Membership, Role
from coding_app.selectors import code_tree, coding_list

from .models import AnalysisJob, CodeReview, ReviewComment, ReviewStatus

COMMENT_MAX = 4000
SATURATION_WINDOW = 5


# ------------------------------------------------------------------ shared reads


def consensus_user_id(*, project) -> int | None:
    """The consensus coder's id, without creating the user (a read must not write)."""
    user = get_user_model().objects.filter(username=f"consensus@{project.slug}"[:150]).first()
    return user.pk if user else None


def review_codings(*, membership: Membership, layer: str = "coders"):
    """Visible codings of the coders (`layer="coders"`) or of the consensus layer only."""
    codings = coding_list(membership=membership)
    consensus = consensus_user_id(project=membership.project)
    if layer == "consensus":
        return codings.filter(coder_id=consensus) if consensus else codings.none()
    return codings.exclude(coder_id=consensus) if consensus else codings


def agreement_latest(*, project) -> AnalysisJob | None:
    """The project's latest finished agreement comparison."""
    return (
        AnalysisJob.objects.filter(
            project=project, kind=AnalysisJob.Kind.AGREEMENT, status="succeeded"
        )
        .order_by("-finished_at", "-id")
        .first()
    )


def agreement_by_code(job: AnalysisJob | None) -> dict[int, dict]:
    rows = ((job and job.result) or {}).get("codes", [])
    return {
        row["code"]: {k: row.get(k) for k in ("alpha", "percent", "kappa")}
        for row in rows
        if "code" in row
    }


def agreement_summary(job: AnalysisJob | None) -> dict | None:
    """What a page or report says about the comparison the agreement colours come from."""
    if job is None or not job.result:
        return None
    from .comparison import methods_sentence

    names = dict(
        get_user_model()
        .objects.filter(pk__in=job.params.get("coders") or [])
        .values_list("pk", "username")
    )
    groups = job.params.get("groups")
    if groups:
        labels = [", ".join(names.get(c, "?") for c in group) for group in groups]
    else:
        labels = [names.get(c, "?") for c in job.params.get("coders") or []]
    return {
        "job": job.pk,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "unit": job.result.get("unit"),
        "coders": labels,
        "methods": methods_sentence(job.result, coder_names=labels, groups=bool(groups)),
        "overall": job.result.get("overall", {}),
    }


def review_status_map(*, project) -> dict[int, str]:
    return dict(CodeReview.objects.filter(code__project=project).values_list("code_id", "status"))


# ------------------------------------------------------------------ the hierarchy


def hierarchy_get(*, membership: Membership) -> dict:
    """The codebook as a tree with, per node, its own and cumulative quote, post and coder
    counts, review status, open comments and (for supervisors) agreement."""
    project = membership.project
    own_quotes: dict[int, int] = defaultdict(int)
    posts: dict[int, set] = defaultdict(set)
    coders: dict[int, set] = defaultdict(set)
    for code_id, post_id, coder_id in review_codings(membership=membership).values_list(
        "code_id", "post_id", "coder_id"
    ):
        own_quotes[code_id] += 1
        posts[code_id].add(post_id)
        coders[code_id].add(coder_id)
    job = agreement_latest(project=project) if has_role(membership, Role.SUPERVISOR) else None
    agreement = agreement_by_code(job)
    statuses = review_status_map(project=project)
    open_comments = dict(
        review_comment_list(membership=membership)
        .filter(resolved_at__isnull=True)
        .values("code_id")
        .annotate(n=Count("id"))
        .values_list("code_id", "n")
    )

    def dress(node: dict) -> tuple[set, set]:
        below_posts, below_coders = set(posts[node["id"]]), set(coders[node["id"]])
        quotes = own_quotes[node["id"]]
        for child in node["children"]:
            child_posts, child_coders = dress(child)
            below_posts |= child_posts
            below_coders |= child_coders
            quotes += child["quotes"]
        node["own_quotes"] = own_quotes[node["id"]]
        node["own_posts"] = len(posts[node["id"]])
        node["quotes"] = quotes
        node["posts"] = len(below_posts)
        node["coders"] = len(below_coders)
        node["status"] = statuses.get(node["id"], ReviewStatus.DRAFT)
        node["open_comments"] = open_comments.get(node["id"], 0)
        node["agreement"] = agreement.get(node["id"])
        for key in ("inclusion", "exclusion", "example", "memo", "count", "position"):
            node.pop(key, None)
        return below_posts, below_coders

    tree = code_tree(project=project)
    for root in tree:
        dress(root)
    return {
        "tree": tree,
        "agreement": agreement_summary(job),
        "blind": not sees_all_codings(membership),
    }


def hierarchy_flatten(tree: list[dict]) -> list[dict]:
    flat = []

    def walk(node):
        flat.append({k: v for k, v in node.items() if k != "children"})
        for child in node["children"]:
            walk(child)

    for root in tree:
        walk(root)
    return flat


def review_pending_list(*, hierarchy: dict) -> list[dict]:
    """Nodes not yet approved, those needing work first, in codebook order."""
    nodes = [n for n in hierarchy_flatten(hierarchy["tree"]) if n["status"] != "approved"]
    return sorted(nodes, key=lambda n: 0 if n["status"] == ReviewStatus.NEEDS_WORK else 1)


# ------------------------------------------------------------------ status and comments


@transaction.atomic
def code_review_set(*, code: Code, status: str, user) -> CodeReview:
    if status not in ReviewStatus.values:
        raise ValidationError({"status": f"Choose one of {', '.join(ReviewStatus.values)}."})
    review, _ = CodeReview.objects.update_or_create(
        code=code, defaults={"status": status, "updated_by": user}
    )
    return review


@transaction.atomic
def review_comment_add(
    *, code: Code, author, text: str, addressed_to_id: int | None = None
) -> ReviewComment:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the comment."})
    if len(text) > COMMENT_MAX:
        raise ValidationError({"text": f"A comment has at most {COMMENT_MAX} characters."})
    if (
        addressed_to_id is not None
        and not Membership.objects.filter(
            project_id=code.project_id, user_id=addressed_to_id
        ).exists()
    ):
        raise ValidationError({"addressed_to": "Address the comment to a member of the project."})
    return ReviewComment.objects.create(
        code=code, author=author, text=text, addressed_to_id=addressed_to_id
    )


@transaction.atomic
def review_comment_resolve(*, comment: ReviewComment, user, resolved: bool = True):
    comment.resolved_at = timezone.now() if resolved else None
    comment.resolved_by = user if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by"])
    return comment


def review_comment_list(*, membership: Membership, for_me: bool = False):
    """Comments on live codes: supervisors read all; a coder, those addressed to them or to
    all coders (so does anyone with `for_me`)."""
    comments = ReviewComment.objects.filter(
        code__project=membership.project, code__deleted_at__isnull=True
    )
    if for_me or not has_role(membership, Role.SUPERVISOR):
        comments = comments.filter(
            Q(addressed_to__isnull=True) | Q(addressed_to_id=membership.user_id)
        )
    return comments.select_related("author", "addressed_to", "resolved_by", "code")


def comment_as_dict(comment: ReviewComment) -> dict:
    return {
        "id": comment.pk,
        "code": comment.code_id,
        "code_name": comment.code.name,
        "author": comment.author.username if comment.author else "",
        "addressed_to": comment.addressed_to_id,
        "addressed_to_name": comment.addressed_to.username if comment.addressed_to else None,
        "text": comment.text,
        "created_at": comment.created_at.isoformat(),
        "resolved_at": comment.resolved_at.isoformat() if comment.resolved_at else None,
    }


# ------------------------------------------------------------------ co-occurrence

MODES = ("post", "span")
LEVELS = ("code", "theme")


def _unit_of(project, level: str) -> dict[int, int]:
    """Code id → the matrix row it counts for: itself, or its theme."""
    parents = dict(Code.objects.filter(project=project).values_list("pk", "parent_id"))
    if level == "code":
        return {pk: pk for pk in parents}
    roots = {}
    for pk in parents:
        top = pk
        while parents.get(top):
            top = parents[top]
        roots[pk] = top
    return roots


def _pairs_by_post(membership, mode: str, level: str) -> dict[int, set[tuple[int, int]]]:
    """post → the (a, b) pairs (a <= b, a == b: the unit alone) that occur in it."""
    unit = _unit_of(membership.project, level)
    by_post: dict[int, list] = defaultdict(list)
    for post_id, code_id, start, end in review_codings(membership=membership).values_list(
        "post_id", "code_id", "start", "end"
    ):
        if code_id in unit:
            by_post[post_id].append((start, end, unit[code_id]))
    pairs: dict[int, set] = {}
    for post_id, spans in by_post.items():
        found = {(u, u) for _, _, u in spans}
        if mode == "post":
            units = sorted({u for _, _, u in spans})
            found |= {(a, b) for i, a in enumerate(units) for b in units[i + 1 :]}
        else:
            spans.sort()
            for i, (_start, end, a) in enumerate(spans):
                for other_start, _, b in spans[i + 1 :]:
                    if other_start >= end:
                        break  # sorted by start: nothing later overlaps this span
                    if a != b:
                        found.add((min(a, b), max(a, b)))
        pairs[post_id] = found
    return pairs


def cooccurrence_get(
    *, membership: Membership, mode: str = "post", level: str = "code", limit: int = 30
) -> dict:
    """Codes × codes: in how many posts both were applied (`mode="post"`) or applied to
    overlapping spans (`"span"`); the diagonal counts the posts of each code. Rows are the
    `limit` most applied codes (or themes), in codebook order."""
    if mode not in MODES or level not in LEVELS:
        raise ValidationError({"mode": "Unknown mode or level."})
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for found in _pairs_by_post(membership, mode, level).values():
        for pair in found:
            counts[pair] += 1
    applied = {a: n for (a, b), n in counts.items() if a == b}
    chosen = set(sorted(applied, key=lambda u: (-applied[u], u))[: max(1, limit)])
    order = [
        n
        for n in hierarchy_flatten(code_tree(project=membership.project))
        if n["id"] in chosen and (level == "code" or n["depth"] == 0)
    ]
    ids = [n["id"] for n in order]
    values = [[counts.get((min(a, b), max(a, b)), 0) for b in ids] for a in ids]
    return {
        "mode": mode,
        "level": level,
        "codes": [
            {"id": n["id"], "name": n["name"], "path": n["path"], "colour": n["colour"]}
            for n in order
        ],
        "values": values,
        "total": len(applied),
    }


def cooccurrence_posts(
    *, membership: Membership, a: int, b: int, mode: str = "post", level: str = "code"
) -> list[dict]:
    """The posts where codes (or themes) a and b co-occur, as `cooccurrence_get` counts."""
    from corpus.models import Post

    if mode not in MODES or level not in LEVELS:
        raise ValidationError({"mode": "Unknown mode or level."})
    pair = (min(a, b), max(a, b))
    post_ids = [p for p, found in _pairs_by_post(membership, mode, level).items() if pair in found]
    posts = Post.objects.filter(pk__in=post_ids).order_by("pk")
    return [
        {
            "id": p.pk,
            "external_id": p.external_id,
            "author": p.author,
            "posted_at": p.posted_at.date().isoformat() if p.posted_at else None,
            "text": p.text[:240],
        }
        for p in posts
    ]


# ------------------------------------------------------------------ saturation


def _curve(sequence: list[tuple], names: dict[int, dict], posts: dict, window: int) -> dict:
    """`sequence`: (post id, first time, set of code ids) in coding order."""
    seen: set[int] = set()
    points = []
    for index, (post_id, first, codes) in enumerate(sequence, start=1):
        new = sorted(codes - seen, key=lambda c: names.get(c, {}).get("order", 0))
        seen |= codes
        points.append(
            {
                "index": index,
                "post": post_id,
                "external_id": posts.get(post_id, ("", ""))[0],
                "author": posts.get(post_id, ("", ""))[1],
                "first_coded": first.isoformat(),
                "when": timezone.localtime(first).strftime("%Y-%m-%d %H:%M"),
                "codes": len(codes),
                "new": [
                    {
                        "id": c,
                        "name": names.get(c, {}).get("name", "?"),
                        "path": names.get(c, {}).get("path", []),
                    }
                    for c in new
                ],
                "distinct": len(seen),
            }
        )
    return {"points": points, "verdict": saturation_verdict(points, window)}


def saturation_verdict(points: list[dict], window: int) -> dict:
    """Say plainly whether the last `window` posts added no new code."""
    n = len(points)
    if n == 0:
        return {"saturated": False, "text": "No post has been coded yet."}
    last_new = max(p["index"] for p in points if p["new"])
    if n - last_new >= window:
        plural = "post coded" if window == 1 else f"{window} posts coded"
        return {
            "saturated": True,
            "text": f"Saturation: the last {plural} added no new code.",
            "last_new": last_new,
        }
    names = [f"“{c['name']}”" for c in points[last_new - 1]["new"]]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return {
        "saturated": False,
        "text": f"Not yet: post {last_new} of {n} added {listed}.",
        "last_new": last_new,
    }


def saturation_get(
    *, membership: Membership, window: int = SATURATION_WINDOW, layer: str = "coders"
) -> dict:
    """Distinct codes against posts coded, per coder and overall. A coder's posts are in the
    order of their first coding on each post; overall, the first coding by any coder."""
    window = max(1, int(window))
    names = {
        n["id"]: {"name": n["name"], "path": n["path"], "order": i}
        for i, n in enumerate(hierarchy_flatten(code_tree(project=membership.project)))
    }
    first_any: dict[int, object] = {}
    codes_any: dict[int, set] = defaultdict(set)
    first_by: dict[int, dict] = defaultdict(dict)
    codes_by: dict[int, dict] = defaultdict(lambda: defaultdict(set))
    for post_id, coder_id, code_id, at in review_codings(
        membership=membership, layer=layer
    ).values_list("post_id", "coder_id", "code_id", "created_at"):
        if post_id not in first_any or at < first_any[post_id]:
            first_any[post_id] = at
        mine = first_by[coder_id]
        if post_id not in mine or at < mine[post_id]:
            mine[post_id] = at
        codes_any[post_id].add(code_id)
        codes_by[coder_id][post_id].add(code_id)

    def ordered(first: dict, codes: dict) -> list[tuple]:
        return [(p, first[p], codes[p]) for p in sorted(first, key=lambda p: (first[p], p))]

    from corpus.models import Post

    posts = {
        pk: (external_id, author)
        for pk, external_id, author in Post.objects.filter(pk__in=list(first_any)).values_list(
            "pk", "external_id", "author"
        )
    }
    usernames = dict(
        get_user_model().objects.filter(pk__in=list(first_by)).values_list("pk", "username")
    )
    coders = [
        {"coder": coder_id, "label": usernames.get(coder_id, "?")}
        | _curve(ordered(first_by[coder_id], codes_by[coder_id]), names, posts, window)
        for coder_id in sorted(first_by, key=lambda c: usernames.get(c, ""))
    ]
    overall = {"coder": None, "label": "All coders"} | _curve(
        ordered(first_any, codes_any), names, posts, window
    )
    return {"window": window, "overall": overall, "coders": coders}

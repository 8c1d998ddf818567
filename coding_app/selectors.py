"""Reads of the coding domain that span relations, with related rows preloaded."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet

from corpus.models import ImportBatch, JobStatus, Post, Sample
from corpus.selectors import post_visible_q

from .access import sees_all_codings
from .models import Assignment, Change, Code, Coding, Membership, Memo, Project


def code_list(*, project: Project) -> QuerySet[Code]:
    return Code.objects.filter(project=project).order_by("parent_id", "position", "name")


def code_tree(*, project: Project, counts: dict[int, int] | None = None) -> list[dict]:
    """The codebook as nested dicts (themes → sub-themes → codes), ordered for display."""
    nodes = {}
    roots = []
    codes = list(code_list(project=project))
    for code in codes:
        nodes[code.pk] = {
            "id": code.pk,
            "name": code.name,
            "colour": code.colour,
            "definition": code.definition,
            "inclusion": code.inclusion,
            "exclusion": code.exclusion,
            "example": code.example,
            "memo": code.memo,
            "version": code.version,
            "position": code.position,
            "parent": code.parent_id,
            "count": (counts or {}).get(code.pk, 0),
            "children": [],
        }
    for code in codes:
        node = nodes[code.pk]
        if code.parent_id and code.parent_id in nodes:
            nodes[code.parent_id]["children"].append(node)
        else:
            roots.append(node)

    def annotate(node: dict, depth: int, path: list[str]) -> None:
        node["depth"] = depth
        node["path"] = [*path, node["name"]]
        node["level"] = "theme" if depth == 0 else ("sub-theme" if node["children"] else "code")
        for child in node["children"]:
            annotate(child, depth + 1, node["path"])

    for root in roots:
        annotate(root, 0, [])
    return roots


def code_tree_flatten(tree: list[dict]) -> list[dict]:
    """The tree's nodes in display order, without their children."""
    flat = []

    def walk(node):
        flat.append({k: node[k] for k in ("id", "name", "colour", "path", "level", "depth")})
        for child in node["children"]:
            walk(child)

    for root in tree:
        walk(root)
    return flat


def code_descendant_ids(*, code: Code) -> list[int]:
    """The code and every code below it (for a theme's quotes)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Code.objects.filter(project_id=code.project_id).values_list(
        "pk", "parent_id"
    ):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [code.pk]
    while stack:
        pk = stack.pop()
        found.append(pk)
        stack.extend(children.get(pk, []))
    return found


def coding_list(*, membership: Membership) -> QuerySet[Coding]:
    """Codings the member may see: in blind mode a coder sees only their own."""
    codings = Coding.objects.filter(post__project=membership.project).filter(
        post_visible_q("post__")
    )
    if not sees_all_codings(membership):
        codings = codings.filter(coder_id=membership.user_id)
    return codings.select_related("code", "coder")


def coding_counts_by_code(*, membership: Membership) -> dict[int, int]:
    rows = coding_list(membership=membership).values("code_id").annotate(n=Count("id"))
    return {row["code_id"]: row["n"] for row in rows}


def quote_list(
    *,
    membership: Membership,
    code: Code,
    include_children: bool = True,
    coder_id: int | None = None,
    batch_id: int | None = None,
    sample_post_ids: list[int] | None = None,
):
    """Every visible quote of a code (and of the codes under it), with its post and coder."""
    ids = code_descendant_ids(code=code) if include_children else [code.pk]
    quotes = coding_list(membership=membership).filter(code_id__in=ids)
    quotes = codings_filter(
        quotes, coder_id=coder_id, batch_id=batch_id, sample_post_ids=sample_post_ids
    )
    return quotes.select_related("post", "code").order_by("post_id", "start", "id")


def codings_filter(
    codings: QuerySet[Coding],
    *,
    coder_id: int | None = None,
    batch_id: int | None = None,
    sample_post_ids: list[int] | None = None,
) -> QuerySet[Coding]:
    """Codings of one coder, one import batch or one sample's posts (the quote filters)."""
    if coder_id:
        codings = codings.filter(coder_id=coder_id)
    if batch_id:
        codings = codings.filter(post__batch_id=batch_id)
    if sample_post_ids is not None:
        codings = codings.filter(post_id__in=sample_post_ids)
    return codings


CHANGE_PAGE = 500


def change_list(
    *, membership: Membership, since: int = 0, post_id: int | None = None
) -> list[Change]:
    """The project's changes after `since`, as this member may see them (blind-aware);
    with `post_id`, coding changes of that post only (a post page needs no others)."""
    changes = Change.objects.filter(project_id=membership.project_id, id__gt=since)
    if post_id is not None:
        changes = changes.filter(Q(coding_id__isnull=True) | Q(post_id=post_id))
    if not sees_all_codings(membership):
        changes = changes.filter(Q(coder_id__isnull=True) | Q(coder_id=membership.user_id))
    return list(changes.select_related("user").order_by("id")[:CHANGE_PAGE])


def change_latest_id(*, project: Project) -> int:
    last = Change.objects.filter(project=project).order_by("-id").values_list("id", flat=True)
    return last.first() or 0


def code_history(*, project: Project, code_id: int | None = None, limit: int = 200):
    """Codebook changes, newest first, with who made them."""
    changes = Change.objects.filter(project=project, kind__startswith="code.")
    if code_id:
        changes = changes.filter(code_id=code_id)
    return changes.select_related("user", "code").order_by("-id")[:limit]


def memo_list(*, membership: Membership, post) -> list[Memo]:
    """Memos on a post: all of them, or in blind mode a coder's own."""
    memos = Memo.objects.filter(post=post).select_related("author")
    if not sees_all_codings(membership):
        memos = memos.filter(author_id=membership.user_id)
    return list(memos)


def coders_with_consensus(*, membership: Membership, roles=("coder",)) -> list:
    """The project's coders (membership rows) and, for those who see every coding, the
    consensus layer as one more “coder” once it holds codings, so reports, quotes, text
    analysis and comparisons can use it."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    project = membership.project
    rows = list(
        Membership.objects.filter(project=project, role__in=roles)
        .select_related("user")
        .order_by("user__username")
    )
    if sees_all_codings(membership):
        consensus = get_user_model().objects.filter(username=f"consensus@{project.slug}"[:150])
        user = consensus.first()
        if user is not None and Coding.objects.filter(coder=user, post__project=project).exists():
            rows.append(SimpleNamespace(user_id=user.pk, user=user, role="consensus"))
    return rows


def coding_members(*, membership: Membership) -> list:
    """Whoever codes in the project, to compare or to take quotes from: its coders, the
    supervisors and admins who have codings in it (in many teams the researchers who lead
    also code), and the consensus layer as in `coders_with_consensus`; coders first."""
    if not sees_all_codings(membership):  # a blind coder is not told who else has codings
        return coders_with_consensus(membership=membership)
    rows = coders_with_consensus(membership=membership, roles=("coder", "supervisor", "admin"))
    coding = set(
        Coding.objects.filter(post__project=membership.project)
        .order_by()
        .values_list("coder_id", flat=True)
        .distinct()
    )
    rows = [m for m in rows if m.role in ("coder", "consensus") or m.user_id in coding]
    return sorted(rows, key=lambda m: m.role != "coder")  # stable: by username within


def quote_filters(params, project) -> dict:
    """Quote filters from query parameters: coder, batch and sample ids."""

    def number(name):
        value = params.get(name, "")
        return int(value) if value.isdigit() else None

    filters = {"coder_id": number("coder"), "batch_id": number("batch")}
    sample_id = number("sample")
    if sample_id:
        sample = Sample.objects.filter(project=project, pk=sample_id).first()
        filters["sample_post_ids"] = sample.post_ids if sample else []
    return filters


@dataclass(frozen=True)
class CodingTarget:
    """What applying a coding needs to know, read in one query (the hot path of coding)."""

    post: Post | None  # None: no such visible post in the user's projects
    code: Code | None  # None: no such live code in the user's projects
    role: str | None  # the user's role in the post's project
    in_queue: bool  # the post is in the user's queue
    has_queue: bool  # the user has a queue in the post's project


_TARGET_SQL = """
SELECT p.id, p.project_id, p.text, m.role,
       CASE WHEN p.id IS NULL THEN 0
            WHEN EXISTS (SELECT 1 FROM {assignment} a
                         WHERE a.coder_id = %(user)s AND a.post_id = p.id) THEN 1
            WHEN EXISTS (SELECT 1 FROM {assignment} a JOIN {post} q ON q.id = a.post_id
                         WHERE a.coder_id = %(user)s AND q.project_id = p.project_id) THEN 2
            ELSE 0 END,
       c.id, c.project_id, c.name, c.colour
FROM (SELECT 1) AS one
LEFT JOIN ({post} p
           JOIN {membership} m ON m.project_id = p.project_id AND m.user_id = %(user)s
           LEFT JOIN {batch} b ON b.id = p.batch_id)
       ON p.id = %(post)s AND (p.batch_id IS NULL OR b.status = %(succeeded)s)
LEFT JOIN ({code} c
           JOIN {membership} mc ON mc.project_id = c.project_id AND mc.user_id = %(user)s)
       ON c.id = %(code)s AND c.deleted_at IS NULL
"""


def coding_target_get(*, user, post_id: int, code_id: int) -> CodingTarget:
    """The post and code a coding would join, with the user's role and queue, in one query.

    The same rules as `Post.objects.filter(post_visible_q())` in the user's projects and
    `Code.objects` (live codes) in the user's projects, without the ORM's per-query cost.
    """
    sql = _TARGET_SQL.format(
        post=Post._meta.db_table,
        batch=ImportBatch._meta.db_table,
        code=Code._meta.db_table,
        membership=Membership._meta.db_table,
        assignment=Assignment._meta.db_table,
    )
    params = {
        "user": user.pk,
        "post": post_id,
        "code": code_id,
        "succeeded": JobStatus.SUCCEEDED,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    pid, project_id, text, role, queue, cid, code_project_id, name, colour = row
    post = Post(id=pid, project_id=project_id, text=text) if pid is not None else None
    code = (
        Code(id=cid, project_id=code_project_id, name=name, colour=colour)
        if cid is not None
        else None
    )
    return CodingTarget(post=post, code=code, role=role, in_queue=queue == 1, has_queue=queue > 0)

"""Reads of the coding domain that span relations, with related rows preloaded."""

from django.db.models import Count, QuerySet

from corpus.models import Post
from corpus.selectors import post_visible_q

from .access import sees_all_codings
from .models import Code, Coding, Membership, Project


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
        post__in=Post.objects.filter(post_visible_q())
    )
    if not sees_all_codings(membership):
        codings = codings.filter(coder_id=membership.user_id)
    return codings.select_related("code", "coder")


def coding_counts_by_code(*, membership: Membership) -> dict[int, int]:
    rows = coding_list(membership=membership).values("code_id").annotate(n=Count("id"))
    return {row["code_id"]: row["n"] for row in rows}


def quote_list(*, membership: Membership, code: Code, include_children: bool = True):
    ids = code_descendant_ids(code=code) if include_children else [code.pk]
    return (
        coding_list(membership=membership)
        .filter(code_id__in=ids)
        .select_related("post")
        .order_by("post_id", "start", "id")
    )

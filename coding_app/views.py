"""Server-rendered pages: interfaces only (check access, call a selector or service, render)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from corpus import selectors as corpus_selectors

from . import selectors
from .access import has_role, project_access_by_slug, sees_all_codings
from .models import Assignment, Code, Membership, Role

POSTS_PER_PAGE = 25


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def project_list(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project")
        .order_by("project__name")
    )
    return render(request, "coding_app/project_list.html", {"memberships": memberships})


def project_context(membership) -> dict:
    return {
        "project": membership.project,
        "membership": membership,
        "is_admin": has_role(membership, Role.ADMIN),
        "is_supervisor": has_role(membership, Role.SUPERVISOR),
    }


@login_required
def project_detail(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    search = request.GET.get("q", "").strip()
    batch_id = request.GET.get("batch") or None
    try:
        batch_id = int(batch_id) if batch_id else None
    except ValueError:
        batch_id = None
    mine = request.GET.get("mine") == "1"
    posts = corpus_selectors.post_list(
        project=project, search=search, batch_id=batch_id, coder=request.user if mine else None
    )
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.coding_counts_by_code(membership=membership)
    coded_post_ids = set(
        selectors.coding_list(membership=membership)
        .filter(post_id__in=[p.pk for p in page.object_list], coder=request.user)
        .values_list("post_id", flat=True)
    )
    context = project_context(membership) | {
        "page": page,
        "search": search,
        "batch_id": batch_id,
        "mine": mine,
        "batches": corpus_selectors.import_batch_list(project=project).filter(status="succeeded"),
        "tree": selectors.code_tree(project=project, counts=counts),
        "coded_post_ids": coded_post_ids,
        "total_posts": corpus_selectors.post_list(project=project).count(),
    }
    return render(request, "coding_app/project_detail.html", context)


@login_required
def post_detail(request, slug, pk):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    post = corpus_selectors.post_get(project=project, pk=pk)
    if post is None:
        raise Http404("No such post.")
    codings = (
        selectors.coding_list(membership=membership)
        .filter(post=post)
        .order_by("start", "end", "id")
    )
    queue = list(
        Assignment.objects.filter(coder=request.user, post__project=project)
        .order_by("position", "id")
        .values_list("post_id", flat=True)
    )
    if post.pk in queue:  # walk the coder's queue, in its order
        at = queue.index(post.pk)
        previous_post = queue[at - 1] if at > 0 else None
        next_post = queue[at + 1] if at + 1 < len(queue) else None
        queue_position = {"at": at + 1, "of": len(queue)}
    else:
        neighbours = corpus_selectors.post_list(project=project)
        previous_post = (
            neighbours.filter(pk__lt=post.pk).order_by("-pk").values_list("pk", flat=True).first()
        )
        next_post = neighbours.filter(pk__gt=post.pk).values_list("pk", flat=True).first()
        queue_position = None
    tree = selectors.code_tree(project=project)
    page_data = {
        "post": {"id": post.pk, "text": post.text},
        "user": {"id": request.user.pk, "username": request.user.username},
        "codes": selectors.code_tree_flatten(tree),
        "codings": [
            {
                "id": c.pk,
                "code": c.code_id,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "coder": {"id": c.coder_id, "username": c.coder.username},
                "created_at": c.created_at.isoformat(),
            }
            for c in codings
        ],
        "api": {"codings": reverse("coding-list")},
        "sees_all": sees_all_codings(membership),
    }
    context = project_context(membership) | {
        "post": post,
        "page_data": page_data,
        "tree": tree,
        "previous_post": previous_post,
        "next_post": next_post,
        "queue_position": queue_position,
    }
    return render(request, "coding_app/post_detail.html", context)


@login_required
def code_detail(request, slug, pk):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    code = get_object_or_404(Code, project=project, pk=pk)
    quotes = selectors.quote_list(membership=membership, code=code)
    page = Paginator(quotes, 50).get_page(request.GET.get("page"))
    path = []
    node = code
    while node is not None:
        path.insert(0, node)
        node = node.parent
    context = project_context(membership) | {
        "code": code,
        "path": path,
        "page": page,
        "children": code.children.all(),
        "tree": selectors.code_tree(
            project=project, counts=selectors.coding_counts_by_code(membership=membership)
        ),
    }
    return render(request, "coding_app/code_detail.html", context)

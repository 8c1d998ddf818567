"""Server-rendered pages: interfaces only (check access, call a selector or service, render)."""

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from corpus import selectors as corpus_selectors

from . import selectors, services
from .access import (
    AccessDenied,
    has_role,
    may_create_codes,
    may_create_projects,
    project_access_by_slug,
    sees_all_codings,
)
from .models import Assignment, Code, Coding, Membership, Role
from .services.codebook_csv import csv_safe

POSTS_PER_PAGE = 25


def server_error(request):
    """The 500 handler: a database that does not answer is a 503 (try again), not a bug.

    Rendered without the request context, since the user and session need the database.
    """
    import sys

    from django.db import InterfaceError, OperationalError
    from django.template import loader

    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        status, title = 503, "Grounded is briefly unavailable"
        message = "The database is not answering (a restart or an upgrade); try again in a moment."
    else:
        status, title = 500, "Something went wrong"
        message = "The error has been logged. Try again, or tell the project's admin."
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "errors": {}}, status=status)
    else:
        html = loader.get_template("503.html").render({"title": title, "message": message})
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = "5"
    return response


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def project_list(request):
    return _project_list(request)


def _project_list(request, *, form: dict | None = None, errors: dict | None = None, status=200):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("project")
        .order_by("project__name")
    )
    context = {
        "memberships": memberships,
        "max_upload_mb": settings.GROUNDED_MAX_UPLOAD_MB,
        "may_create": may_create_projects(request.user),
        "form": form or {},
        "errors": errors or {},
    }
    return render(request, "coding_app/project_list.html", context, status=status)


@login_required
@require_POST
def project_create(request):
    """Start a project from the projects page; its creator is its first admin."""
    if not may_create_projects(request.user):
        raise AccessDenied("Starting a project needs a staff account on this server.")
    form = {
        "name": request.POST.get("name", ""),
        "slug": request.POST.get("slug", ""),
        "description": request.POST.get("description", ""),
        "blind_coding": request.POST.get("blind_coding") == "on",
    }
    try:
        project = services.project_create(admin=request.user, **form)
    except ValidationError as exc:
        errors = {field: " ".join(texts) for field, texts in exc.message_dict.items()}
        return _project_list(request, form=form, errors=errors, status=400)
    messages.success(
        request,
        f"Project “{project.name}” started, with you as its admin. Next: import posts, "
        "then add your team on the Members page.",
    )
    return redirect("imports-page", slug=project.slug)


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
    assignments = list(
        Assignment.objects.filter(coder=request.user, post__project=project)
        .order_by("position", "id")
        .values_list("post_id", "done_at")
    )
    queue = [post_id for post_id, _ in assignments]
    done_at = dict(assignments).get(post.pk)
    if post.pk in queue:  # walk the coder's queue, in its order
        at = queue.index(post.pk)
        previous_post = queue[at - 1] if at > 0 else None
        next_post = queue[at + 1] if at + 1 < len(queue) else None
        coded = set(
            selectors.coding_list(membership=membership)
            .filter(coder=request.user, post_id__in=queue)
            .values_list("post_id", flat=True)
        )
        queue_position = {
            "at": at + 1,
            "of": len(queue),
            "done": sum(1 for post_id, done in assignments if done or post_id in coded),
        }
    else:
        neighbours = corpus_selectors.post_list(project=project)
        previous_post = (
            neighbours.filter(pk__lt=post.pk).order_by("-pk").values_list("pk", flat=True).first()
        )
        next_post = neighbours.filter(pk__gt=post.pk).values_list("pk", flat=True).first()
        queue_position = None
    tree = selectors.code_tree(project=project)
    page_data = {
        "project": project.slug,
        "post": {"id": post.pk, "text": post.text},
        "user": {"id": request.user.pk, "username": request.user.username},
        "codes": selectors.code_tree_flatten(tree),
        "codings": [services.coding_snapshot(c) for c in codings],
        "memos": [
            {"author": m.author.username, "text": m.text, "mine": m.author_id == request.user.pk}
            for m in selectors.memo_list(membership=membership, post=post)
        ],
        "api": {
            "codings": reverse("coding-list"),
            "codes": reverse("code-list"),
            "changes": reverse("project-changes", args=[project.slug]),
            "memos": reverse("post-memos", args=[post.pk]),
            "done": reverse("post-done", args=[post.pk]),
        },
        "code_url": reverse("code-page", args=[project.slug, 0]),
        "since": selectors.change_latest_id(project=project),
        "sees_all": sees_all_codings(membership),
        # Coders code their queue (any post without one); the queue is loaded above.
        "may_code": has_role(membership, Role.SUPERVISOR) or not queue or post.pk in queue,
        "may_create_codes": may_create_codes(membership),
        "in_queue": queue_position is not None,
        "done": done_at is not None,
        "next_post": reverse("post-page", args=[slug, next_post]) if next_post else None,
        "previous_post": reverse("post-page", args=[slug, previous_post])
        if previous_post
        else None,
    }
    context = project_context(membership) | {
        "post": post,
        "page_data": page_data,
        "tree": tree,
        "previous_post": previous_post,
        "next_post": next_post,
        "queue_position": queue_position,
        "done": done_at is not None,
        "may_create_codes": page_data["may_create_codes"],
    }
    return render(request, "coding_app/post_detail.html", context)


@login_required
def code_detail(request, slug, pk):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    code = get_object_or_404(Code, project=project, pk=pk)
    filters = selectors.quote_filters(request.GET, project)
    quotes = selectors.quote_list(membership=membership, code=code, **filters)
    page = Paginator(quotes, 50).get_page(request.GET.get("page"))
    path = []
    node = code
    while node is not None:
        path.insert(0, node)
        node = node.parent
    sees_all = sees_all_codings(membership)
    coders = (
        selectors.coders_with_consensus(
            membership=membership, roles=("coder", "supervisor", "admin")
        )
        if sees_all
        else []
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = project_context(membership) | {
        "code": code,
        "path": path,
        "page": page,
        "children": code.children.all(),
        "coders": coders,
        "batches": corpus_selectors.import_batch_list(project=project).filter(status="succeeded"),
        "samples": project.samples.order_by("name"),
        "selected": {k: request.GET.get(k, "") for k in ("coder", "batch", "sample")},
        "query": params.urlencode(),
        "filtered": any(request.GET.get(k) for k in ("coder", "batch", "sample")),
        "tree": selectors.code_tree(
            project=project, counts=selectors.coding_counts_by_code(membership=membership)
        ),
    }
    return render(request, "coding_app/code_detail.html", context)


@login_required
def code_quotes_csv(request, slug, pk):
    """The code's quotes (with its sub-codes'), as filtered on the page, as CSV."""
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    code = get_object_or_404(Code, project=project, pk=pk)
    quotes = selectors.quote_list(
        membership=membership, code=code, **selectors.quote_filters(request.GET, project)
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quotes-{project.slug}-{code.pk}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow(
        ["quote", "code", "post_id", "external_id", "author", "posted_at", "coder", "coded_at"]
        + ["start", "end", "memo", "url"]
    )
    for coding in quotes.iterator(chunk_size=2000):
        post = coding.post
        writer.writerow(
            [
                csv_safe(coding.quote),
                csv_safe(coding.code.name),
                post.pk,
                csv_safe(post.external_id),
                csv_safe(post.author),
                post.posted_at.isoformat() if post.posted_at else "",
                coding.coder.username,
                coding.created_at.isoformat(),
                coding.start,
                coding.end,
                csv_safe(coding.memo),
                csv_safe(post.url),
            ]
        )
    return response


@login_required
def members(request, slug):
    """The project's members with their roles and work; admins add, change and remove."""
    from django.contrib import messages
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect

    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    if request.method == "POST":
        project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
        action = request.POST.get("action")
        username = request.POST.get("username", "").strip()
        try:
            if action == "settings":
                services.project_settings_update(
                    membership=membership,
                    name=request.POST.get("name", "").strip(),
                    description=request.POST.get("description", "").strip(),
                )
                messages.success(request, "The project's name and description are saved.")
            elif action == "remove":
                target = get_object_or_404(Membership, project=project, user__username=username)
                services.membership_remove(membership=target)
                messages.success(request, f"{username} is no longer a member.")
            else:
                user = get_user_model().objects.filter(username__iexact=username).first()
                if user is None:
                    raise ValidationError(
                        {
                            "username": f"No account “{username}” on this server: staff make "
                            "accounts in the admin, then you add them here."
                        }
                    )
                services.membership_set(
                    project=project, user=user, role=request.POST.get("role", "")
                )
                messages.success(request, f"{user.username} is now {request.POST['role']}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("members-page", slug=slug)
    rows = (
        Membership.objects.filter(project=project)
        .select_related("user")
        .annotate(
            queue=Count("user__assignments", filter=Q(user__assignments__post__project=project))
        )
        .order_by("role", "user__username")
    )
    # A queued post is coded once its coder coded in it or marked it coded, as the queue
    # page counts it.
    coded_here = Coding.objects.filter(post_id=OuterRef("post_id"), coder_id=OuterRef("coder_id"))
    done = dict(
        Assignment.objects.filter(post__project=project)
        .filter(Q(done_at__isnull=False) | Exists(coded_here))
        .values_list("coder_id")
        .annotate(n=Count("id"))
        .values_list("coder_id", "n")
    )
    for m in rows:
        m.done = done.get(m.user_id, 0)
    counts = dict(
        selectors.coding_list(membership=membership)
        .values_list("coder_id")
        .annotate(n=Count("id"))
        .values_list("coder_id", "n")
    )
    context = project_context(membership) | {
        "rows": [(m, counts.get(m.user_id, 0)) for m in rows],
        "roles": Role.choices,
        "sees_all": sees_all_codings(membership),
    }
    return render(request, "coding_app/members.html", context)

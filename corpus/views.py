"""Pages of the corpus: imports (upload, column mapping, progress), pool, samples, queue."""

import csv
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from coding_app.access import project_access_by_slug
from coding_app.models import Assignment, Coding, Role
from coding_app.views import project_context

from . import selectors, services
from .importers import FIELDS, ImportFileError
from .models import ImportBatch, JobStatus, NearDuplicate, Post, Sample
from .sampling import CRITERIA_FIELDS, Criteria

FIELD_LABELS = {
    "text": "Post text",
    "author": "Author",
    "author_headline": "Author headline or sector",
    "posted_at": "Date posted",
    "url": "URL",
    "external_id": "External id",
}


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    if request.method == "POST":
        project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
        try:  # refuse an oversized upload before reading it
            services.upload_check_size(
                size=int(request.META.get("CONTENT_LENGTH") or 0) - 64 * 1024
            )
        except services.UploadTooLarge as exc:
            messages.error(request, str(exc))
            return redirect("imports-page", slug=slug)
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a file to import.")
            return redirect("imports-page", slug=slug)
        try:
            batch = services.import_batch_create(
                project=project,
                user=request.user,
                file_name=upload.name,
                fileobj=upload,
                fmt=request.POST.get("format", "auto"),
                encoding=request.POST.get("encoding", ""),
                strict=bool(request.POST.get("strict")),
                name=request.POST.get("name", ""),
                draft=True,
            )
        except (ImportFileError, services.UploadTooLarge) as exc:
            messages.error(request, str(exc))
            return redirect("imports-page", slug=slug)
        return redirect("import-mapping-page", slug=slug, pk=batch.pk)
    batches = list(selectors.import_batch_list(project=project)[:100])
    context = project_context(membership) | {
        "batches": batches,
        "max_upload_mb": settings.GROUNDED_MAX_UPLOAD_MB,
        "formats": services.FORMATS,
        "running_ids": [b.pk for b in batches if b.status in (JobStatus.QUEUED, JobStatus.RUNNING)],
    }
    return render(request, "corpus/import_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, slug, pk):
    membership = project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
    batch = get_object_or_404(ImportBatch, project=membership.project, pk=pk)
    if batch.status != JobStatus.DRAFT:
        return redirect("imports-page", slug=slug)
    if request.method == "POST":
        if "discard" in request.POST:
            services.import_batch_cancel(batch=batch)
            messages.info(request, f"“{batch.file_name}” was not imported.")
            return redirect("imports-page", slug=slug)
        if "preview" in request.POST:  # another format or encoding: show the preview again
            batch.format = request.POST.get("format", batch.format)
            batch.encoding = request.POST.get("encoding", "")
            batch.save(update_fields=["format", "encoding"])
            return redirect("import-mapping-page", slug=slug, pk=pk)
        mapping = {field: request.POST.get(f"map_{field}", "") for field in FIELDS}
        if not mapping["text"]:
            messages.error(request, "Choose the column that holds the post text.")
            return redirect("import-mapping-page", slug=slug, pk=pk)
        services.import_batch_start(
            batch=batch,
            mapping=mapping,
            strict=bool(request.POST.get("strict")),
            name=request.POST.get("name", batch.name),
        )
        messages.success(request, f"“{batch.file_name}” is being imported.")
        return redirect("imports-page", slug=slug)
    preview = services.import_batch_preview(batch=batch)
    context = project_context(membership) | {
        "batch": batch,
        "preview": preview,
        "fields": [(f, FIELD_LABELS[f], preview["mapping"].get(f, "")) for f in FIELDS],
        "formats": services.FORMATS,
    }
    return render(request, "corpus/import_mapping.html", context)


@login_required
def import_rejected_csv(request, slug, pk):
    membership = project_access_by_slug(request.user, slug)
    batch = get_object_or_404(ImportBatch, project=membership.project, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-batch-{batch.pk}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(["row", "problem", "level"])
    for item in batch.row_errors:
        writer.writerow([item["row"], item["message"], "rejected"])
    for item in batch.row_warnings:
        writer.writerow([item["row"], item["message"], "warning"])
    return response


@login_required
@require_POST
def near_duplicate_review(request, slug, pk):
    """Keep both posts, or mark the later one not relevant (it leaves sampling pools)."""
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    pair = get_object_or_404(NearDuplicate, project=membership.project, pk=pk)
    services.near_duplicate_review(
        pair=pair, exclude_later=request.POST.get("action") == "exclude", user=request.user
    )
    return redirect(f"{reverse('sampling-page', args=[slug])}#near-duplicates")


@login_required
@require_POST
def import_cancel(request, slug, pk):
    membership = project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
    batch = get_object_or_404(ImportBatch, project=membership.project, pk=pk)
    services.import_batch_cancel(batch=batch)
    messages.info(
        request, f"The import of “{batch.file_name}” was cancelled; none of its posts were kept."
    )
    return redirect("imports-page", slug=slug)


@login_required
@require_POST
def import_delete(request, slug, pk):
    membership = project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
    batch = get_object_or_404(ImportBatch, project=membership.project, pk=pk)
    posts = batch.posts.count()
    try:
        codings = services.import_batch_delete(
            batch=batch, confirm=bool(request.POST.get("confirm"))
        )
    except services.BatchHasCodings as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('imports-page', args=[slug])}?confirm_delete={pk}#batch-{pk}")
    except ImportFileError as exc:
        messages.error(request, str(exc))
        return redirect("imports-page", slug=slug)
    extra = f" and {codings} codings" if codings else ""
    messages.success(request, f"Deleted “{batch.file_name}”: {posts} posts{extra}.")
    return redirect("imports-page", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def queue(request, slug):
    """A coder's queue of assigned posts with progress."""
    membership = project_access_by_slug(request.user, slug)
    assignments = (
        Assignment.objects.filter(coder=request.user, post__project=membership.project)
        .select_related("post", "sample")
        .order_by("position", "id")
    )
    coded = set(
        Coding.objects.filter(
            coder=request.user, post__in=[a.post_id for a in assignments]
        ).values_list("post_id", flat=True)
    )
    done = sum(1 for a in assignments if a.done_at or a.post_id in coded)
    # Where to carry on: the first assigned post in queue order not coded yet.
    next_up = next((a for a in assignments if not (a.done_at or a.post_id in coded)), None)
    page = Paginator(assignments, 50).get_page(request.GET.get("page"))
    context = project_context(membership) | {
        "page": page,
        "coded": coded,
        "done": done,
        "total": len(assignments),
        "next_up": next_up,
    }
    return render(request, "corpus/queue.html", context)


def _without_page(params) -> str:
    params = params.copy()
    params.pop("page", None)
    return params.urlencode()


def criteria_from_params(params) -> Criteria:
    """Read inclusion criteria from a query string or form (blank fields mean no limit)."""
    from datetime import date

    def integer(name):
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            return int(value)
        except ValueError as exc:
            raise ValidationError({name: f"“{value}” is not a whole number."}) from exc

    def day(name):
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({name: f"“{value}” is not a date like 2026-11-28."}) from exc

    def words(name):
        return [w.strip() for w in (params.get(name) or "").split(",") if w.strip()]

    metadata = {}
    for line in (params.get("metadata") or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            metadata[key.strip()] = value.strip()
    return Criteria(
        min_words=integer("min_words"),
        max_words=integer("max_words"),
        date_from=day("date_from"),
        date_to=day("date_to"),
        months_before=integer("months_before"),
        reference_date=day("reference_date"),
        keywords=words("keywords"),
        exclude_keywords=words("exclude_keywords"),
        authors=words("authors"),
        metadata=metadata,
    )


def _criteria_or_errors(params):
    try:
        return criteria_from_params(params), {}
    except ValidationError as exc:
        return Criteria(), exc.message_dict


@login_required
@require_http_methods(["GET", "POST"])
def sampling(request, slug):
    """Criteria with a live count, theoretical marks, and drawing a recorded sample."""
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    source = request.POST if request.method == "POST" else request.GET
    criteria, errors = _criteria_or_errors(source)
    if request.method == "POST" and not errors:
        project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)

        def optional_int(name):
            value = (request.POST.get(name) or "").strip()
            return int(value) if value.lstrip("-").isdigit() else None

        method = request.POST.get("method", "systematic")
        start, seed = optional_int("start"), optional_int("seed")
        # The page draws the seed a researcher leaves out (the command line and the API ask
        # for it); it is recorded with the sample, so the sample can be drawn again.
        drawn_seed = seed is None and (method == "random" or (method == "systematic" and not start))
        if drawn_seed:
            seed = secrets.randbelow(1_000_000)
        try:
            sample = services.sample_create(
                project=project,
                name=request.POST.get("name", ""),
                criteria=criteria,
                method=method,
                k=optional_int("k"),
                start=start,
                seed=seed,
                n=optional_int("n"),
                user=request.user,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            # The methods sentence itself heads the sample's page; no need to say it twice.
            messages.success(
                request,
                f"Sample “{sample.name}” recorded with its whole recipe"
                + (f" (seed {seed}, drawn for you)." if drawn_seed else "."),
            )
            return redirect("sample-page", slug=slug, pk=sample.pk)
    pool = services.pool_list(project=project, criteria=criteria)
    page = Paginator(pool.select_related("mark"), 50).get_page(request.GET.get("page"))
    context = project_context(membership) | {
        "criteria": criteria,
        "criteria_fields": CRITERIA_FIELDS,
        "criteria_text": criteria.describe(),
        "params": source,
        "errors": errors,
        "page": page,
        "pool_count": page.paginator.count,
        "total_posts": selectors.post_list(project=project).count(),
        "samples": project.samples.all()[:50],
        "near_duplicates": selectors.near_duplicate_list(project=project)[:100],
        "page_query": _without_page(request.GET),
    }
    return render(request, "corpus/sampling.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sample_detail(request, slug, pk):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    sample = get_object_or_404(Sample, project=project, pk=pk)
    rerun = None
    if request.method == "POST":
        project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
        if "rerun" in request.POST:
            rerun = services.sample_rerun(sample=sample)
        else:
            try:
                plan = services.assignment_bulk_create(
                    project=project,
                    post_ids=sample.post_ids,
                    coder_ids=[int(c) for c in request.POST.getlist("coders") if c.isdigit()],
                    per_post=int(request.POST.get("per_post") or 1),
                    seed=int(request.POST.get("seed") or 0),
                    user=request.user,
                    sample=sample,
                )
            except (ValidationError, ValueError) as exc:
                message = (
                    "; ".join(sum(exc.message_dict.values(), []))
                    if hasattr(exc, "message_dict")
                    else str(exc)
                )
                messages.error(request, message)
            else:
                loads = ", ".join(f"{len(ids)}" for ids in plan.values())
                messages.success(
                    request,
                    f"Assigned {len(sample.post_ids)} posts to {len(plan)} coders (posts each: {loads}).",
                )
                return redirect("sample-page", slug=slug, pk=pk)
    posts = {p.pk: p for p in Post.objects.filter(pk__in=sample.post_ids)}
    assigned = {}
    for post_id, username in Assignment.objects.filter(sample=sample).values_list(
        "post_id", "coder__username"
    ):
        assigned.setdefault(post_id, []).append(username)
    context = project_context(membership) | {
        "sample": sample,
        "criteria_text": Criteria.from_dict(sample.criteria).describe(),
        "rows": [
            (i + 1, posts.get(pid), assigned.get(pid, [])) for i, pid in enumerate(sample.post_ids)
        ],
        "coders": services.coders_of(project),
        "rerun": rerun,
    }
    return render(request, "corpus/sample_detail.html", context)

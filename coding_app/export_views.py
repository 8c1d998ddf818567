"""The Downloads page and its files: every coding as CSV or XLSX, the full project backup,
and restoring a backup as a new project. Interfaces only (access, a service, a response)."""

import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from corpus import selectors as corpus_selectors
from corpus.services import UploadTooLarge, upload_check_size

from . import selectors
from .access import AccessDenied, project_access_by_slug, sees_all_codings
from .models import Code, Role
from .services.backup import BackupError, project_backup_write, project_restore
from .services.coding_export import coding_export_rows, csv_stream, xlsx_write
from .views import project_context

SPOOL_BYTES = 32 * 1024 * 1024  # larger files spill to disk rather than memory
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILTERS = ("coder", "code", "batch", "sample")


@login_required
def downloads_page(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    sees_all = sees_all_codings(membership)
    context = project_context(membership) | {
        "sees_all": sees_all,
        "coders": selectors.coders_with_consensus(
            membership=membership, roles=("coder", "supervisor", "admin")
        )
        if sees_all
        else [],
        "codes": selectors.code_tree_flatten(selectors.code_tree(project=project)),
        "batches": corpus_selectors.import_batch_list(project=project).filter(status="succeeded"),
        "samples": project.samples.order_by("name"),
        "selected": {k: request.GET.get(k, "") for k in FILTERS},
        "max_upload_mb": settings.GROUNDED_MAX_UPLOAD_MB,
    }
    return render(request, "coding_app/downloads.html", context)


def _codings_rows(request, slug):
    """The member's visible codings as rows, filtered as the Downloads form asks."""
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    filters = selectors.quote_filters(request.GET, project)
    code_id = request.GET.get("code", "")
    if code_id.isdigit():
        filters["code"] = get_object_or_404(Code, project=project, pk=int(code_id))
    return project, coding_export_rows(membership=membership, **filters)


@login_required
def codings_csv(request, slug):
    project, rows = _codings_rows(request, slug)
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="codings-{project.slug}.csv"'
    return response


@login_required
def codings_xlsx(request, slug):
    project, rows = _codings_rows(request, slug)
    handle = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    xlsx_write(rows, handle)
    handle.seek(0)
    return FileResponse(
        handle, as_attachment=True, filename=f"codings-{project.slug}.xlsx", content_type=XLSX_TYPE
    )


@login_required
def project_backup(request, slug):
    membership = project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
    project = membership.project
    handle = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    project_backup_write(project=project, out=handle)
    handle.seek(0)
    stamp = timezone.localdate().isoformat()
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{project.slug}-backup-{stamp}.zip",
        content_type="application/zip",
    )


@login_required
@require_POST
def project_restore_upload(request):
    """Staff restore a backup as a new project, of which they become an admin.

    Staff only: a restore adds existing accounts, named in the file, to the new project as
    the authors of its codings, and makes accounts for the names it does not find.
    """
    if not request.user.is_staff:
        raise AccessDenied("Restoring a project needs a staff account.")
    back = redirect("projects-page")
    try:  # refuse an oversized upload by its declared length before reading it
        upload_check_size(size=int(request.META.get("CONTENT_LENGTH") or 0) - 64 * 1024)
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a project backup (.zip) to restore.")
            return back
        upload_check_size(size=upload.size)
        summary = project_restore(
            fileobj=upload, slug=request.POST.get("slug", "").strip() or None, admin=request.user
        )
    except (BackupError, UploadTooLarge) as exc:
        messages.error(request, f"Nothing was restored: {exc}")
        return back
    counts = summary["counts"]
    messages.success(
        request,
        f"Restored “{summary['name']}”: {counts['posts']} posts, {counts['codes']} codes, "
        f"{counts['codings']} codings, {counts['memberships']} members"
        + (
            f" ({len(summary['users_created'])} new inactive accounts)."
            if summary["users_created"]
            else "."
        ),
    )
    return redirect("project-page", slug=summary["project"])

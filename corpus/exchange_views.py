"""The REFI-QDA exchange page: download the project (.qdpx) or codebook (.qdc), upload either.

Members see the page; supervisors and admins download; admins import.
"""

import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from coding_app.access import project_access_by_slug
from coding_app.models import Role
from coding_app.views import project_context

from .importers import ImportFileError
from .services import UploadTooLarge, upload_check_size
from .services.exchange import codebook_export_qdc, exchange_import, project_export_qdpx

SESSION_KEY = "grounded-exchange-summary"
SUFFIXES = (".qdpx", ".qdc", ".qde", ".xml")


@login_required
@require_http_methods(["GET", "POST"])
def exchange_page(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    if request.method == "POST":
        project_access_by_slug(request.user, slug, min_role=Role.ADMIN)
        back = redirect("exchange-page", slug=slug)
        try:  # refuse an oversized upload by its declared length before reading it
            upload_check_size(size=int(request.META.get("CONTENT_LENGTH") or 0) - 64 * 1024)
        except UploadTooLarge as exc:
            messages.error(request, str(exc))
            return back
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a .qdpx project or a .qdc codebook to import.")
            return back
        if not upload.name.lower().endswith(SUFFIXES):
            messages.error(
                request, f"“{upload.name}” is not a REFI-QDA file: choose a .qdpx or .qdc file."
            )
            return back
        try:
            upload_check_size(size=upload.size)
            summary = exchange_import(
                project=project, fileobj=upload, file_name=upload.name, user=request.user
            )
        except (ImportFileError, UploadTooLarge) as exc:
            messages.error(request, f"“{upload.name}” was not imported: {exc}")
            return back
        except ValidationError as exc:
            messages.error(request, f"“{upload.name}” was not imported: {'; '.join(exc.messages)}")
            return back
        request.session[SESSION_KEY] = {"slug": slug, "summary": summary}
        messages.success(request, f"Imported “{upload.name}”.")
        return back
    stored = request.session.pop(SESSION_KEY, None)
    summary = stored["summary"] if stored and stored.get("slug") == slug else None
    context = project_context(membership) | {
        "summary": summary,
        "max_upload_mb": settings.GROUNDED_MAX_UPLOAD_MB,
    }
    return render(request, "corpus/exchange.html", context)


@login_required
def exchange_download_qdpx(request, slug):
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    project = membership.project
    # Large projects spill to disk rather than memory.
    handle = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    project_export_qdpx(project=project, out=handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{project.slug}.qdpx",
        content_type="application/zip",
    )


@login_required
def exchange_download_qdc(request, slug):
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    project = membership.project
    try:
        data = codebook_export_qdc(project=project)
    except ImportFileError as exc:
        messages.error(request, str(exc))
        return redirect("exchange-page", slug=slug)
    response = HttpResponse(data, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}.qdc"'
    return response

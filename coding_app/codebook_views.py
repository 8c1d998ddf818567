"""The codebook page: the tree to edit, its history, CSV export and import, coding settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import selectors, services
from .access import has_role, may_create_codes, project_access_by_slug
from .models import Code, Role
from .views import project_context

IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_LABEL = "2 MB"


def _api_url(name: str, *args) -> str:
    """An API route with 0 for the id, which the page's script replaces."""
    return reverse(name, args=args or None)


@login_required
def codebook_page(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    may_edit = has_role(membership, Role.SUPERVISOR)
    tree = selectors.code_tree(
        project=project, counts=selectors.coding_counts_by_code(membership=membership)
    )
    # Names of every code ever in the codebook, so history can name deleted and merged ones.
    names = dict(Code.all_objects.filter(project=project).values_list("pk", "name"))
    page_data = {
        "project": project.slug,
        "user": {"id": request.user.pk, "username": request.user.username},
        "may_edit": may_edit,
        "may_create": may_create_codes(membership),
        "settings": {
            "coders_create_codes": project.coders_create_codes,
            "blind_coding": project.blind_coding,
        },
        "tree": tree,
        "names": {str(pk): name for pk, name in names.items()},
        "since": selectors.change_latest_id(project=project),
        "api": {
            "tree": f"{reverse('code-tree')}?project={project.slug}",
            "codes": reverse("code-list"),
            "code": _api_url("code-detail", 0),
            "history": reverse("project-history", args=[project.slug]),
            "changes": reverse("project-changes", args=[project.slug]),
            "project": reverse("project-detail", args=[project.slug]),
            "revert": _api_url("change-revert", 0),
        },
        "code_page": reverse("code-page", args=[project.slug, 0]),
    }
    context = project_context(membership) | {
        "tree": tree,
        "page_data": page_data,
        "may_edit": may_edit,
        "may_create": page_data["may_create"],
        "import_max": IMPORT_MAX_LABEL,
    }
    return render(request, "coding_app/codebook.html", context)


@login_required
def codebook_csv(request, slug):
    """The whole codebook as CSV, one row per code, placed by its path of names."""
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    text = services.codebook_export_csv(project=project, tree=selectors.code_tree(project=project))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="codebook-{project.slug}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    response.write(text)
    return response


@login_required
@require_POST
def codebook_import(request, slug):
    """Create and update codes from an uploaded CSV (supervisors); all or nothing."""
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    back = redirect("codebook-page", slug=slug)
    too_large = (
        f"The file is larger than {IMPORT_MAX_LABEL}: a codebook CSV is usually far smaller. "
        "Check that you chose the codebook file."
    )
    # Refuse an oversized upload by its declared length before looking at the file.
    if int(request.META.get("CONTENT_LENGTH") or 0) > IMPORT_MAX_BYTES + 64 * 1024:
        messages.error(request, too_large)
        return back
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a CSV file to import.")
        return back
    if upload.size > IMPORT_MAX_BYTES:
        messages.error(request, too_large)
        return back
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        messages.error(
            request,
            "The file is not UTF-8 text: save it as “CSV UTF-8” in your spreadsheet program.",
        )
        return back
    try:
        result = services.codebook_import_csv(
            project=membership.project, text=text, user=request.user
        )
    except ValidationError as exc:
        problems = exc.message_dict.get("file") if hasattr(exc, "error_dict") else None
        messages.error(request, f"Nothing was imported from “{upload.name}”:")
        for problem in problems or exc.messages:
            messages.error(request, problem)
        return back
    created, updated = result["created"], result["updated"]
    messages.success(
        request,
        f"Imported “{upload.name}”: {created} code{'' if created == 1 else 's'} created, "
        f"{updated} updated.",
    )
    return back

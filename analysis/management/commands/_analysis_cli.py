"""Shared by the analysis commands: run a query in this process, as the project's admin."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from analysis import services
from coding_app.models import Membership, Project, Role


def run_query(slug: str, kind: str, params: dict):
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"No project with the slug “{slug}”.")
    # The command line acts with an admin's view: every coding is visible.
    membership = Membership(project=project, role=Role.ADMIN)
    try:
        job, _ = services.analysis_request(
            membership=membership, kind=kind, params=params, user=None, enqueue=False
        )
    except ValidationError as exc:
        raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
    if job.status == "queued":
        job = services.analysis_run(job_id=job.pk) or job
    job.refresh_from_db()
    if job.status != "succeeded":
        raise CommandError(job.message or f"The analysis {job.status}.")
    return job

"""The job-row pattern shared by every background job (imports, analyses).

A job row has `status`, `progress`, `message`, `heartbeat_at`, `attempts`, `started_at` and
`finished_at`. Each transition is one conditional UPDATE, so a duplicate delivery, a cancel and
a finish never overwrite each other: the one whose condition still holds wins.
"""

from collections.abc import Callable

from django.conf import settings
from django.db.models import F, Model
from django.utils import timezone

from corpus.models import JobStatus

QUEUED, RUNNING, SUCCEEDED = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED
FAILED, CANCELLED = JobStatus.FAILED, JobStatus.CANCELLED
MAX_ATTEMPTS = 3


def job_claim(model: type[Model], pk: int) -> bool:
    """QUEUED → RUNNING; False means another delivery has it (or it was cancelled)."""
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, status=QUEUED).update(
            status=RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            progress=0.0,
            message="",
        )
    )


def job_heartbeat(model: type[Model], pk: int, *, progress: float, **fields) -> bool:
    """Record progress; False means the job is no longer running (cancelled meanwhile)."""
    return bool(
        model.objects.filter(pk=pk, status=RUNNING).update(
            progress=min(max(progress, 0.0), 0.99), heartbeat_at=timezone.now(), **fields
        )
    )


def job_finish(model: type[Model], pk: int, **fields) -> bool:
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, status=RUNNING).update(
            status=SUCCEEDED, progress=1.0, heartbeat_at=now, finished_at=now, **fields
        )
    )


def job_fail(model: type[Model], pk: int, message: str) -> None:
    model.objects.filter(pk=pk).exclude(status=CANCELLED).update(
        status=FAILED, message=message, finished_at=timezone.now()
    )


def job_sweep_stale(
    model: type[Model], *, requeue: Callable[[int], None], on_give_up: Callable[[Model], None]
) -> int:
    """Re-queue running jobs whose heartbeat went stale (a killed worker); give up after
    MAX_ATTEMPTS. Returns how many were re-queued."""
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.GROUNDED_JOB_STALE_SECONDS)
    requeued = 0
    for job in model.objects.filter(status=RUNNING, heartbeat_at__lt=cutoff):
        if job.attempts >= MAX_ATTEMPTS:
            on_give_up(job)
            continue
        if model.objects.filter(pk=job.pk, status=RUNNING, heartbeat_at__lt=cutoff).update(
            status=QUEUED, message="Restarting after a worker stopped."
        ):
            requeue(job.pk)
            requeued += 1
    return requeued

"""Celery tasks of the analyses: one-line interfaces over services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="analysis.analysis_run",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=3600,
    time_limit=3900,
)
def analysis_run_task(job_id: int) -> None:
    services.analysis_run(job_id=job_id)


@shared_task(
    name="analysis.analysis_chunks",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=3600,
    time_limit=3900,
)
def analysis_chunks_task(job_id: int) -> int:
    return services.analysis_chunks_help(job_id=job_id)


@shared_task(name="analysis.analysis_sweep_stale")
def analysis_sweep_stale_task() -> int:
    return services.analysis_sweep_stale()

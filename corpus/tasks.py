"""Celery tasks of the corpus: one-line interfaces over services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="corpus.import_batch_run",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 300,
)
def import_batch_run_task(batch_id: int) -> None:
    services.import_batch_run(batch_id=batch_id)


@shared_task(name="corpus.import_batch_sweep_stale")
def import_batch_sweep_stale_task() -> int:
    return services.import_batch_sweep_stale()


@shared_task(
    name="corpus.near_duplicates_scan", acks_late=True, soft_time_limit=3600, time_limit=3900
)
def near_duplicates_scan_task(batch_id: int) -> int:
    return services.near_duplicates_scan(batch_id=batch_id)

"""Every write of the corpus: creating import jobs and running them."""

import logging
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from coding_app.models import Project

from .importers import (
    ImportFileError,
    PostRecord,
    RowError,
    detect_mapping,
    normalize_row,
    open_rows,
    sniff_format,
)
from .models import ImportBatch, JobStatus, Post

logger = logging.getLogger(__name__)

CHUNK_ROWS = 1000
# Row messages kept on the job row; the counts are always complete.
MAX_ROW_MESSAGES = 1000
PROGRESS_INTERVAL_S = 1.0


class UploadTooLarge(Exception):
    pass


def upload_check_size(*, size: int) -> None:
    limit = settings.GROUNDED_MAX_UPLOAD_MB
    if size > limit * 1024 * 1024:
        raise UploadTooLarge(
            f"The file is {size / 1024 / 1024:.1f} MB; the upload limit is {limit} MB. "
            "Split it, or import it on the server with `manage.py import_posts`."
        )


def mapping_parse(spec: str) -> dict[str, str]:
    """Parse `text=COL,author=COL` (the --map syntax) into a field → column dict."""
    mapping = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ImportFileError(f"Cannot read the mapping “{part.strip()}”; write FIELD=COLUMN.")
        mapping[field.strip()] = column.strip()
    return mapping


def import_batch_create(
    *,
    project: Project,
    user,
    file_name: str,
    fileobj=None,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    enqueue: bool = True,
) -> ImportBatch:
    """Create the job row (QUEUED), keep the file, and enqueue the import after commit."""
    if fileobj is not None and getattr(fileobj, "size", None) is not None:
        upload_check_size(size=fileobj.size)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            project=project,
            created_by=user,
            file_name=Path(file_name).name[:255],
            format=fmt,
            mapping=mapping or {},
        )
        if fileobj is not None:
            batch.file.save(Path(file_name).name, File(fileobj), save=True)
        if enqueue:
            from .tasks import import_batch_run_task

            transaction.on_commit(lambda: import_batch_run_task.delay(batch.pk))
    return batch


def import_batch_cancel(*, batch: ImportBatch) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch.pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), message="Cancelled."
    )
    batch.refresh_from_db()
    if batch.status == JobStatus.CANCELLED:
        batch.posts.all().delete()
    return batch


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Cancelled(Exception):
    pass


def import_batch_run(*, batch_id: int, path: str | Path | None = None) -> ImportBatch | None:
    """Run an import job. Returns None when another delivery already claimed it.

    The claim is one conditional UPDATE (QUEUED → RUNNING), which makes redelivery safe.
    Posts are written in chunks; they stay invisible (the batch is not SUCCEEDED) until
    the end, and a failed, cancelled or re-run batch deletes what it wrote.
    """
    now = timezone.now()
    claimed = ImportBatch.objects.filter(pk=batch_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1,
        progress=0.0, message="",
    )
    if not claimed:
        logger.info("import batch %s: already claimed or finished; skipping", batch_id)
        return None
    batch = ImportBatch.objects.select_related("project").get(pk=batch_id)
    # A worker killed mid-import may have left posts behind: start clean.
    batch.posts.all().delete()
    try:
        if path is not None:
            with open(path, "rb") as fileobj:
                _import_file(batch, fileobj, total=Path(path).stat().st_size)
        else:
            with batch.file.open("rb") as fileobj:
                _import_file(batch, fileobj, total=batch.file.size)
    except _Cancelled:
        batch.posts.all().delete()
        return ImportBatch.objects.get(pk=batch_id)
    except ImportFileError as exc:
        _fail(batch, str(exc))
    except Exception:
        logger.exception("import batch %s failed", batch_id)
        _fail(batch, "The import failed because of an internal error; the log has details.")
        raise
    batch.refresh_from_db()
    return batch


def _fail(batch: ImportBatch, message: str) -> None:
    batch.posts.all().delete()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.FAILED, message=message, finished_at=timezone.now()
    )


def _import_file(batch: ImportBatch, fileobj, *, total: int) -> None:
    columns, rows = open_rows(fileobj, _resolve_format(batch, fileobj), encoding=None)
    mapping = detect_mapping(columns, batch.mapping or None)
    counts = {"total": 0, "imported": 0, "duplicates": 0, "rejected": 0}
    errors: list[dict] = []
    warnings: list[dict] = []
    seen_hashes: set[str] = set()
    seen_ids: set[str] = set()
    seen_urls: set[str] = set()
    last_progress = time.monotonic()

    for chunk in _chunks(rows, CHUNK_ROWS):
        records: list[PostRecord] = []
        for raw in chunk:
            counts["total"] += 1
            try:
                record = normalize_row(raw, mapping)
            except RowError as exc:
                counts["rejected"] += 1
                if len(errors) < MAX_ROW_MESSAGES:
                    errors.append({"row": raw.number, "message": str(exc)})
                continue
            for warning in record.warnings:
                if len(warnings) < MAX_ROW_MESSAGES:
                    warnings.append({"row": record.row, "message": warning})
            records.append(record)

        existing = _existing_keys(batch, records)
        new_posts = []
        for record in records:
            keys = (record.content_hash, record.external_id, record.url)
            if (
                record.content_hash in seen_hashes
                or (record.external_id and record.external_id in seen_ids)
                or (record.url and record.url in seen_urls)
                or any(key and key in existing for key in keys)
            ):
                counts["duplicates"] += 1
                continue
            seen_hashes.add(record.content_hash)
            if record.external_id:
                seen_ids.add(record.external_id)
            if record.url:
                seen_urls.add(record.url)
            new_posts.append(_post_from_record(batch, record))
        Post.objects.bulk_create(new_posts, batch_size=CHUNK_ROWS)
        counts["imported"] += len(new_posts)

        if time.monotonic() - last_progress >= PROGRESS_INTERVAL_S:
            last_progress = time.monotonic()
            _heartbeat(batch, counts, _position(fileobj, total))

    with transaction.atomic():
        # Finish only if nobody cancelled meanwhile (conditional UPDATE, not a read-then-write).
        finished = ImportBatch.objects.filter(pk=batch.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.SUCCEEDED,
            progress=1.0,
            heartbeat_at=timezone.now(),
            finished_at=timezone.now(),
            total_rows=counts["total"],
            imported_count=counts["imported"],
            duplicate_count=counts["duplicates"],
            rejected_count=counts["rejected"],
            row_errors=errors,
            row_warnings=warnings,
            mapping=mapping,
            message=_summary(counts),
        )
    if not finished:
        raise _Cancelled


def _summary(counts: dict) -> str:
    return (
        f"{counts['imported']} imported, {counts['duplicates']} duplicates, "
        f"{counts['rejected']} rejected of {counts['total']} rows."
    )


def _heartbeat(batch: ImportBatch, counts: dict, progress: float) -> None:
    updated = ImportBatch.objects.filter(pk=batch.pk, status=JobStatus.RUNNING).update(
        progress=min(progress, 0.99),
        heartbeat_at=timezone.now(),
        total_rows=counts["total"],
        imported_count=counts["imported"],
        duplicate_count=counts["duplicates"],
        rejected_count=counts["rejected"],
    )
    if not updated:
        raise _Cancelled


def _position(fileobj, total: int) -> float:
    try:
        return fileobj.tell() / total if total else 0.0
    except (OSError, ValueError, AttributeError):
        return 0.0


def _resolve_format(batch: ImportBatch, fileobj) -> str:
    if batch.format and batch.format != "auto":
        return batch.format
    head = fileobj.read(65536)
    fileobj.seek(0)
    return sniff_format(batch.file_name, head)


def _existing_keys(batch: ImportBatch, records: list[PostRecord]) -> set[str]:
    """Hashes, external ids and URLs of these records already in the project."""
    if not records:
        return set()
    hashes = {r.content_hash for r in records}
    ids = {r.external_id for r in records if r.external_id}
    urls = {r.url for r in records if r.url}
    query = Q(content_hash__in=hashes)
    if ids:
        query |= Q(external_id__in=ids)
    if urls:
        query |= Q(url__in=urls)
    found: set[str] = set()
    rows = (
        Post.objects.filter(project_id=batch.project_id)
        .exclude(batch_id=batch.pk)
        .filter(query)
        .values_list("content_hash", "external_id", "url")
    )
    for content_hash, external_id, url in rows:
        found.add(content_hash)
        if external_id in ids:
            found.add(external_id)
        if url in urls:
            found.add(url)
    return found


def _post_from_record(batch: ImportBatch, record: PostRecord) -> Post:
    return Post(
        project_id=batch.project_id,
        batch=batch,
        external_id=record.external_id[:255],
        author=record.author[:255],
        author_headline=record.author_headline[:500],
        posted_at=record.posted_at,
        url=record.url[:2000],
        text=record.text,
        word_count=record.word_count,
        content_hash=record.content_hash,
        metadata=record.metadata,
    )


def import_batch_sweep_stale() -> int:
    """Re-queue jobs whose worker died (stale heartbeat); give up after three attempts."""
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.GROUNDED_JOB_STALE_SECONDS)
    stale = ImportBatch.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
    requeued = 0
    for batch in stale:
        if batch.attempts >= 3:
            _fail(batch, "The import was interrupted three times (a worker stopped); giving up.")
            continue
        if ImportBatch.objects.filter(
            pk=batch.pk, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(status=JobStatus.QUEUED, message="Restarting after a worker stopped."):
            from .tasks import import_batch_run_task

            import_batch_run_task.delay(batch.pk)
            requeued += 1
    return requeued

"""Import jobs: creating them, running them, cancelling them, sweeping stale ones."""

import codecs
import logging
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.db import connection, models, transaction
from django.db.models.functions import Length
from django.utils import timezone

from coding_app.jobs import job_claim, job_fail, job_finish, job_heartbeat, job_sweep_stale
from coding_app.models import Project

from ..importers import (
    ImportFileError,
    PostRecord,
    RowError,
    detect_mapping,
    open_rows,
    row_normalizer,
    sniff_format,
)
from ..models import ImportBatch, JobStatus
from ..writer import BackgroundWriter, PostWriter

logger = logging.getLogger(__name__)

FORMATS = ("auto", "csv", "tsv", "json", "jsonl", "linkedin", "xlsx", "txt")
CHUNK_ROWS = 2000
# Row messages kept on the job row; the counts are always complete.
MAX_ROW_MESSAGES = 1000
PROGRESS_INTERVAL_S = 1.0
ANALYZE_AFTER_ROWS = 10_000  # imports at least this large vacuum and analyse the posts table


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
    name: str = "",
    encoding: str = "",
    strict: bool = False,
    enqueue: bool = True,
    draft: bool = False,
) -> ImportBatch:
    """Create the job row (QUEUED), keep the file, and enqueue the import after commit.

    A `draft` batch keeps the file and waits for the admin to confirm the column mapping.
    """
    if fileobj is not None and getattr(fileobj, "size", None) is not None:
        upload_check_size(size=fileobj.size)
    if fmt not in FORMATS:
        raise ImportFileError(f"Unknown format “{fmt}”; choose one of {', '.join(FORMATS)}.")
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise ImportFileError(
                f"Unknown text encoding “{encoding}” (try utf-8 or cp1252)."
            ) from exc
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            project=project,
            created_by=user,
            file_name=Path(file_name).name[:255],
            format=fmt,
            mapping=mapping or {},
            name=name[:200],
            encoding=encoding,
            strict=strict,
            status=JobStatus.DRAFT if draft else JobStatus.QUEUED,
        )
        if fileobj is not None:
            batch.file.save(Path(file_name).name, File(fileobj), save=True)
        if enqueue and not draft:
            from ..tasks import import_batch_run_task

            transaction.on_commit(lambda: import_batch_run_task.delay(batch.pk))
    return batch


def import_batch_preview(*, batch: ImportBatch, rows: int = 8) -> dict:
    """The first rows of an uploaded file and the detected mapping, for the mapping page."""
    preview = {"columns": [], "rows": [], "mapping": {}, "format": batch.format, "error": ""}
    try:
        with batch.file.open("rb") as fileobj:
            fmt = _resolve_format(batch, fileobj)
            preview["format"] = fmt
            columns, iterator = open_rows(fileobj, fmt, encoding=batch.encoding or None)
            preview["columns"] = columns
            for raw in iterator:
                preview["rows"].append(
                    {
                        "number": raw.number,
                        "cells": [raw.fields.get(c, "") for c in columns],
                        "error": getattr(raw, "error", None),
                    }
                )
                if len(preview["rows"]) >= rows:
                    break
        try:
            preview["mapping"] = detect_mapping(preview["columns"], batch.mapping or None)
        except ImportFileError as exc:
            preview["error"] = str(exc)
    except ImportFileError as exc:
        preview["error"] = str(exc)
    return preview


@transaction.atomic
def import_batch_start(
    *,
    batch: ImportBatch,
    mapping: dict[str, str],
    fmt: str | None = None,
    encoding: str | None = None,
    strict: bool | None = None,
    name: str | None = None,
) -> ImportBatch:
    """Queue a draft batch with the mapping the admin chose."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != JobStatus.DRAFT:
        return batch
    batch.mapping = {field: column for field, column in mapping.items() if column}
    if fmt is not None:
        batch.format = fmt
    if encoding is not None:
        batch.encoding = encoding
    if strict is not None:
        batch.strict = strict
    if name is not None:
        batch.name = name[:200]
    batch.status = JobStatus.QUEUED
    batch.save()
    from ..tasks import import_batch_run_task

    transaction.on_commit(lambda: import_batch_run_task.delay(batch.pk))
    return batch


def import_batch_cancel(*, batch: ImportBatch) -> ImportBatch:
    ImportBatch.objects.filter(
        pk=batch.pk, status__in=[JobStatus.DRAFT, JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.CANCELLED, finished_at=timezone.now(), message="Cancelled.")
    batch.refresh_from_db()
    if batch.status == JobStatus.CANCELLED:
        _posts_delete(batch.posts.all())
    return batch


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Cancelled(Exception):
    pass


def import_batch_run(
    *, batch_id: int, path: str | Path | None = None, scan_near_duplicates: bool = True
) -> ImportBatch | None:
    """Run an import job. Returns None when another delivery already claimed it.

    The claim is one conditional UPDATE (QUEUED → RUNNING), which makes redelivery safe.
    Posts are written in chunks; they stay invisible (the batch is not SUCCEEDED) until
    the end, and a failed, cancelled or re-run batch deletes what it wrote.
    """
    claimed = job_claim(ImportBatch, batch_id)
    if not claimed:
        logger.info("import batch %s: already claimed or finished; skipping", batch_id)
        return None
    batch = ImportBatch.objects.select_related("project").get(pk=batch_id)
    # A worker killed mid-import may have left posts behind: start clean.
    _posts_delete(batch.posts.all())
    try:
        if path is not None:
            with open(path, "rb") as fileobj:
                _import_file(batch, fileobj, total=Path(path).stat().st_size)
        else:
            with batch.file.open("rb") as fileobj:
                _import_file(batch, fileobj, total=batch.file.size)
    except _Cancelled:
        _posts_delete(batch.posts.all())
        return ImportBatch.objects.get(pk=batch_id)
    except ImportFileError as exc:
        _fail(batch, str(exc))
    except Exception:
        logger.exception("import batch %s failed", batch_id)
        _fail(batch, "The import failed because of an internal error; the log has details.")
        raise
    batch.refresh_from_db()
    if batch.status == JobStatus.SUCCEEDED and batch.imported_count >= ANALYZE_AFTER_ROWS:
        _analyze_posts()
    if batch.status == JobStatus.SUCCEEDED and batch.imported_count and scan_near_duplicates:
        if path is not None:  # the command line waits for the scan; workers queue it
            near_duplicates_scan(batch_id=batch.pk)
            batch.refresh_from_db()
        else:
            from ..tasks import near_duplicates_scan_task

            transaction.on_commit(lambda: near_duplicates_scan_task.delay(batch.pk))
    return batch


def _analyze_posts() -> None:
    """Vacuum and analyse the posts table after a large import rather than waiting for
    autovacuum (which may be off, or a minute away).

    Statistics let the next queries be planned for the table's new size (a word tree right
    after importing 100,000 posts took 1.2 s with stale statistics, 0.8 s after). Vacuuming
    marks the new pages all-visible, so counting a project's posts, or cutting a frequency
    job into chunks, reads the (project, id) index alone: 42 ms -> 8 ms and 88 ms -> 33 ms
    for 100,000 posts, against 0.18 s for the vacuum itself, once.
    """
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        from ..models import Post

        table = connection.ops.quote_name(Post._meta.db_table)
        with connection.cursor() as cursor:
            # Statistics for the columns queries select posts by (project, batch, inclusion
            # criteria); the table's size is updated whatever the columns. Leaving out the
            # texts, the metadata and the LSH records halved the ANALYZE (0.32 s -> 0.16 s
            # for 250,000 tweets), and their old statistics stay.
            cursor.execute(
                f"VACUUM (ANALYZE) {table} (id, project_id, batch_id, posted_at, word_count)"
            )


def _posts_delete(posts) -> None:
    """Delete posts and everything that cascades from them (codings, assignments, marks,
    near-duplicate flags ...), one statement per related table, children first.

    Django's delete collects every object first: 26 s and 1,554 queries for a batch of
    154,000 posts. The relations are read from the models, so a new one is followed too;
    one this does not know how to follow (PROTECT, RESTRICT, SET_DEFAULT ...) hands the
    whole deletion back to Django.
    """
    with transaction.atomic():
        try:
            _cascade_delete(posts.model, posts.order_by())
            return
        except _NotSetBased:
            transaction.set_rollback(True)
    posts.delete()  # rolled back: the collector's way


class _NotSetBased(Exception):
    pass


def _cascade_delete(model, rows, path: tuple = ()) -> None:
    if model in path:  # a cycle of cascades (a tree of rows): the collector's job
        raise _NotSetBased
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and relation.is_relation and not relation.concrete):
            continue
        if relation.many_to_many:  # its through table's foreign key is listed on its own
            continue
        related = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": rows.values("pk")}
        )
        if relation.on_delete is models.CASCADE:
            _cascade_delete(relation.related_model, related, (*path, model))
        elif relation.on_delete is models.SET_NULL:
            related.update(**{relation.field.name: None})
        elif relation.on_delete is not models.DO_NOTHING:
            raise _NotSetBased
    rows._raw_delete(rows.db)


def _fail(batch: ImportBatch, message: str) -> None:
    _posts_delete(batch.posts.all())
    job_fail(ImportBatch, batch.pk, message)


def _import_file(batch: ImportBatch, fileobj, *, total: int) -> None:
    columns, rows = open_rows(
        fileobj, _resolve_format(batch, fileobj), encoding=batch.encoding or None
    )
    mapping = detect_mapping(columns, batch.mapping or None)
    normalize_row = row_normalizer(mapping)
    counts = {"total": 0, "imported": 0, "duplicates": 0, "rejected": 0}
    errors: list[dict] = []
    warnings: list[dict] = []
    writer = PostWriter(project_id=batch.project_id, batch_id=batch.pk)
    # On PostgreSQL a second connection writes while this thread parses (SQLite has one
    # writer). Inside a transaction that connection could not see the batch row, so not then.
    sink = BackgroundWriter(writer) if writer.use_copy and not connection.in_atomic_block else None
    last_progress = time.monotonic()

    def written() -> tuple[int, int]:
        return (
            (sink.inserted, sink.duplicates) if sink else (counts["imported"], counts["duplicates"])
        )

    try:
        for chunk in _chunks(rows, CHUNK_ROWS):
            records: list[PostRecord] = []
            for raw in chunk:
                counts["total"] += 1
                try:
                    record = normalize_row(raw)
                except RowError as exc:
                    if batch.strict:
                        raise ImportFileError(
                            f"Row {raw.number}: {exc}. Strict mode imports nothing when a row is "
                            "rejected; fix the row or import without strict mode."
                        ) from exc
                    counts["rejected"] += 1
                    if len(errors) < MAX_ROW_MESSAGES:
                        errors.append({"row": raw.number, "message": str(exc)})
                    continue
                for warning in record.warnings:
                    if len(warnings) < MAX_ROW_MESSAGES:
                        warnings.append({"row": record.row, "message": warning})
                records.append(record)

            if sink:
                sink.submit(records)
            else:
                inserted, duplicates = writer.write(records)
                counts["imported"] += inserted
                counts["duplicates"] += duplicates

            if time.monotonic() - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = time.monotonic()
                counts["imported"], counts["duplicates"] = written()
                _heartbeat(batch, counts, _position(fileobj, total))
    finally:
        if sink:
            sink.close()
    counts["imported"], counts["duplicates"] = written()

    finished = job_finish(
        ImportBatch,
        batch.pk,
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
    if not job_heartbeat(
        ImportBatch,
        batch.pk,
        progress=progress,
        total_rows=counts["total"],
        imported_count=counts["imported"],
        duplicate_count=counts["duplicates"],
        rejected_count=counts["rejected"],
    ):
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


@transaction.atomic
def import_batch_delete(*, batch: ImportBatch, confirm: bool = False) -> int:
    """Delete a batch and its posts. Refused while it runs, and when its posts carry
    codings unless the admin confirms; returns the number of codings deleted with it."""
    from coding_app.models import Coding

    if batch.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise ImportFileError("Cancel the import before deleting the batch.")
    codings = Coding.objects.filter(post__batch=batch).count()
    if codings and not confirm:
        raise BatchHasCodings(codings)
    _posts_delete(batch.posts.all())
    if batch.file:
        batch.file.delete(save=False)
    batch.delete()
    return codings


class BatchHasCodings(Exception):
    def __init__(self, count: int):
        super().__init__(
            f"The posts of this batch carry {count} coding{'s' if count != 1 else ''}; "
            "deleting the batch deletes them too. Confirm to delete anyway."
        )
        self.count = count


def import_batch_sweep_stale() -> int:
    """Re-queue imports whose worker died (stale heartbeat); give up after three attempts."""
    from ..tasks import import_batch_run_task

    return job_sweep_stale(
        ImportBatch,
        requeue=lambda pk: import_batch_run_task.delay(pk),
        on_give_up=lambda batch: _fail(
            batch, "The import was interrupted three times (a worker stopped); giving up."
        ),
    )


NEAR_DUPLICATE_THRESHOLD = 0.8


def near_duplicates_scan(*, batch_id: int) -> int:
    """Flag posts of a batch that nearly repeat another post of the project (never deletes).

    Returns the number of pairs flagged; it is also stored on the batch. Posts carry their
    LSH record from the import (``Post.lsh``); posts that came another way (REFI-QDA, a
    restored backup, a database from before records were kept) get theirs here, once. So
    a scan tokenises only the texts of candidate pairs, to verify them.
    """
    from ..models import Post
    from ..near_duplicates import MIN_WORDS, near_duplicate_id_arrays

    batch = ImportBatch.objects.get(pk=batch_id)
    posts = Post.objects.filter(project_id=batch.project_id, word_count__gte=MIN_WORDS)
    found = 0
    if posts.filter(batch=batch).exists():
        _lsh_fill(posts.filter(lsh__isnull=True))

        earlier, later, similarity = near_duplicate_id_arrays(
            _record_blocks(posts.exclude(batch=batch), posts.filter(batch=batch)),
            threshold=NEAR_DUPLICATE_THRESHOLD,
            texts_of=_texts_of,
        )
        # Only pairs whose later post is new are the batch's to flag.
        new_ids = np.fromiter(posts.filter(batch=batch).values_list("id", flat=True), np.int64)
        new = np.isin(later, new_ids)
        found = _near_duplicates_save(batch.project_id, later[new], earlier[new], similarity[new])
    ImportBatch.objects.filter(pk=batch_id).update(near_duplicate_count=found)
    return found


def _record_blocks(*parts) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The LSH records of each queryset of posts in turn, by id, as blocks of (ids, records)
    arrays. On PostgreSQL a binary COPY is read straight into arrays, with no Python object
    per post; elsewhere rows are read and packed."""
    from ..near_duplicates import _RECORD_BLOCK, RECORD_DTYPE, RECORD_SIZE

    for posts in parts:
        # Only whole records: an empty one is a text without words, never a near-duplicate.
        rows = (
            posts.annotate(record_size=Length("lsh"))
            .filter(record_size=RECORD_SIZE)
            .order_by("id")
            .values_list("id", "lsh")
        )
        if connection.vendor == "postgresql":
            yield from _copied_record_blocks(rows)
            continue
        rows = rows.iterator(chunk_size=_RECORD_BLOCK)
        while block := list(islice(rows, _RECORD_BLOCK)):
            yield (
                np.array([i for i, _ in block], np.int64),
                np.frombuffer(b"".join(bytes(r) for _, r in block), RECORD_DTYPE),
            )


# A row of `COPY (SELECT id, lsh ...) TO STDOUT (FORMAT binary)` whose record has its full
# size: field count, then each field's length and bytes (big-endian; the record's own
# band keys are little-endian).
_COPY_HEADER = 19  # signature (11 bytes), flags (4), header extension length (4, zero)


def _copied_record_blocks(rows) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    from ..near_duplicates import _RECORD_BLOCK, BANDS

    row_type = np.dtype(
        [
            ("fields", ">i2"),
            ("id_size", ">i4"),
            ("id", ">i8"),
            ("record_size", ">i4"),
            ("digest", "S16"),
            ("bands", "<i8", (BANDS,)),
        ]
    )
    query, params = rows.query.sql_with_params()
    pending = bytearray()
    started = False
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)", params) as copy:
            for data in copy:
                pending += data
                if not started and len(pending) >= _COPY_HEADER:
                    if bytes(pending[:11]) != b"PGCOPY\n\xff\r\n\x00" or any(pending[15:19]):
                        raise RuntimeError("unexpected binary COPY header from PostgreSQL")
                    del pending[:_COPY_HEADER]
                    started = True
                while started and len(pending) >= _RECORD_BLOCK * row_type.itemsize:
                    yield _rows_as_block(pending, _RECORD_BLOCK, row_type)
                    del pending[: _RECORD_BLOCK * row_type.itemsize]
    whole = len(pending) // row_type.itemsize  # the trailer (two bytes) is not a row
    if started and whole:
        yield _rows_as_block(pending, whole, row_type)


def _rows_as_block(pending: bytearray, whole: int, row_type) -> tuple[np.ndarray, np.ndarray]:
    from ..near_duplicates import RECORD_DTYPE

    rows = np.frombuffer(bytes(pending[: whole * row_type.itemsize]), row_type)
    records = np.empty(whole, RECORD_DTYPE)
    records["digest"], records["bands"] = rows["digest"], rows["bands"]
    return rows["id"].astype(np.int64), records


def _texts_of(ids: list[int]) -> dict[int, str]:
    from ..models import Post

    if connection.vendor == "postgresql":  # one array parameter, not one per id
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, text FROM {Post._meta.db_table} WHERE id = ANY(%s)", [ids])
            return dict(cursor.fetchall())
    return dict(Post.objects.filter(pk__in=ids).values_list("id", "text"))


def _lsh_fill(posts) -> int:
    """Compute and store the LSH record of posts that have none; returns how many."""
    from ..models import Post
    from ..near_duplicates import lsh_records

    ids = list(posts.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), 2000):
        texts = _texts_of(ids[start : start + 2000])
        records = dict(zip(texts, lsh_records(list(texts.values())), strict=True))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Post._meta.db_table} AS p SET lsh = v.lsh "
                    "FROM unnest(%s::bigint[], %s::bytea[]) AS v(id, lsh) WHERE p.id = v.id",
                    [list(records), list(records.values())],
                )
        else:
            Post.objects.bulk_update(
                [Post(pk=post_id, lsh=record) for post_id, record in records.items()], ["lsh"]
            )
    return len(ids)


# Pairs saved per statement: three arrays of this many values (psycopg holds a Python
# object per value while it sends them; 50,000 a statement cost 28 MB at the peak).
_SAVE_BLOCK = 10_000


def _near_duplicates_save(
    project_id: int, post_ids: np.ndarray, similar_to_ids: np.ndarray, similarities: np.ndarray
) -> int:
    """Store (post, similar_to, similarity) pairs, given as three arrays, skipping pairs
    already flagged."""
    from ..models import NearDuplicate

    if connection.vendor != "postgresql":
        NearDuplicate.objects.bulk_create(
            [
                NearDuplicate(project_id=project_id, post_id=a, similar_to_id=b, similarity=s)
                for a, b, s in zip(
                    post_ids.tolist(), similar_to_ids.tolist(), similarities.tolist(), strict=True
                )
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        return len(post_ids)
    # Arrays, not one ORM object per pair: a 1,000,000-post import can flag 100,000s.
    table = NearDuplicate._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(post_ids), _SAVE_BLOCK):
            stop = start + _SAVE_BLOCK
            cursor.execute(
                f"INSERT INTO {table} (project_id, post_id, similar_to_id, similarity, status, "
                "created_at) SELECT %s, p, s, sim, %s, %s FROM unnest(%s::bigint[], "
                "%s::bigint[], %s::float8[]) AS t(p, s, sim) ON CONFLICT DO NOTHING",
                [
                    project_id,
                    NearDuplicate.Status.OPEN,
                    now,
                    post_ids[start:stop].tolist(),
                    similar_to_ids[start:stop].tolist(),
                    similarities[start:stop].tolist(),
                ],
            )
    return len(post_ids)

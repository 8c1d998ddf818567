"""Counting a large corpus in parallel: a frequency job cut into chunks that any free worker
counts, then merged.

The job's own task cuts the documents into chunks of about CHUNK_DOCS by id, enqueues one
helper task and then counts chunks itself; a helper that finds a chunk while others wait
enqueues one more, so every free worker joins in turn. Every counter (the job's task or
a helper) takes the next chunk with one conditional UPDATE (queued → running), so a chunk is
counted once however the tasks are delivered; with one worker the job's task ends up counting
every chunk and the helpers find nothing left. A chunk whose counter died (its claim older
than the stale-job limit, still unfinished) is taken back and counted again. The job's task
merges when every chunk is done. Adding workers (on this machine or others) shortens a job.
"""

import time
from collections import Counter

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.utils import timezone

from coding_app.jobs import job_heartbeat
from corpus.models import JobStatus

from .models import AnalysisChunk, AnalysisJob
from .tally import tally_pack, tally_unpack
from .text.tokenize import word_counts

# Small enough that two or three workers share 100,000 posts evenly (5 chunks left one worker
# counting 3 while the other counted 2: 0.6 of one worker's time at best; 10 chunks, 0.5).
CHUNK_DOCS = settings.GROUNDED_CHUNK_DOCS  # 10,000 unless the environment says otherwise
# Below this many documents a job counts alone (the hand-off costs more than it saves).
PARALLEL_MIN_DOCS = settings.GROUNDED_PARALLEL_MIN_DOCS  # 40,000
WAIT_SECONDS = 0.01


# The last chunk has no upper id: whatever the scope holds past its first id is in it.
OPEN_END = 2**63 - 1


def chunks_plan(job: AnalysisJob, rows, total: int) -> list[AnalysisChunk]:
    """Cut the job's documents (an id-ordered values_list of `total` rows) into chunks of
    CHUNK_DOCS; replaces old ones.

    The database numbers the documents in id order and returns only the ids where chunks
    start, not every id (reading 100,000 ids cost the job a tenth of a second before any
    worker could start), and not their count either (the caller has it: asking the window
    for it made the database keep every row until the last).
    """
    AnalysisChunk.objects.filter(job=job).delete()
    try:
        sql, params = rows.order_by().values_list("id", flat=True).query.sql_with_params()
    except EmptyResultSet:  # a scope Django knows to be empty (an empty list of ids)
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(
            "SELECT id FROM ("
            f" SELECT id, row_number() OVER (ORDER BY id) AS position FROM ({sql}) AS documents"
            ") AS numbered WHERE (position - 1) %% %s = 0 ORDER BY position",
            [*params, CHUNK_DOCS],
        )
        starts = [row[0] for row in cursor.fetchall()]
    chunks = [
        AnalysisChunk(
            job=job,
            index=n,
            first_id=first,
            # The next chunk's first id is the next document's; the last chunk is open, so
            # documents that became visible since the count are not left out.
            last_id=starts[n + 1] - 1 if n + 1 < len(starts) else OPEN_END,
            documents=max(0, min(CHUNK_DOCS, total - n * CHUNK_DOCS)),
        )
        for n, first in enumerate(starts)
    ]
    return AnalysisChunk.objects.bulk_create(chunks)


def chunk_claim(job_id: int) -> AnalysisChunk | None:
    """The next queued chunk of the job, now running for the caller (None: none left)."""
    for chunk in AnalysisChunk.objects.filter(job_id=job_id, status=JobStatus.QUEUED).order_by(
        "index"
    ):
        if AnalysisChunk.objects.filter(pk=chunk.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, claimed_at=timezone.now()
        ):
            return chunk
    return None


def chunk_texts(chunk: AnalysisChunk, rows) -> list[str]:
    """The texts of the chunk's documents, in one round trip (a server-side cursor read in
    steps took half as long again)."""
    try:
        sql, params = rows.filter(
            id__gte=chunk.first_id, id__lte=chunk.last_id
        ).query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        return [row[1] for row in cursor.fetchall()]


def chunk_count(chunk: AnalysisChunk, rows, *, keep: bool = True) -> Counter:
    """Count one chunk's documents and mark it done. A helper keeps the counts on the chunk
    for the job to merge (``keep``); the job's own task merges its chunks in memory."""
    counts = word_counts(chunk_texts(chunk, rows))
    AnalysisChunk.objects.filter(pk=chunk.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.SUCCEEDED,
        tally=tally_pack(counts) if keep else None,
        finished_at=timezone.now(),
    )
    return counts


def chunks_help(job_id: int, rows, *, enqueue=None) -> int:
    """A helper task's work: count queued chunks until none is left; returns how many.

    A helper that finds work while more chunks wait asks for one more helper
    (`enqueue(job_id)`), so every free worker joins in turn, while a busy queue gets at
    most one helper that finds nothing left, not one per chunk.
    """
    counted = 0
    while AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).exists():
        chunk = chunk_claim(job_id)
        if chunk is None:
            break
        if (
            not counted
            and enqueue is not None
            and AnalysisChunk.objects.filter(job_id=job_id, status=JobStatus.QUEUED).exists()
        ):
            enqueue(job_id)
        chunk_count(chunk, rows)
        counted += 1
    return counted


def count_in_chunks(job: AnalysisJob, rows, total: int, *, enqueue, cancelled) -> Counter:
    """Count every document of the job in chunks, with whatever workers are free, and merge.

    `enqueue(job_id)` sends one helper task (which sends the next, see chunks_help);
    `cancelled()` raises when the job stopped.
    """
    chunks = chunks_plan(job, rows, total)
    if len(chunks) > 1:
        enqueue(job.pk)
    stale = timezone.timedelta(seconds=settings.GROUNDED_JOB_STALE_SECONDS)
    beat = 0.0
    merged: Counter = Counter()
    own: set[int] = set()  # chunks this task counted (merged already)
    taken: set[int] = set()  # helpers' chunks merged so far

    def merge_finished() -> None:
        # Helpers' chunks are merged as they finish, while the others are still counting,
        # so that little is left to merge when the last chunk is done.
        done = AnalysisChunk.objects.filter(job=job, status=JobStatus.SUCCEEDED).exclude(
            pk__in=own | taken
        )
        for pk, tally in done.values_list("pk", "tally"):
            merged.update(tally_unpack(tally))
            taken.add(pk)

    while True:
        chunk = chunk_claim(job.pk)
        if chunk is not None:
            merged.update(chunk_count(chunk, rows, keep=False))
            own.add(chunk.pk)
            merge_finished()
        else:
            merge_finished()
            left = AnalysisChunk.objects.filter(job=job).exclude(status=JobStatus.SUCCEEDED)
            if not left.exists():
                merge_finished()  # a chunk that finished after the first look
                break
            # A helper whose worker died leaves its chunk running: take it back.
            left.filter(status=JobStatus.RUNNING, claimed_at__lt=timezone.now() - stale).update(
                status=JobStatus.QUEUED
            )
            time.sleep(WAIT_SECONDS)
        if time.monotonic() - beat >= 1.0:  # progress and heartbeat at most once a second
            beat = time.monotonic()
            done = AnalysisChunk.objects.filter(job=job, status=JobStatus.SUCCEEDED)
            counted = sum(done.values_list("documents", flat=True))
            if not job_heartbeat(AnalysisJob, job.pk, progress=counted / total if total else 0):
                cancelled()
    AnalysisChunk.objects.filter(job=job).delete()
    return merged

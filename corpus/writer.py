"""Writes normalised post records to the database in chunks, skipping duplicates.

Memory stays flat: duplicates are found per chunk (a set for the chunk, indexed look-ups for
everything already in the project, including earlier chunks of the same file). On PostgreSQL
rows go in with COPY; elsewhere with bulk_create.
"""

import json
import queue
import threading
from collections.abc import Iterable

from django.db import close_old_connections, connection
from django.utils import timezone

from .importers import PostRecord
from .models import Post

COPY_COLUMNS = (
    "project_id",
    "batch_id",
    "external_id",
    "author",
    "author_headline",
    "posted_at",
    "url",
    "text",
    "word_count",
    "content_hash",
    "metadata",
    "created_at",
)


class PostWriter:
    def __init__(self, *, project_id: int, batch_id: int):
        self.project_id = project_id
        self.batch_id = batch_id
        self.use_copy = connection.vendor == "postgresql"

    def write(self, records: list[PostRecord]) -> tuple[list[PostRecord], list[PostRecord]]:
        """Insert the records that are new; return (inserted, duplicates)."""
        fresh, duplicates = self._split_duplicates(records)
        if fresh:
            if self.use_copy:
                self._copy(fresh)
            else:
                Post.objects.bulk_create([self._post(r) for r in fresh], batch_size=1000)
        return fresh, duplicates

    def _split_duplicates(self, records: list[PostRecord]):
        hashes = self._existing("content_hash", {r.content_hash for r in records})
        ids = self._existing("external_id", {r.external_id for r in records if r.external_id})
        urls = self._existing("url", {r.url[:2000] for r in records if r.url})
        fresh, duplicates = [], []
        for record in records:
            url = record.url[:2000]
            if (
                record.content_hash in hashes
                or (record.external_id and record.external_id in ids)
                or (url and url in urls)
            ):
                duplicates.append(record)
                continue
            # Later rows of the same chunk compare against this one.
            hashes.add(record.content_hash)
            if record.external_id:
                ids.add(record.external_id)
            if url:
                urls.add(url)
            fresh.append(record)
        return fresh, duplicates

    def _existing(self, field: str, values: set[str]) -> set[str]:
        if not values:
            return set()
        # One indexed look-up per key (an OR across keys would defeat the indexes).
        if self.use_copy:
            # One array parameter instead of thousands of placeholders.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {field} FROM {Post._meta.db_table} "
                    f"WHERE project_id = %s AND {field} = ANY(%s)",
                    [self.project_id, list(values)],
                )
                return {row[0] for row in cursor.fetchall()}
        return set(
            Post.objects.filter(project_id=self.project_id, **{f"{field}__in": values}).values_list(
                field, flat=True
            )
        )

    def _post(self, record: PostRecord) -> Post:
        return Post(
            project_id=self.project_id,
            batch_id=self.batch_id,
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

    def _copy(self, records: Iterable[PostRecord]) -> None:
        now = timezone.now()
        sql = f"COPY {Post._meta.db_table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for r in records:
                copy.write_row(
                    (
                        self.project_id,
                        self.batch_id,
                        r.external_id[:255],
                        r.author[:255],
                        r.author_headline[:500],
                        r.posted_at,
                        r.url[:2000],
                        r.text,
                        r.word_count,
                        r.content_hash,
                        json.dumps(r.metadata, ensure_ascii=False),
                        now,
                    )
                )


class BackgroundWriter:
    """Runs a PostWriter in a thread of its own, so parsing the next chunk overlaps with the
    database writing the last one (the thread waits on PostgreSQL without holding the GIL).

    Chunks are written in order; `inserted` and `duplicates` count what is done so far.
    """

    _DONE = object()

    def __init__(self, writer: PostWriter, *, depth: int = 2):
        self.writer = writer
        self.inserted = 0
        self.duplicates = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="post-writer", daemon=True)
        self._thread.start()

    def submit(self, records: list[PostRecord]) -> None:
        self._raise()
        self._queue.put(records)

    def close(self) -> None:
        """Wait for every submitted chunk; re-raise the writer's error, if any."""
        self._queue.put(self._DONE)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while (records := self._queue.get()) is not self._DONE:
                if self.error is None:
                    inserted, duplicates = self.writer.write(records)
                    self.inserted += len(inserted)
                    self.duplicates += len(duplicates)
        except BaseException as exc:  # handed to the importing thread
            self.error = exc
            while self._queue.get() is not self._DONE:  # let the producer finish
                pass
        finally:
            close_old_connections()
            connection.close()

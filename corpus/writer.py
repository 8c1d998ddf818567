"""Writes normalised post records to the database in chunks, skipping duplicates.

Memory stays flat: duplicates are found per chunk (a set for the chunk, indexed look-ups for
everything already in the project, including earlier chunks of the same file). On PostgreSQL
rows go in with COPY; elsewhere with bulk_create.
"""

import json
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from .importers import PostRecord
from .models import Post

COPY_COLUMNS = (
    "project_id", "batch_id", "external_id", "author", "author_headline", "posted_at", "url",
    "text", "word_count", "content_hash", "metadata", "created_at",
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
        return set(
            Post.objects.filter(project_id=self.project_id, **{f"{field}__in": values})
            .values_list(field, flat=True)
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
                copy.write_row((
                    self.project_id, self.batch_id, r.external_id[:255], r.author[:255],
                    r.author_headline[:500], r.posted_at, r.url[:2000], r.text, r.word_count,
                    r.content_hash, json.dumps(r.metadata, ensure_ascii=False), now,
                ))

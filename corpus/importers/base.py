"""Errors and records shared by the import readers, the mapping and the normaliser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ImportFileError(Exception):
    """The whole file cannot be imported; the message is shown to the researcher as is."""


class RowError(Exception):
    """One row cannot be imported; the message says what is wrong with it."""


@dataclass
class RawRow:
    """One row as read from the file, before mapping.

    ``number`` is the row number a user sees (spreadsheet row, JSONL line, JSON item).
    ``error`` is set when the row could not be read at all (a JSONL line that is not valid
    JSON or not an object, undecodable bytes, a JSON item that is not an object);
    ``fields`` is then empty and ``normalize_row`` raises ``RowError(error)``.
    """

    number: int
    fields: dict[str, object]
    error: str | None = None


@dataclass
class PostRecord:
    row: int
    text: str
    author: str
    author_headline: str
    posted_at: datetime | None
    url: str
    external_id: str
    metadata: dict[str, object]
    word_count: int
    content_hash: str
    warnings: list[str] = field(default_factory=list)

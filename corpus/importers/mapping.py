"""Which column of an imported file holds each post field."""

from __future__ import annotations

import re

from .base import ImportFileError

FIELDS = ("text", "author", "author_headline", "posted_at", "url", "external_id")

# Earlier synonyms win when several columns match one field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "content",
        "body",
        "post",
        "post_text",
        "message",
        "sharecommentary",
        "commentary",
        "tweet",
        "full_text",
    ),
    "author": ("author", "author_name", "name", "user", "username", "screen_name", "creator"),
    "author_headline": (
        "author_headline",
        "headline",
        "sector",
        "occupation",
        "job_title",
        "industry",
    ),
    "posted_at": (
        "posted_at",
        "date",
        "created_at",
        "timestamp",
        "time",
        "published",
        "published_at",
        "datetime",
    ),
    "url": ("url", "link", "sharelink", "post_url", "permalink"),
    # share_urn: the column the linkedin reader adds (the post's URN from ShareLink).
    "external_id": ("external_id", "id", "post_id", "urn", "share_urn", "index", "tweet_id"),
}

_IGNORED = re.compile(r"[\s_\-]+")


def _key(name: str) -> str:
    return _IGNORED.sub("", name).casefold()


def _listing(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(names) if names else "(none)"


def detect_mapping(columns: list[str], explicit: dict[str, str] | None = None) -> dict[str, str]:
    """Map each field that can be found to a column; explicit entries win.

    Fields with no matching column are left out; an explicit empty column ("" or None)
    leaves its field out without guessing. Raises ``ImportFileError`` for an explicit
    entry naming an unknown field or a column the file does not have, and when no column
    holds the text.
    """
    mapping: dict[str, str] = {}
    unmapped: set[str] = set()
    for field_name, column in (explicit or {}).items():
        if field_name not in FIELDS:
            raise ImportFileError(
                f"Unknown field '{field_name}' in the column mapping. "
                f"The fields are: {_listing(FIELDS)}."
            )
        if not column:
            # An explicit empty entry means "this file has no such column": no guessing.
            unmapped.add(field_name)
            continue
        if column not in columns:
            raise ImportFileError(
                f"The column mapping uses column '{column}' for {field_name}, but the file "
                f"has no such column. The file has columns: {_listing(columns)}."
            )
        mapping[field_name] = column

    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    used = set(mapping.values())
    for field_name in FIELDS:
        if field_name in mapping or field_name in unmapped:
            continue
        for synonym in SYNONYMS[field_name]:
            column = by_key.get(_key(synonym))
            if column is not None and column not in used:
                mapping[field_name] = column
                used.add(column)
                break

    if "text" not in mapping:
        raise ImportFileError(
            f"No text column found. The file has columns: {_listing(columns)}. "
            f"Expected one of: {_listing(SYNONYMS['text'])} — or name it with "
            "--map text=COLUMN (or choose it in the column mapping)."
        )
    return {field_name: mapping[field_name] for field_name in FIELDS if field_name in mapping}

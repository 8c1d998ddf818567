"""Turning a raw row into a clean post record: text, fields, date, metadata, hash."""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from analysis.text.tokenize import count_words

from .base import PostRecord, RawRow, RowError
from .dates import parse_datetime

# Exports write missing values in many ways; none of them is a real author or URL.
_MISSING = frozenset({"", "nan", "none", "null"})
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x85]")
# PostgreSQL text cannot hold NUL; lone surrogates (from broken JSON escapes) cannot be
# stored as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_WHOLE_FLOAT = re.compile(r"[+-]?\d+\.0+")
# isinstance with a tuple is faster than with a union (built anew on every call).
_WHOLE = (bool, int)
_NUMBERS = (bool, int, float)
_MOMENTS = (datetime, date, time)


def _clean(value: str) -> str:
    if value.isascii() and "\x00" not in value:  # the usual case, and nothing to change
        return value
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def _storable(text: str) -> str:
    """The text cleaned and in NFC (ASCII without NUL is both already: the usual case)."""
    if text.isascii() and "\x00" not in text:
        return text
    return unicodedata.normalize("NFC", _clean(text))


@lru_cache(maxsize=4096)
def _clean_key(key: object) -> str:
    """A metadata attribute's name: every row of a file repeats the same few."""
    return _clean(str(key))


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if not isinstance(value, str):
        return False
    value = value.strip()
    return not value or (len(value) <= 4 and value.casefold() in _MISSING)


_WEB_URL = re.compile(r"https?://\S", re.IGNORECASE)


def web_url(value: str) -> str | None:
    """A post's URL as a web address: http(s) as given, "www.…" with https:// added, empty as
    empty; None for anything else (javascript:, data:, file: …), which must never be a link."""
    value = value.strip()
    if not value or _WEB_URL.match(value):
        return value
    if value.lower().startswith("www.") and not any(c.isspace() for c in value):
        return "https://" + value
    return None


def _as_string(value: object) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, _NUMBERS):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return _storable(text).strip()


def _as_id(value: object) -> str:
    # Spreadsheets and pandas turn whole-number ids into floats (12.0); the id is "12".
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    text = _as_string(value)
    return text.split(".", 1)[0] if _WHOLE_FLOAT.fullmatch(text) else text


def _as_text(value: object) -> str:
    text = _as_string(value) if not isinstance(value, str) else value
    if "\r" in text or not text.isascii():  # the other line breaks are not ASCII
        text = _LINE_BREAKS.sub("\n", text)
    return _storable(text).strip()


def _metadata_value(value: object) -> object:
    """A value JSON (and PostgreSQL jsonb) can store: str, int, float, bool or None."""
    if isinstance(value, str):  # the usual case, tested first
        return _storable(value)
    if value is None or isinstance(value, _WHOLE):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, _MOMENTS):
        # Spreadsheet cells: ISO 8601 text, which JSON can hold and people can read.
        return value.isoformat()
    return _clean(json.dumps(value, ensure_ascii=False, default=str))


def content_hash(text: str) -> str:
    """SHA-256 of the NFC text with whitespace runs collapsed to one space (case kept)."""
    canonical = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def normalize_row(raw: RawRow, mapping: dict[str, str]) -> PostRecord:
    """A clean ``PostRecord`` from a raw row, or ``RowError`` saying what is wrong."""
    return row_normalizer(mapping)(raw)


def row_normalizer(mapping: dict[str, str]) -> Callable[[RawRow], PostRecord]:
    """``normalize_row`` for every row of one file: what depends only on the mapping (which
    column is which field, which columns are metadata) is worked out once, not per row."""
    text_column = mapping.get("text")
    date_column = mapping.get("posted_at")
    others = {name: mapping.get(name) for name in ("author", "author_headline", "url")}
    id_column = mapping.get("external_id")
    mapped = frozenset(mapping.values())

    def normalize(raw: RawRow) -> PostRecord:
        if raw.error:
            raise RowError(raw.error)
        fields = raw.fields
        text_value = fields.get(text_column) if text_column else None
        text = "" if _is_missing(text_value) else _as_text(text_value)
        if not text:
            raise RowError("text is empty")

        warnings: list[str] = []
        date_value = fields.get(date_column) if date_column else None
        posted_at = parse_datetime(date_value)
        if posted_at is None and not _is_missing(date_value) and str(date_value).strip():
            shown = str(date_value).strip()
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            warnings.append(f"posted_at: could not read date '{shown}'")

        elif posted_at is not None and posted_at > datetime.now(UTC) + timedelta(days=1):
            warnings.append(
                f"posted_at: {posted_at.date().isoformat()} is in the future; kept as given"
            )

        values = {
            name: _as_string(fields.get(column)) if column else ""
            for name, column in others.items()
        }
        metadata = {
            _clean_key(key): _metadata_value(value)
            for key, value in fields.items()
            if key not in mapped
        }
        url = web_url(values["url"])
        if url is None:  # kept as an attribute, never as a link
            given = values["url"]
            metadata["url (not a web address)"] = given
            shown = given if len(given) <= 60 else given[:57] + "..."
            warnings.append(f"url: '{shown}' is not an http(s) address; kept as an attribute")
            url = ""
        external_id = fields.get(id_column) if id_column else None
        return PostRecord(
            row=raw.number,
            text=text,
            author=values["author"],
            author_headline=values["author_headline"],
            posted_at=posted_at,
            url=url,
            external_id=_as_id(external_id),
            metadata=metadata,
            word_count=count_words(text),
            content_hash=content_hash(text),
            warnings=warnings,
        )

    return normalize

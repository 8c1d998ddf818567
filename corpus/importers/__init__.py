"""Reading post files (CSV, JSON, JSON Lines) into clean records; no Django here."""

from .base import ImportFileError, PostRecord, RawRow, RowError
from .dates import parse_datetime
from .mapping import FIELDS, SYNONYMS, detect_mapping
from .normalize import content_hash, normalize_row
from .readers import detect_encoding, open_rows, sniff_format

__all__ = [
    "FIELDS",
    "SYNONYMS",
    "ImportFileError",
    "PostRecord",
    "RawRow",
    "RowError",
    "content_hash",
    "detect_encoding",
    "detect_mapping",
    "normalize_row",
    "open_rows",
    "parse_datetime",
    "sniff_format",
]

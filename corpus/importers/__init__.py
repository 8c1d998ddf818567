"""Reading post files into clean records; no Django here.

Formats: CSV/TSV, JSON, JSON Lines, LinkedIn's Shares.csv ("linkedin"), Excel .xlsx
("xlsx"), and one post per .txt file in a ZIP archive ("txt") or a folder
(``open_text_folder``).
"""

from .base import ImportFileError, PostRecord, RawRow, RowError
from .content import (
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    check_content,
    check_zip,
    describe_content,
)
from .dates import parse_datetime
from .linkedin import LINKEDIN_COLUMNS, LINKEDIN_MAPPING, repair_text, share_urn
from .mapping import FIELDS, SYNONYMS, detect_mapping
from .normalize import content_hash, normalize_row, row_normalizer
from .readers import FORMATS, detect_encoding, open_rows, sniff_format
from .spreadsheet import open_xlsx
from .textfiles import open_text_folder, open_text_zip

__all__ = [
    "FIELDS",
    "FORMATS",
    "LINKEDIN_COLUMNS",
    "LINKEDIN_MAPPING",
    "MAX_COMPRESSION_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "SYNONYMS",
    "ImportFileError",
    "PostRecord",
    "RawRow",
    "RowError",
    "check_content",
    "check_zip",
    "content_hash",
    "describe_content",
    "detect_encoding",
    "detect_mapping",
    "normalize_row",
    "row_normalizer",
    "open_rows",
    "open_text_folder",
    "open_text_zip",
    "open_xlsx",
    "parse_datetime",
    "repair_text",
    "share_urn",
    "sniff_format",
]

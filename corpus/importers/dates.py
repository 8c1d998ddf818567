"""Reading the many ways exported files write a post's date."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

# Epoch values above this are milliseconds (JavaScript exports); as seconds they'd be year 5138+.
_MILLISECONDS_ABOVE = 1e11
# Smaller numbers are almost always something else (a year, a count) misread as a date.
_EPOCH_MIN = 1e8
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y",  # only reached when the day/month order cannot be valid (e.g. 12/25/2024)
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y %H:%M",
    "%b %d, %Y %H:%M",
    "%a %b %d %H:%M:%S %z %Y",  # Twitter API v1
    "%a, %d %b %Y %H:%M:%S %z",  # RFC 2822 / RSS
)


def _from_epoch(value: float) -> datetime | None:
    if not math.isfinite(value) or abs(value) < _EPOCH_MIN:
        return None
    if abs(value) > _MILLISECONDS_ABOVE:
        value /= 1000
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _from_text(text: str) -> datetime | None:
    if _NUMBER.fullmatch(text) and (parsed := _from_epoch(float(text))) is not None:
        return parsed
    try:
        # Python 3.11 reads all of ISO 8601 that exports use, including "Z" and "YYYY-MM-DD".
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        pass
    collapsed = " ".join(text.split())
    for fmt in _FORMATS:
        try:
            return _aware(datetime.strptime(collapsed, fmt))
        except ValueError:
            continue
    return None


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime (UTC) from an exported date, or None if it cannot be read.

    Reads ISO 8601 (with "Z" or an offset), "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD",
    "DD/MM/YYYY" (and "MM/DD/YYYY" only when the day comes second unambiguously),
    "Month D, YYYY", Twitter and RFC 2822 dates, and Unix epoch seconds (or milliseconds)
    as a number or a digit string. Times without a zone are taken as UTC.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        return _from_text(text) if text else None
    return None

"""Every coding of a project as a table (CSV or XLSX): one row per live coding the member may
see, with its post, code path, coder, quote and span.

Rows are read in chunks and written as they come, so a project of 200,000 codings is never
held in memory. Text cells go through ``csv_safe`` in both formats: a spreadsheet must not
run a quote, a memo or a name as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from ..models import Code, Membership
from ..selectors import (
    code_descendant_ids,
    code_tree,
    code_tree_flatten,
    coding_list,
    codings_filter,
)
from .codebook_csv import SEPARATOR, csv_safe

HEADER = [
    "coding_id",
    "post_id",
    "post_external_id",
    "post_author",
    "post_date",
    "post_url",
    "code_id",
    "code_path",
    "coder",
    "quote",
    "start",
    "end",
    "memo",
    "created_at",
]
# What a row reads: the coding's own columns and the few of its post and coder it shows.
COLUMNS = (
    *("id", "post_id", "code_id", "start", "end", "quote", "memo", "created_at"),
    *("post__external_id", "post__author", "post__posted_at", "post__url", "coder__username"),
)
CHUNK = 2000
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included


def coding_export_queryset(
    *,
    membership: Membership,
    coder_id: int | None = None,
    batch_id: int | None = None,
    sample_post_ids: list[int] | None = None,
    code: Code | None = None,
):
    """The live codings the member may see (blind mode: a coder's own), filtered."""
    codings = codings_filter(
        coding_list(membership=membership).filter(code__deleted_at__isnull=True),
        coder_id=coder_id,
        batch_id=batch_id,
        sample_post_ids=sample_post_ids,
    )
    if code is not None:
        codings = codings.filter(code_id__in=code_descendant_ids(code=code))
    return codings.order_by("post_id", "start", "end", "id").values_list(*COLUMNS)


def coding_export_rows(*, membership: Membership, **filters) -> Iterator[list]:
    """The header, then one row per coding (text cells made safe for spreadsheets)."""
    paths = {
        node["id"]: SEPARATOR.join(node["path"])
        for node in code_tree_flatten(code_tree(project=membership.project))
    }
    codings = coding_export_queryset(membership=membership, **filters)
    yield HEADER
    for values in codings.iterator(chunk_size=CHUNK):
        row = dict(zip(COLUMNS, values, strict=True))
        posted_at = row["post__posted_at"]
        yield [
            row["id"],
            row["post_id"],
            csv_safe(row["post__external_id"]),
            csv_safe(row["post__author"]),
            posted_at.isoformat() if posted_at else "",
            csv_safe(row["post__url"]),
            row["code_id"],
            csv_safe(paths.get(row["code_id"], "")),
            csv_safe(row["coder__username"]),
            csv_safe(row["quote"]),
            row["start"],
            row["end"],
            csv_safe(row["memo"]),
            row["created_at"].isoformat(),
        ]


class _Echo:
    """A file-like object whose write returns the line, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterable[list]) -> Iterator[str]:
    """CSV lines one by one, after a byte-order mark so spreadsheet programs read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def xlsx_write(rows: Iterable[list], out: BinaryIO, *, title: str = "Codings") -> None:
    """Write the rows to an Excel workbook (write-only mode: rows go to disk as they come);
    past Excel's row limit the rows go on to a further sheet, under the same header."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    header: list | None = None
    sheet, used, number = None, XLSX_MAX_ROWS, 0
    for row in rows:
        if header is None:
            header = row
            continue
        if used >= XLSX_MAX_ROWS:
            number += 1
            sheet = book.create_sheet(title if number == 1 else f"{title} ({number})")
            sheet.append(header)
            used = 1
        # Excel refuses control characters in a cell; they carry no meaning in a quote.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
        used += 1
    if sheet is None:
        book.create_sheet(title).append(header or [])
    book.save(out)

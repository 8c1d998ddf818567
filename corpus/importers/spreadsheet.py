"""Excel workbooks (.xlsx): streaming rows of one sheet with openpyxl in read-only mode."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

from .base import ImportFileError, RawRow
from .content import open_zip


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_name(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _cell(value: object) -> object:
    # Dates stay datetime objects (parse_datetime reads them); a duration has no JSON form.
    if isinstance(value, timedelta):
        return str(value)
    return value


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def open_xlsx(
    fileobj: BinaryIO,
    sheet: str | None = None,
    *,
    max_total_bytes: int | None = None,
    max_ratio: float | None = None,
) -> tuple[list[str], Iterator[RawRow]]:
    """The columns and a streaming iterator over the rows of one sheet of a workbook.

    ``fileobj`` must be seekable. The first worksheet is read unless ``sheet`` names one.
    The first non-empty row is the header; rows are numbered as Excel shows them (a header
    in row 3 makes the first post row 4); empty rows are skipped. Cells keep their types:
    dates come as ``datetime`` (``parse_datetime`` reads them), numbers as int or float
    (``normalize_row`` turns an id of 12.0 into "12"). Formulas give their cached values.
    The ZIP container is checked for bombs before openpyxl reads it (``check_zip``).
    """
    archive = open_zip(
        fileobj,
        what="Excel (.xlsx) workbook",
        max_total_bytes=max_total_bytes,
        max_ratio=max_ratio,
    )
    names = set(archive.namelist())
    archive.close()
    if "xl/workbook.xml" not in names:
        raise ImportFileError(
            "The file is a ZIP archive but not an Excel (.xlsx) workbook (it has no "
            "xl/workbook.xml). For a ZIP of .txt files choose the txt format."
        )
    fileobj.seek(0)

    import openpyxl  # imported here: CSV and JSON imports do not pay for it

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; none matter for values.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(
                fileobj, read_only=True, data_only=True, keep_links=False
            )
    except Exception as exc:  # openpyxl raises assorted errors on malformed parts
        # defusedxml (installed) makes openpyxl refuse XML entity tricks with errors too.
        raise ImportFileError(
            f"The Excel workbook could not be read ({type(exc).__name__}: {exc})."
        ) from None

    try:
        worksheet = _choose_sheet(workbook, sheet)
        worksheet.reset_dimensions()  # stated dimensions are often wrong; read every cell
        # From row 1, openpyxl yields one tuple per row, filling missing rows with empty
        # ones, so the position is the row number Excel shows.
        rows = enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)
        header: tuple = ()
        header_row = 0
        for number, values in rows:
            if any(not _is_empty(value) for value in values):
                header, header_row = values, number
                break
        if not header_row:
            raise ImportFileError(f"The sheet “{worksheet.title}” is empty.")
    except BaseException:
        workbook.close()
        raise

    names_in_header = [_header_name(value) for value in header]
    while names_in_header and not names_in_header[-1].strip():
        names_in_header.pop()
    from .readers import _column_names  # shared naming of blank and repeated headers

    columns = _column_names(names_in_header)
    return columns, _sheet_rows(workbook, rows, columns)


def _choose_sheet(workbook, sheet: str | None):
    if sheet:
        if sheet not in workbook.sheetnames:
            raise ImportFileError(
                f"The workbook has no sheet “{sheet}”. Its sheets are: "
                f"{', '.join(workbook.sheetnames)}."
            )
        chosen = workbook[sheet]
        if not hasattr(chosen, "iter_rows"):
            raise ImportFileError(f"The sheet “{sheet}” is a chart, not a table of posts.")
        return chosen
    if not workbook.worksheets:
        raise ImportFileError("The workbook has no worksheet.")
    return workbook.worksheets[0]


def _sheet_rows(workbook, rows, columns: list[str]) -> Iterator[RawRow]:
    width = len(columns)
    try:
        for number, values in rows:
            if all(_is_empty(value) for value in values):
                continue
            extra = [
                index
                for index, value in enumerate(values[width:], start=width)
                if not _is_empty(value)
            ]
            if extra:
                yield RawRow(
                    number,
                    {},
                    error=(
                        f"the row has a value in column {_column_letter(extra[0])}, which has "
                        "no header (name the column in the header row)"
                    ),
                )
                continue
            fields: dict[str, object] = dict.fromkeys(columns)
            fields.update(zip(columns, (_cell(value) for value in values), strict=False))
            yield RawRow(number, fields)
    finally:
        workbook.close()

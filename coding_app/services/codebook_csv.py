"""Codebook exchange as CSV: one row per code, its place given as a path of names.

Columns: path (names from the theme down, joined by " > "), level, colour, definition,
inclusion, exclusion, example, memo. Import matches codes by path (case-insensitive),
creates what is missing (ancestors too) and updates the text of what exists, all or nothing.
"""

import csv
import io
import re

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Code, Project
from .changes import CODE_FIELDS
from .codes import code_create, code_update

SEPARATOR = " > "
COLUMNS = ["path", "level", *[f for f in CODE_FIELDS if f != "name"]]
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_ROWS = 5_000


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_unsafe(value: str) -> str:
    """Undo csv_safe on import, so an exported codebook comes back as it was."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def codebook_export_csv(*, project: Project, tree: list[dict]) -> str:
    """The codebook tree (from selectors.code_tree) as CSV text, in display order."""
    codes = {c.pk: c for c in Code.objects.filter(project=project)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)

    def walk(node):
        code = codes[node["id"]]
        writer.writerow(
            [
                csv_safe(SEPARATOR.join(node["path"])),
                node["level"],
                *[csv_safe(getattr(code, field)) for field in COLUMNS[2:]],
            ]
        )
        for child in node["children"]:
            walk(child)

    for root in tree:
        walk(root)
    return out.getvalue()


def _rows(text: str):
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "path" not in headers:
        raise ValidationError(
            {"file": "The CSV needs a “path” column (names from the theme down, joined by “ > ”)."}
        )
    reader.fieldnames = headers
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise ValidationError({"file": f"At most {MAX_ROWS} codes per file."})
        yield number, {k: csv_unsafe((v or "").strip()) for k, v in row.items() if k}


@transaction.atomic
def codebook_import_csv(*, project: Project, text: str, user) -> dict:
    """Create and update codes from CSV text; any bad row aborts the whole import."""
    text = text.lstrip("\ufeff")
    created = updated = 0
    errors = []
    plan = []
    for number, row in _rows(text):
        names = [" ".join(part.split()) for part in row.get("path", "").split(">")]
        names = [n for n in names if n]
        if not names:
            errors.append(f"Row {number}: the path is empty.")
            continue
        colour = row.get("colour", "")
        if colour and not COLOUR.match(colour):
            errors.append(f"Row {number}: colour “{colour}” is not like #1f77b4.")
            continue
        if any(len(n) > 200 for n in names):
            errors.append(f"Row {number}: a code name has at most 200 characters.")
            continue
        plan.append((number, names, row))
    if errors:
        raise ValidationError({"file": errors[:20]})
    for number, names, row in plan:
        parent = None
        for depth, name in enumerate(names):
            code = Code.objects.filter(project=project, parent=parent, name__iexact=name).first()
            last = depth == len(names) - 1
            fields = {f: row[f] for f in COLUMNS[2:] if f in row and row[f] != ""} if last else {}
            if code is None:
                try:
                    code = code_create(
                        project=project, parent=parent, name=name, user=user, **fields
                    )
                except ValidationError as exc:
                    raise ValidationError(
                        {"file": [f"Row {number}: {m}" for m in exc.messages]}
                    ) from exc
                created += 1
            elif fields:
                before = code.version
                code = code_update(code=code, user=user, version=None, **fields)
                updated += code.version != before
            parent = code
    return {"created": created, "updated": updated, "rows": len(plan)}

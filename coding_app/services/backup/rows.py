"""Helpers of the restore that know nothing of the backup's tables: inserting rows as they
are, and ordering a tree's rows parents first."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

CHUNK = 2000


class BackupError(Exception):
    """A backup refused; the message says why (nothing was restored)."""


def insert_raw(model, objects: list) -> list[int]:
    """INSERT the objects with every value as given, returning their ids.

    ``bulk_create`` would replace each ``auto_now``/``auto_now_add`` timestamp with the time
    of the restore; a raw insert (what ``loaddata`` does through ``save_base(raw=True)``)
    keeps the backup's. A timestamp the backup lacks becomes now.
    """
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objects:
                if getattr(obj, field.attname) is None:
                    setattr(obj, field.attname, now)
    returning = model._meta.db_returning_fields
    size = CHUNK if connection.features.can_return_rows_from_bulk_insert else 1
    ids = []
    for start in range(0, len(objects), size):
        rows = model._base_manager._insert(
            objects[start : start + size], fields=fields, returning_fields=returning, raw=True
        )
        ids.extend(row[0] for row in rows)
    return ids


def to_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parents_first(rows: list, member: str) -> tuple[list, dict]:
    """Code rows ordered so that every parent comes before its children, and each code's
    depth (a parent the backup does not hold makes a theme)."""
    for number, row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("id"), int):
            raise BackupError(f"{member}, row {number} is not a code with an id.")
    parents = {row.get("id"): row.get("parent") for _number, row in rows}
    levels: dict = {}
    for code_id in parents:
        path = []
        node = code_id
        while node in parents and node not in levels:
            if node in path:
                raise BackupError(f"{member}: codes {sorted(map(str, path))} form a loop.")
            path.append(node)
            node = parents[node]
        base = levels.get(node, -1)
        for offset, item in enumerate(reversed(path), start=1):
            levels[item] = base + offset
    ordered = sorted(rows, key=lambda number_row: levels[number_row[1].get("id")])
    return ordered, levels

"""Writing a project backup: a ZIP of a versioned manifest, the project, its users and one
JSON Lines member per table, streamed row by row (no table is held in memory)."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from typing import BinaryIO

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from ...models import Project
from .tables import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    NOT_INCLUDED,
    PROJECT,
    PROJECT_FIELDS,
    TABLES,
    USER,
    USER_FIELDS,
    USERS,
    Table,
)

CHUNK = 2000


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _line(row: dict) -> bytes:
    return json.dumps(row, ensure_ascii=False, default=_json_default).encode("utf-8") + b"\n"


def _user_ids(project: Project) -> set[int]:
    """Every user a row of the project names (members, coders, authors, deciders …)."""
    ids: set[int] = set()
    for table in TABLES:
        for field in table.fields():
            if table.refs.get(field.name) == USER:
                values = table.rows(project).order_by().values_list(field.attname, flat=True)
                ids.update(v for v in values.distinct() if v is not None)
    return ids


def _table_rows(table: Table, project: Project, usernames: dict[int, str]):
    fields = table.fields()
    for values in table.rows(project).values("pk", *(f.attname for f in fields)).iterator(CHUNK):
        row = {"id": values["pk"]}
        for field in fields:
            value = values[field.attname]
            if table.refs.get(field.name) == USER:
                value = usernames.get(value)
            row[field.name] = value
        yield row


def project_backup_write(*, project: Project, out: BinaryIO) -> dict:
    """Write the whole project to ``out`` as a backup archive; returns its manifest.

    On PostgreSQL the tables are read in one repeatable-read transaction, so a coding
    made during the backup cannot name a post the backup does not hold.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _write(project, out)


def _write(project: Project, out: BinaryIO) -> dict:
    users = get_user_model().objects.filter(pk__in=_user_ids(project)).order_by("username")
    usernames = dict(users.values_list("pk", "username"))
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        with archive.open(USERS, "w", force_zip64=True) as member:
            for values in users.values(*USER_FIELDS).iterator(CHUNK):
                member.write(_line(values))
        project_row = {name: getattr(project, name) for name in PROJECT_FIELDS}
        project_row["created_at"] = project.created_at
        archive.writestr(PROJECT, _line(project_row))
        for table in TABLES:
            counts[table.name] = 0
            with archive.open(table.member, "w", force_zip64=True) as member:
                for row in _table_rows(table, project, usernames):
                    member.write(_line(row))
                    counts[table.name] += 1
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "project": {"slug": project.slug, "name": project.name},
            "users": len(usernames),
            "tables": counts,
            "not_included": NOT_INCLUDED,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest

"""Restoring a project backup as a new project, in one transaction: all or nothing.

The archive is checked before anything is read (a ZIP archive, no ZIP bomb, no member
path leaving the folder, a manifest of a known format and version); every row is checked
as it is read (field types, choices, lengths, references to rows of the backup, coding
spans inside their post). Any refusal rolls everything back, users made for the backup
included, and says which member and row was wrong.
"""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DatabaseError, IntegrityError, transaction

from corpus.importers import ImportFileError
from corpus.importers.content import is_zip, open_zip
from corpus.importers.qdpx import archive_check_paths

from ...models import Change, Code, Project, Role
from ..projects import membership_set
from .rows import CHUNK, BackupError, insert_raw, parents_first, to_int
from .tables import (
    FINISHED_BATCHES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    PROJECT,
    PROJECT_FIELDS,
    TABLES,
    USER,
    USER_FIELDS,
    USERS,
    Table,
    snapshot_remap,
)

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_ROW_BYTES = 64 * 1024 * 1024  # one JSON line (a post of 64 MB is not a post)


def project_restore(
    *, fileobj, slug: str | None = None, admin=None, max_total_bytes: int | None = None
) -> dict:
    """Restore the backup in ``fileobj`` (a seekable binary file) as a new project, under
    its own slug or ``slug``; ``admin`` (the restoring user) becomes an admin of it.

    Raises ``BackupError`` (nothing restored) when the file is refused.
    """
    head = fileobj.read(4)
    fileobj.seek(0)
    if not head:
        raise BackupError("The file is empty.")
    if not is_zip(head):
        raise BackupError("This is not a Grounded project backup: it is not a ZIP archive.")
    try:
        archive = open_zip(fileobj, what="Grounded project backup", max_total_bytes=max_total_bytes)
    except ImportFileError as exc:
        raise BackupError(str(exc)) from None
    with archive:
        try:
            archive_check_paths(archive)
            manifest = _manifest(archive)
            with transaction.atomic():
                return _Restore(archive, manifest, slug=slug, admin=admin).run()
        except ImportFileError as exc:
            raise BackupError(str(exc)) from None
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise BackupError(f"The backup archive is damaged ({exc}).") from None
        except IntegrityError as exc:
            raise BackupError(f"The backup holds rows that contradict each other: {exc}") from None
        except DatabaseError as exc:
            raise BackupError(f"The backup holds a value the database refuses: {exc}") from None


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise BackupError(
            f"The archive holds no {name}: it is not a Grounded project backup, or it is "
            "incomplete."
        ) from None
    if info.file_size > limit:
        raise BackupError(f"{name} is larger than {limit // 1024} KB; the backup is refused.")
    return archive.read(info)


def _manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(_read_member(archive, MANIFEST, MAX_MANIFEST_BYTES))
    except ValueError:
        raise BackupError(f"{MANIFEST} is not valid JSON: the backup is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"This is not a Grounded project backup ({MANIFEST} names no format).")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupError(f"The backup's format version ({version!r}) is not one Grounded knows.")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"The backup was made by a newer Grounded (format version {version}; this one "
            f"reads version {FORMAT_VERSION}). Upgrade Grounded, then restore it."
        )
    counts = manifest.get("tables")
    if not isinstance(counts, dict) or any(not isinstance(counts.get(t.name), int) for t in TABLES):
        raise BackupError(f"{MANIFEST} does not list the rows of every table: it is damaged.")
    return manifest


class _Restore:
    def __init__(self, archive: zipfile.ZipFile, manifest: dict, *, slug, admin):
        self.archive = archive
        self.manifest = manifest
        self.slug = slug
        self.admin = admin
        self.maps: dict[str, dict[int, int]] = defaultdict(dict)  # kind → old id → new id
        self.users: dict[str, int] = {}  # username in the backup → user id here
        self.users_created: list[str] = []
        self.post_lengths: dict[int, int] = {}
        self.counts: dict[str, int] = {}

    # --- the steps

    def run(self) -> dict:
        self._project()
        self._users()
        for table in TABLES:
            self._table(table)
        if self.admin is not None:
            membership_set(project=self.project, user=self.admin, role=Role.ADMIN)
        return {
            "project": self.project.slug,
            "name": self.project.name,
            "format_version": self.manifest["version"],
            "backup_created_at": self.manifest.get("created_at"),
            "counts": self.counts,
            "users": len(self.users),
            "users_created": self.users_created,
        }

    def _project(self) -> None:
        try:
            data = json.loads(_read_member(self.archive, PROJECT, MAX_MANIFEST_BYTES))
        except ValueError:
            raise BackupError(f"{PROJECT} is not valid JSON: the backup is damaged.") from None
        if not isinstance(data, dict):
            raise BackupError(f"{PROJECT} is not a JSON object: the backup is damaged.")
        self.old_slug = str(data.get("slug") or "")
        values = {
            name: self._clean(Project._meta.get_field(name), data.get(name), PROJECT)
            for name in PROJECT_FIELDS
            if name in data
        }
        values["slug"] = slug = self.slug or self.old_slug
        try:
            validate_slug(slug)
        except ValidationError:
            raise BackupError(
                f"“{slug}” cannot be a project's slug: use letters, numbers, - and _."
            ) from None
        if len(slug) > Project._meta.get_field("slug").max_length:
            raise BackupError(f"The slug “{slug}” is too long (at most 80 characters).")
        if not str(values.get("name") or "").strip():
            raise BackupError(f"{PROJECT} gives the project no name: the backup is damaged.")
        if Project.objects.filter(slug=slug).exists():
            raise BackupError(
                f"A project with the slug “{slug}” already exists; nothing was restored. "
                "Restore the backup under another slug."
            )
        self.project = Project.objects.create(**values)
        created = self._clean(
            Project._meta.get_field("created_at"), data.get("created_at"), PROJECT
        )
        if created is not None:
            Project.objects.filter(pk=self.project.pk).update(created_at=created)

    def _username(self, name: str) -> str:
        """The consensus layer's coder is named after the project's slug."""
        if self.old_slug and name == f"consensus@{self.old_slug}"[:150]:
            return f"consensus@{self.project.slug}"[:150]
        return name

    def _users(self) -> None:
        """Users by username: an existing account is used; a missing one is made, inactive
        and without a usable password (an admin activates it and sets a password)."""
        User = get_user_model()
        rows = list(self._rows(USERS))
        username_field = User._meta.get_field("username")
        for number, row in rows:
            where = f"{USERS}, row {number}"
            if not isinstance(row, dict) or not isinstance(row.get("username"), str):
                raise BackupError(f"{where}: a user without a username.")
            name = self._clean(username_field, self._username(row["username"]), where)
            user = User.objects.filter(username=name).first()
            if user is None:
                fields = {
                    f: self._clean(User._meta.get_field(f), row.get(f) or "", where)
                    for f in USER_FIELDS[1:]
                }
                user = User(username=name, is_active=False, **fields)
                user.set_unusable_password()
                user.save()
                self.users_created.append(name)
            self.users[row["username"]] = user.pk
        self._check_count(USERS.removesuffix(".jsonl"), len(rows), self.manifest.get("users"))

    def _table(self, table: Table) -> None:
        fields = table.fields()
        self.seen: set[int] = set()
        pending: list[tuple[object, int | None]] = []
        count, level, levels = 0, 0, {}
        rows = self._rows(table.member)
        if table.model is Code:  # parents first: a code's parent must have its new id
            rows, levels = parents_first(list(rows), table.member)
        for number, row in rows:
            row_level = levels.get(row.get("id"), 0) if levels else 0
            if pending and (len(pending) >= CHUNK or row_level != level):
                self._insert(table, pending)
                pending = []
            level = row_level
            pending.append(self._build(table, fields, row, f"{table.member}, row {number}"))
            count += 1
        self._insert(table, pending)
        if table.model is Code:
            self._merged_into(rows)
        self._check_count(table.name, count, self.manifest["tables"][table.name])
        self.counts[table.name] = count

    def _check_count(self, name: str, found: int, expected) -> None:
        if expected is not None and found != expected:
            raise BackupError(
                f"The backup is incomplete: it holds {found} {name} rows where its manifest "
                f"says {expected}."
            )

    # --- rows

    def _rows(self, name: str):
        """(line number, parsed row) of a JSON Lines member, one line at a time."""
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise BackupError(f"The archive holds no {name}: the backup is incomplete.") from None
        with self.archive.open(info) as handle:
            number = 0
            while line := handle.readline(MAX_ROW_BYTES + 1):
                number += 1
                if len(line) > MAX_ROW_BYTES:
                    raise BackupError(f"{name}, row {number} is longer than 64 MB; refused.")
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except ValueError:
                    raise BackupError(
                        f"{name}, row {number} is not valid JSON: the backup is damaged."
                    ) from None

    def _clean(self, field, value, where: str):
        try:
            return field.clean(value, None)
        except ValidationError as exc:
            raise BackupError(f"{where}: {field.name}: {' '.join(exc.messages)}") from None

    def translate(self, kind: str, old):
        if kind == USER:
            return self.users.get(old) if isinstance(old, str) else None
        return self.maps[kind].get(old) if isinstance(old, int) else None

    def _ref(self, kind: str, value, field, where: str):
        new = self.translate(kind, value)
        # A nullable reference to a row the backup does not hold (deleted since) is dropped.
        if new is None and not field.null:
            raise BackupError(f"{where}: {field.name} names {kind} {value!r}, not in the backup.")
        return new

    def _build(self, table: Table, fields, row, where: str):
        if not isinstance(row, dict):
            raise BackupError(f"{where} is not a JSON object.")
        old_id = row.get("id")
        if table.kind:
            if not isinstance(old_id, int) or old_id in self.seen:
                raise BackupError(f"{where}: a missing or repeated id ({old_id!r}).")
            self.seen.add(old_id)
        has_project = any(f.name == "project" for f in table.model._meta.concrete_fields)
        values = {"project": self.project} if has_project else {}
        for field in fields:
            if field.name not in row:
                continue
            value = row[field.name]
            if field.name in table.refs:
                values[field.attname] = self._ref(table.refs[field.name], value, field, where)
            elif field.name in table.id_lists:
                if not isinstance(value, list):
                    raise BackupError(f"{where}: {field.name} is not a list.")
                kind = table.id_lists[field.name]
                values[field.name] = [n for n in (self.translate(kind, v) for v in value) if n]
            else:
                values[field.name] = self._clean(field, value, where)
        self._check_and_translate(table, values, where)
        return table.model(**values), old_id

    def _check_and_translate(self, table: Table, values: dict, where: str) -> None:
        """What a table's rows need beyond their fields' own checks."""
        if table.name == "import_batches" and values.get("status") not in FINISHED_BATCHES:
            # A queued or running batch would be run again, without its file.
            raise BackupError(f"{where}: an import that has not finished cannot be restored.")
        if table.name == "samples" and isinstance(values.get("marks"), dict):
            marks = ((self.translate("post", to_int(k)), v) for k, v in values["marks"].items())
            values["marks"] = {str(new): mark for new, mark in marks if new}
        if table.model is Change:
            for key in ("before", "after"):
                values[key] = snapshot_remap(
                    values.get("kind", ""), values.get(key), self.translate
                )
        if table.name == "codings":
            length = self.post_lengths.get(values.get("post_id"), 0)
            if not 0 <= values.get("start", 0) < values.get("end", 0) <= length:
                raise BackupError(f"{where}: the span is not inside its post's text.")

    def _insert(self, table: Table, pending: list) -> None:
        """Insert the rows as they are and note their new ids."""
        if not pending:
            return
        objects = [obj for obj, _ in pending]
        for obj, new_id in zip(objects, insert_raw(table.model, objects), strict=True):
            obj.pk = new_id
        if table.kind:
            for obj, old_id in pending:
                self.maps[table.kind][old_id] = obj.pk
        if table.name == "posts":
            self.post_lengths.update((obj.pk, len(obj.text)) for obj in objects)

    def _merged_into(self, rows: list) -> None:
        """A code merged into a code written after it: set once every code is in."""
        merged = []
        for _number, row in rows:
            target = self.translate("code", row.get("merged_into"))
            if target:
                merged.append(Code(pk=self.maps["code"][row["id"]], merged_into_id=target))
        Code.all_objects.bulk_update(merged, ["merged_into"], batch_size=CHUNK)

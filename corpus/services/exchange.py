"""REFI-QDA exchange with NVivo, ATLAS.ti, MAXQDA: export a project (.qdpx) or its codebook
(.qdc), and import either into a project.

The pure work (parsing, offsets, XML) is in ``corpus.importers.qdpx``; this module maps it
onto posts, codes, codings, memos and users. An import is one transaction: a refused or
failing file leaves nothing behind. Importing the same file again adds nothing: posts are
matched by content hash, codes by name under the same parent, users by username, and
``coding_apply`` keeps one coding per coder, code and span.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from pathlib import Path
from typing import BinaryIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from analysis.text.tokenize import count_words
from coding_app.models import Code, Coding, Membership, Memo, Project, Role
from coding_app.services import code_create, coding_apply, membership_set, memo_set
from coding_app.services.codings import MEMO_MAX

from ..importers import ImportFileError, content_hash, parse_datetime, qdpx
from ..importers.content import is_zip
from ..models import ImportBatch, JobStatus, Post
from ..selectors import post_visible_q

DEFAULT_COLOUR = "#9ecae1"
# Post fields exported as REFI variables (and read back from them): field, name, type.
VARIABLES = (
    ("external_id", "External id", "Text"),
    ("author", "Author", "Text"),
    ("author_headline", "Author headline", "Text"),
    ("posted_at", "Posted at", "DateTime"),
    ("url", "URL", "Text"),
)
MAX_WARNINGS = 200


# --- Export -------------------------------------------------------------------------------


def _guid(project: Project, kind: str, pk: int) -> str:
    return qdpx.guid_new("grounded", project.pk, kind, pk)


def _user_guid(user) -> str:
    return qdpx.guid_new("grounded-user", user.pk)


def _refi_codes(project: Project, user_ref):
    """The live codebook as REFI codes (roots, codes by pk) and the notes of code memos."""
    codes = list(Code.objects.filter(project=project).order_by("position", "name", "pk"))
    nodes: dict[int, qdpx.RefiCode] = {}
    notes = []
    roots = []
    for code in codes:
        node = qdpx.RefiCode(
            guid=_guid(project, "code", code.pk),
            name=code.name,
            colour=qdpx.colour_parse(code.colour),
            description=qdpx.description_compose(
                code.definition,
                inclusion=code.inclusion,
                exclusion=code.exclusion,
                example=code.example,
            ),
        )
        if code.memo.strip():
            note = qdpx.RefiNote(
                guid=_guid(project, "code-memo", code.pk),
                name=f"Memo on {code.name}",
                text=code.memo,
                user_guid=user_ref(code.created_by),
                created_at=code.updated_at,
            )
            notes.append(note)
            node.note_guids.append(note.guid)
        nodes[code.pk] = node
    for code in codes:
        if code.parent_id in nodes:
            nodes[code.parent_id].children.append(nodes[code.pk])
        else:
            roots.append(nodes[code.pk])
    return roots, nodes, notes


def project_refi_build(*, project: Project) -> qdpx.RefiProject:
    """The project as REFI-QDA data: visible posts, live codes, every coding and memo."""
    refi = qdpx.RefiProject(
        name=project.name,
        origin=qdpx.GROUNDED_ORIGIN,
        description=project.description,
        created_at=project.created_at,
    )
    users: dict[int, qdpx.RefiUser] = {}

    def user_ref(user) -> str | None:
        if user is None:
            return None
        if user.pk not in users:
            users[user.pk] = qdpx.RefiUser(
                guid=_user_guid(user), name=user.username, id=user.username
            )
        return users[user.pk].guid

    for membership in Membership.objects.filter(project=project).select_related("user"):
        user_ref(membership.user)

    refi.codes, nodes, code_notes = _refi_codes(project, user_ref)
    refi.notes.update((note.guid, note) for note in code_notes)

    posts = Post.objects.filter(project=project).filter(post_visible_q()).order_by("pk")
    codings = defaultdict(list)
    for coding in (
        Coding.objects.filter(post__in=posts, code_id__in=nodes)
        .select_related("coder")
        .order_by("post_id", "start", "end", "pk")
    ):
        codings[coding.post_id].append(coding)
    memos = defaultdict(list)
    for memo in Memo.objects.filter(post__in=posts).select_related("author").order_by("pk"):
        memos[memo.post_id].append(memo)

    used_variables: set[str] = set()
    for post in posts.iterator(chunk_size=2000):
        source = qdpx.RefiSource(
            guid=_guid(project, "post", post.pk),
            name=post.external_id or f"Post {post.pk}",
            text=post.text,
            created_at=post.created_at,
        )
        for field, name, _type in VARIABLES:
            value = getattr(post, field)
            if field == "posted_at" and value is not None:
                value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if value:
                source.variables[name] = value
                used_variables.add(name)
        for coding in codings.get(post.pk, []):
            coder = user_ref(coding.coder)
            item = qdpx.RefiCoding(
                guid=_guid(project, "coding", coding.pk),
                code_guid=nodes[coding.code_id].guid,
                user_guid=coder,
                created_at=coding.created_at,
            )
            if coding.memo.strip():
                note = qdpx.RefiNote(
                    guid=_guid(project, "coding-memo", coding.pk),
                    name="Coding memo",
                    text=coding.memo,
                    user_guid=coder,
                    created_at=coding.updated_at,
                )
                refi.notes[note.guid] = note
                item.note_guids.append(note.guid)
            source.selections.append(
                qdpx.RefiSelection(
                    guid=_guid(project, "selection", coding.pk),
                    start=coding.start,
                    end=coding.end,
                    user_guid=coder,
                    created_at=coding.created_at,
                    codings=[item],
                )
            )
        for memo in memos.get(post.pk, []):
            note = qdpx.RefiNote(
                guid=_guid(project, "memo", memo.pk),
                name=f"Memo by {memo.author.username}",
                text=memo.text,
                user_guid=user_ref(memo.author),
                created_at=memo.updated_at,
            )
            refi.notes[note.guid] = note
            source.note_guids.append(note.guid)
        refi.sources.append(source)
    refi.variables = [
        qdpx.RefiVariable(guid=_guid(project, "variable", index), name=name, type=kind)
        for index, (_field, name, kind) in enumerate(VARIABLES)
        if name in used_variables
    ]
    refi.users = {user.guid: user for user in users.values()}
    return refi


def _export_counts(refi: qdpx.RefiProject) -> dict:
    return {
        "sources": len(refi.sources),
        "codes": sum(1 for _ in qdpx.codes_walk(refi.codes)),
        "codings": sum(len(s.selections) for s in refi.sources),
        "users": len(refi.users),
        "notes": len(refi.notes),
    }


def project_export_qdpx(*, project: Project, out: BinaryIO) -> dict:
    """Write the project as a .qdpx archive to ``out``; returns what it holds."""
    refi = project_refi_build(project=project)
    qdpx.qdpx_write(refi, out)
    return _export_counts(refi)


def codebook_export_qdc(*, project: Project) -> bytes:
    """The codebook as a .qdc file (``ImportFileError`` when the project has no codes)."""
    roots, _nodes, _notes = _refi_codes(project, lambda user: None)
    return qdpx.codebook_build_xml(roots)


# --- Import: shared steps ---------------------------------------------------------------


class _Report:
    """Counts and messages of one import."""

    def __init__(self, file_name: str, kind: str):
        self.data: dict = {"file": Path(file_name).name, "format": kind}
        self.warnings: list[tuple[int, str]] = []  # (source number or 0, message)
        self.counts: defaultdict[str, int] = defaultdict(int)

    def warn(self, message: str, row: int = 0) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append((row, message))
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append((0, "… more warnings were left out."))


def _clean_name(name: str) -> str:
    return " ".join((name or "").split())[:200] or "Untitled code"


def _codes_import(
    *, project: Project, codes: list[qdpx.RefiCode], user, file_name: str, notes, report
) -> dict[str, Code]:
    """Create the codes that are missing (by name under the same parent); guid → Code."""
    by_guid: dict[str, Code] = {}
    author = user if user is not None and user.is_authenticated else None

    def walk(items: list[qdpx.RefiCode], parent: Code | None) -> None:
        taken: set[str] = set()
        for item in items:
            base = name = _clean_name(item.name)
            number = 2
            while name.lower() in taken:
                name = f"{base[:190]} ({number})"
                number += 1
            if name != base:
                report.warn(
                    f"Two codes are named “{base}” at the same level; the second is “{name}”."
                )
            taken.add(name.lower())
            code = Code.objects.filter(project=project, parent=parent, name__iexact=name).first()
            if code is not None:
                report.counts["codes_existing"] += 1
            else:
                fields = qdpx.description_split(item.description)
                memo = "\n\n".join(
                    notes[guid].text.strip() for guid in item.note_guids if guid in notes
                )
                code = code_create(
                    project=project,
                    name=name,
                    parent=parent,
                    colour=item.colour or DEFAULT_COLOUR,
                    memo=memo,
                    origin={"from": "refi-qda", "file": Path(file_name).name, "guid": item.guid},
                    user=author,
                    **fields,
                )
                report.counts["codes_created"] += 1
            by_guid[item.guid] = code
            walk(item.children, code)

    walk(codes, None)
    report.data["codes"] = len(by_guid)
    return by_guid


def _with_repairs(report: _Report, repairs: list[str]) -> None:
    report.data["repairs"] = list(repairs)
    if repairs:
        report.warnings.insert(0, (0, "Repaired: " + "; ".join(repairs) + "."))


def _finish(report: _Report) -> dict:
    report.data.update(
        {key: value for key, value in sorted(report.counts.items()) if key not in report.data}
    )
    report.data["warnings"] = [message for _row, message in report.warnings]
    return report.data


# --- Import: codebook -------------------------------------------------------------------


@transaction.atomic
def codebook_import_qdc(*, project: Project, data: bytes, file_name: str, user) -> dict:
    """Add the codes of a .qdc codebook that the project lacks (matched by name and place)."""
    codebook = qdpx.codebook_read(data)
    report = _Report(file_name, "qdc")
    report.data["origin"] = codebook.origin
    report.counts["codes_created"] = report.counts["codes_existing"] = 0
    _with_repairs(report, codebook.repairs)
    _codes_import(
        project=project,
        codes=codebook.codes,
        user=user,
        file_name=file_name,
        notes={},
        report=report,
    )
    return _finish(report)


# --- Import: project --------------------------------------------------------------------


class _Users:
    """REFI users → accounts: an existing username (the REFI name, id or its slug), else a
    new account with an unusable password; each becomes a coder of the project if absent."""

    def __init__(self, project: Project, refi_users: dict[str, qdpx.RefiUser], fallback, report):
        self.project = project
        self.report = report
        self.refi_users = refi_users
        self.fallback = fallback
        self.accounts: dict[str | None, object] = {}
        self.taken: set[int] = set()
        self.listed: list[dict] = []

    def get(self, guid: str | None):
        if not guid:
            return self._fallback()
        if guid not in self.accounts:
            self.accounts[guid] = self._resolve(guid)
        return self.accounts[guid]

    def _fallback(self):
        if self.fallback is None:
            admin = (
                Membership.objects.filter(project=self.project, role=Role.ADMIN)
                .select_related("user")
                .order_by("pk")
                .first()
            )
            if admin is None:
                raise ImportFileError(
                    "Some codings name no coder and the project has no admin to give them to; "
                    "name the importing user."
                )
            self.fallback = admin.user
        return self.fallback

    def _resolve(self, guid: str):
        User = get_user_model()
        refi = self.refi_users.get(guid)
        if refi is None:
            refi = qdpx.RefiUser(guid=guid, name=f"refi-{guid[:8]}")
            self.report.warn(f"A coder or note author is not among the file's users ({guid}).")
        name = refi.name or refi.id or f"refi-{guid[:8]}"
        slug = (slugify(name) or slugify(name, allow_unicode=True))[:140]
        user = None
        for candidate in dict.fromkeys(c for c in (name, refi.id, slug) if c):
            found = User.objects.filter(username__iexact=candidate[:150]).first()
            if found is not None and found.pk not in self.taken:
                user = found
                break
        created = user is None
        if created:
            base = slug or "refi-user"
            username, number = base, 2
            while User.objects.filter(username__iexact=username).exists():
                username = f"{base}-{number}"
                number += 1
            user = User.objects.create_user(username=username, password=None)
            if name != username:
                user.first_name = name[:150]
                user.save(update_fields=["first_name"])
        self.taken.add(user.pk)
        if not Membership.objects.filter(project=self.project, user=user).exists():
            membership_set(project=self.project, user=user, role=Role.CODER)
        self.listed.append({"name": name, "username": user.username, "created": created})
        return user


def _note_text(notes: dict[str, qdpx.RefiNote], guids: list[str]) -> str:
    return "\n\n".join(notes[g].text.strip() for g in guids if g in notes and notes[g].text.strip())


def _memo(text: str, report: _Report, what: str) -> str:
    if len(text) > MEMO_MAX:
        report.warn(f"{what}: a memo longer than {MEMO_MAX} characters was shortened.")
        return text[:MEMO_MAX]
    return text


class _ProjectImport:
    """One .qdpx import, step by step (``project_import_qdpx`` runs it in a transaction)."""

    def __init__(self, *, project: Project, refi: qdpx.RefiProject, file_name: str, user):
        self.project = project
        self.refi = refi
        self.file_name = Path(file_name).name
        self.user = user if user is not None and user.is_authenticated else None
        self.report = _Report(file_name, "qdpx")
        self.users = _Users(project, refi.users, self.user, self.report)
        self.batch: ImportBatch | None = None
        self.offsets: list[dict] = []
        self.post_memos: dict[tuple[Post, object], list[str]] = defaultdict(list)
        # A Grounded export counts code points, as the standard says: no guessing.
        self.trusted = refi.origin.startswith(qdpx.GROUNDED_ORIGIN)

    def run(self) -> dict:
        report, refi = self.report, self.refi
        report.data.update({"project": self.project.slug, "origin": refi.origin, "name": refi.name})
        for key in ("posts_created", "posts_existing", "sources_skipped", "codes_created"):
            report.counts[key] = 0
        for key in ("codes_existing", "codings_created", "codings_existing", "codings_skipped"):
            report.counts[key] = 0
        report.counts["codings_in_file"] = 0
        _with_repairs(report, refi.repairs)
        for message in refi.warnings:
            report.warn(message)
        self.codes = _codes_import(
            project=self.project,
            codes=refi.codes,
            user=self.user,
            file_name=self.file_name,
            notes=refi.notes,
            report=report,
        )
        for row, source in enumerate(refi.sources, start=1):
            self._source(row, source)
        report.counts["memos"] = self._post_memos()
        self._unused_notes()
        return self._summary()

    def _source(self, row: int, source: qdpx.RefiSource) -> None:
        report = self.report
        label = source.name or source.guid
        in_source = sum(len(s.codings) for s in source.selections) + len(source.codings)
        report.counts["codings_in_file"] += in_source
        normalized = qdpx.text_normalize(source.text) if source.text is not None else None
        if normalized is None or not normalized.text:
            report.counts["sources_skipped"] += 1
            report.counts["codings_skipped"] += in_source
            reason = source.skipped or ("its text is empty" if normalized else "it has no text")
            report.warn(f"Source “{label}” was not imported: {reason}.", row)
            return
        post, created = self._post(row, source, normalized.text)
        report.counts["posts_created" if created else "posts_existing"] += 1
        choice = qdpx.offsets_detect(
            source.text,
            [(s.start, s.end) for s in source.selections],
            normalized=normalized,
            trusted=self.trusted,
        )
        if source.selections:
            self.offsets.append(
                {
                    "source": label,
                    "interpretation": choice.label,
                    "word_boundaries": choice.hits,
                    "of": choice.of,
                    "out_of_range": choice.invalid,
                    "runner_up": choice.runner_up,
                    "runner_up_word_boundaries": choice.runner_up_hits,
                }
            )
        # A post already in the project may differ in whitespace only (same content hash).
        align = (
            None if post.text == normalized.text else qdpx.text_align(normalized.text, post.text)
        )
        for selection, span in zip(source.selections, choice.spans, strict=True):
            if span is not None and align is not None:
                span = align.span(*span)
            if span is None or span[0] >= span[1]:
                report.counts["codings_skipped"] += len(selection.codings)
                if selection.codings:
                    report.warn(
                        f"Source “{label}”: the selection {selection.start}–{selection.end} "
                        "falls outside the text; its codings were skipped.",
                        row,
                    )
                continue
            shared = "\n\n".join(
                part
                for part in (
                    selection.description.strip(),
                    _note_text(self.refi.notes, selection.note_guids),
                )
                if part
            )
            for coding in selection.codings:
                self._coding(row, label, post, span, coding, selection.user_guid, shared)
        for coding in source.codings:  # the whole source coded
            self._coding(row, label, post, (0, len(post.text)), coding, source.user_guid, "")
        for guid in source.note_guids:
            note = self.refi.notes.get(guid)
            if note is not None and note.text.strip():
                author = self.users.get(note.user_guid)
                self.post_memos[(post, author)].append(note.text.strip())

    def _coding(self, row, label, post, span, coding, fallback_guid, shared_memo) -> None:
        code = self.codes.get(coding.code_guid)
        if code is None:
            self.report.counts["codings_skipped"] += 1
            self.report.warn(f"Source “{label}”: a coding names a code the file lacks.", row)
            return
        memo = "\n\n".join(
            part for part in (_note_text(self.refi.notes, coding.note_guids), shared_memo) if part
        )
        _coding, created = coding_apply(
            post=post,
            code=code,
            coder=self.users.get(coding.user_guid or fallback_guid),
            start=span[0],
            end=span[1],
            memo=_memo(memo, self.report, f"Source “{label}”"),
        )
        self.report.counts["codings_created" if created else "codings_existing"] += 1

    def _batch(self) -> ImportBatch:
        """The job row the new posts belong to (made with the first one)."""
        if self.batch is None:
            now = timezone.now()
            self.batch = ImportBatch.objects.create(
                project=self.project,
                created_by=self.user,
                file_name=self.file_name[:255],
                name=f"REFI-QDA: {self.refi.name or Path(self.file_name).stem}"[:200],
                format="qdpx",
                status=JobStatus.SUCCEEDED,
                progress=1.0,
                started_at=now,
                finished_at=now,
            )
        return self.batch

    def _post(self, row: int, source: qdpx.RefiSource, text: str) -> tuple[Post, bool]:
        """The project's post with this text (by content hash), or a new one."""
        project = self.project
        digest = content_hash(text)
        existing = Post.objects.filter(project=project, content_hash=digest).first()
        if existing is not None:
            return existing, False
        values = {name.lower(): value for name, value in source.variables.items()}
        fields = {f: values.pop(name.lower(), "").strip() for f, name, _type in VARIABLES}
        external_id = (fields["external_id"] or source.name).strip()[:255]
        if external_id and Post.objects.filter(project=project, external_id=external_id).exists():
            self.report.warn(
                f"Source “{source.name}”: another post already has the id “{external_id}”; the "
                "source name is kept in the post's attributes (refi_source) instead.",
                row,
            )
            external_id = ""
        url = fields["url"][:2000]
        if url and Post.objects.filter(project=project, url=url).exists():
            self.report.warn(f"Source “{source.name}”: another post has the URL {url}.", row)
            url = ""
        originals = {name.lower(): name for name in source.variables}
        metadata = {"refi_source": source.name, "refi_guid": source.guid}
        metadata.update({originals[key]: value for key, value in values.items()})
        post = Post.objects.create(
            project=project,
            batch=self._batch(),
            external_id=external_id,
            author=fields["author"][:255],
            author_headline=fields["author_headline"][:500],
            posted_at=parse_datetime(fields["posted_at"]) if fields["posted_at"] else None,
            url=url,
            text=text,
            word_count=count_words(text),
            content_hash=digest,
            metadata=metadata,
        )
        return post, True

    def _post_memos(self) -> int:
        """Notes on sources become members' post memos; a memo already there keeps its
        text and gains only what it does not hold yet (so a re-import changes nothing)."""
        count = 0
        for (post, author), texts in self.post_memos.items():
            existing = Memo.objects.filter(post=post, author=author).first()
            text = existing.text if existing else ""
            for part in texts:
                if part not in text:
                    text = f"{text}\n\n{part}" if text else part
            if existing is None or text != existing.text:
                memo_set(post=post, user=author, text=_memo(text, self.report, "A post memo"))
                count += 1
        return count

    def _unused_notes(self) -> None:
        used = {g for source in self.refi.sources for g in _note_guids(source)}
        used |= {g for code in qdpx.codes_walk(self.refi.codes) for g in code.note_guids}
        left = [g for g in self.refi.notes if g not in used]
        if left:
            self.report.warn(
                f"{len(left)} note(s) on the project as a whole (not on a source, code or "
                "coding) were not imported."
            )

    def _summary(self) -> dict:
        report, counts = self.report, self.report.counts
        report.data["sources"] = counts["posts_created"] + counts["posts_existing"]
        report.data["codings"] = counts["codings_created"] + counts["codings_existing"]
        report.data["users"] = self.users.listed
        labels = {o["interpretation"] for o in self.offsets}
        report.data["offsets"] = {
            "interpretation": labels.pop()
            if len(labels) == 1
            else ("varies by source" if labels else ""),
            "sources": self.offsets,
        }
        if self.batch is not None:
            report.data["batch"] = self.batch.pk
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                total_rows=len(self.refi.sources),
                imported_count=counts["posts_created"],
                duplicate_count=counts["posts_existing"],
                rejected_count=counts["sources_skipped"],
                row_warnings=[{"row": row, "message": m} for row, m in report.warnings],
                message=(
                    f"{report.data['sources']} sources ({counts['posts_created']} new posts), "
                    f"{report.data['codes']} codes, {report.data['codings']} codings; "
                    f"positions read as {report.data['offsets']['interpretation'] or '—'}."
                ),
            )
        return _finish(report)


@transaction.atomic
def project_import_qdpx(*, project: Project, fileobj: BinaryIO, file_name: str, user) -> dict:
    """Import a .qdpx project: sources become posts, codes keep their tree and colours,
    codings keep their coder and exact span (offsets detected per source), notes become
    memos. Returns the summary (counts, users, offsets, repairs, warnings).

    Raises ``ImportFileError`` (nothing imported) for an unsafe or unreadable file.
    """
    refi = qdpx.qdpx_read(fileobj)
    return _ProjectImport(project=project, refi=refi, file_name=file_name, user=user).run()


def _note_guids(source: qdpx.RefiSource):
    yield from source.note_guids
    for selection in source.selections:
        yield from selection.note_guids
        for coding in selection.codings:
            yield from coding.note_guids
    for coding in source.codings:
        yield from coding.note_guids


# --- Import: either kind ------------------------------------------------------------------


def exchange_import(*, project: Project, fileobj: BinaryIO, file_name: str, user) -> dict:
    """Import a .qdpx project or a .qdc codebook, told apart by content."""
    head = fileobj.read(4)
    fileobj.seek(0)
    if not head:
        raise ImportFileError("The file is empty.")
    if is_zip(head):
        return project_import_qdpx(project=project, fileobj=fileobj, file_name=file_name, user=user)
    data = fileobj.read()
    root = qdpx.xml_parse(data, what=f"{Path(file_name).name}")
    kind = root.tag.rsplit("}", 1)[-1]
    if kind == "Project" and Path(file_name).suffix.lower() != ".qdc":
        fileobj.seek(0)
        return project_import_qdpx(project=project, fileobj=fileobj, file_name=file_name, user=user)
    return codebook_import_qdc(project=project, data=data, file_name=file_name, user=user)

"""Codebook writes: create, edit, move, merge, split, delete with undo, and restore from history.

Every change is written to the change log with what it was before and after, so the
codebook page can show who changed what, and live pages can follow.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from ..models import Adjudication, Change, Code, Coding, Project
from .changes import CODE_FIELDS, change_record, code_snapshot


class CodeConflict(Exception):
    """The code changed since the client read it; carries the fresh version."""

    def __init__(self, current: Code):
        super().__init__(
            f"“{current.name}” was changed by someone else meanwhile (now version "
            f"{current.version}). Here is the fresh version: check it and make your edit again."
        )
        self.current = current


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "A code needs a name."})
    if len(name) > 200:
        raise ValidationError({"name": "A code name has at most 200 characters."})
    return name


def _check_name_free(*, project_id: int, parent_id: int | None, name: str, exclude=None) -> None:
    siblings = Code.objects.filter(project_id=project_id, parent_id=parent_id, name__iexact=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.exists():
        raise ValidationError({"name": f"“{name}” already exists at this level of the codebook."})


def _descendant_ids(code: Code, *, manager=None) -> list[int]:
    manager = manager or Code.objects
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in manager.filter(project_id=code.project_id).values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [code.pk]
    while stack:
        pk = stack.pop()
        found.append(pk)
        stack.extend(children.get(pk, []))
    return found


def _save(code: Code, message: str) -> None:
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError as exc:  # a concurrent change took the name
        raise ValidationError({"name": message}) from exc


def _lock(code: Code, version: int | None) -> Code:
    current = Code.objects.select_for_update().filter(pk=code.pk).first()
    if current is None:
        raise ValidationError({"code": "This code was deleted meanwhile."})
    if version is not None and int(version) != current.version:
        raise CodeConflict(current)
    return current


@transaction.atomic
def code_create(
    *,
    project: Project,
    name: str,
    parent: Code | None = None,
    colour: str = "#9ecae1",
    definition: str = "",
    inclusion: str = "",
    exclusion: str = "",
    example: str = "",
    memo: str = "",
    origin: dict | None = None,
    user=None,
) -> Code:
    name = _clean_name(name)
    if parent is not None and (parent.project_id != project.pk or parent.deleted_at):
        raise ValidationError({"parent": "The parent code belongs to another project."})
    _check_name_free(project_id=project.pk, parent_id=parent.pk if parent else None, name=name)
    last = Code.objects.filter(project=project, parent=parent).aggregate(m=Max("position"))["m"]
    code = Code(
        project=project,
        parent=parent,
        name=name,
        colour=colour,
        definition=definition,
        inclusion=inclusion,
        exclusion=exclusion,
        example=example,
        memo=memo,
        origin=origin or {},
        position=0 if last is None else last + 1,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    code.full_clean(validate_constraints=False)
    _save(code, f"“{name}” already exists at this level.")
    change_record(
        project_id=project.pk,
        user=user,
        kind=Change.Kind.CODE_CREATE,
        code=code,
        after=code_snapshot(code),
    )
    return code


@transaction.atomic
def code_update(*, code: Code, user, version: int | None, **fields) -> Code:
    """Edit a code's text fields and colour; a stale `version` raises CodeConflict."""
    unknown = set(fields) - set(CODE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be edited here."})
    code = _lock(code, version)
    before = code_snapshot(code)
    if "name" in fields:
        fields["name"] = _clean_name(fields["name"])
        if fields["name"].casefold() != code.name.casefold():
            _check_name_free(
                project_id=code.project_id,
                parent_id=code.parent_id,
                name=fields["name"],
                exclude=code.pk,
            )
    changed = {k: v for k, v in fields.items() if getattr(code, k) != v}
    if not changed:
        return code
    for key, value in changed.items():
        setattr(code, key, value)
    code.full_clean(validate_constraints=False, exclude=["project", "parent", "created_by"])
    return _save_version(code, user, Change.Kind.CODE_UPDATE, before, "at this level")


@transaction.atomic
def code_move(
    *, code: Code, user, version: int | None, parent: Code | None, position: int | None = None
) -> Code:
    """Move a code under another parent (None: make it a theme) at a position among siblings."""
    code = _lock(code, version)
    if parent is not None:
        if parent.project_id != code.project_id or parent.deleted_at:
            raise ValidationError({"parent": "The new parent is not in this codebook."})
        if parent.pk in _descendant_ids(code):
            raise ValidationError({"parent": "A code cannot move under itself or its own codes."})
    parent_id = parent.pk if parent is not None else None
    if parent_id != code.parent_id:
        _check_name_free(
            project_id=code.project_id, parent_id=parent_id, name=code.name, exclude=code.pk
        )
    before = code_snapshot(code)
    siblings = list(
        Code.objects.select_for_update()
        .filter(project_id=code.project_id, parent_id=parent_id)
        .exclude(pk=code.pk)
        .order_by("position", "name")
    )
    at = len(siblings) if position is None else max(0, min(int(position), len(siblings)))
    siblings.insert(at, code)
    code.parent_id = parent_id
    for index, sibling in enumerate(siblings):
        if sibling.pk == code.pk:
            sibling.position = index
        elif sibling.position != index:
            Code.objects.filter(pk=sibling.pk).update(position=index)
    if (code.parent_id, code.position) == (before["parent"], before["position"]):
        return code
    return _save_version(code, user, Change.Kind.CODE_MOVE, before, "at that level")


def _save_version(code: Code, user, kind: str, before: dict, where: str) -> Code:
    """Save an edited code as its next version and record the change, before and after."""
    code.version += 1
    _save(code, f"“{code.name}” already exists {where}.")
    change_record(
        project_id=code.project_id,
        user=user,
        kind=kind,
        code=code,
        before=before,
        after=code_snapshot(code),
    )
    return code


def code_impact(*, code: Code) -> dict:
    """What deleting or merging a code touches: the codes under it and all their codings."""
    ids = _descendant_ids(code)
    return {
        "codes": len(ids),
        "codings": Coding.objects.filter(code_id__in=ids).count(),
        "coders": Coding.objects.filter(code_id__in=ids).values("coder").distinct().count(),
    }


@transaction.atomic
def code_merge(*, source: Code, target: Code, user) -> dict:
    """Move every coding (and sub-code) of `source` into `target`, then retire `source`.

    A span the same coder coded with both codes would be coded twice by the target: it is
    kept once. The source stays in the history as merged into the target.
    """
    if source.pk == target.pk:
        raise ValidationError({"target": "Choose another code to merge into."})
    if source.project_id != target.project_id or target.deleted_at:
        raise ValidationError({"target": "The target code is not in this codebook."})
    source = _lock(source, None)
    if target.pk in _descendant_ids(source):
        raise ValidationError({"target": "A code cannot be merged into one of its own codes."})
    target_names = {
        n.casefold() for n in Code.objects.filter(parent=target).values_list("name", flat=True)
    }
    for child in Code.objects.filter(parent=source):
        if child.name.casefold() in target_names:
            raise ValidationError(
                {
                    "target": f"Both codes have a code named “{child.name}”: merge or "
                    "rename those first."
                }
            )
    before = code_snapshot(source)
    same_span = Coding.objects.filter(
        code=target,
        post_id=OuterRef("post_id"),
        coder_id=OuterRef("coder_id"),
        start=OuterRef("start"),
        end=OuterRef("end"),
    )
    duplicates = Coding.objects.filter(code=source).filter(Exists(same_span))
    duplicate_count = duplicates.count()
    duplicates.delete()
    moved = Coding.objects.filter(code=source).update(code=target, updated_at=timezone.now())
    children = Code.objects.filter(parent=source)
    last = Code.objects.filter(parent=target).aggregate(m=Max("position"))["m"] or 0
    for offset, child in enumerate(children.order_by("position", "name"), start=1):
        Code.objects.filter(pk=child.pk).update(parent=target, position=last + offset)
    Adjudication.objects.filter(code=source).update(code=target)
    source.deleted_at = timezone.now()
    source.merged_into = target
    source.version += 1
    source.save(update_fields=["deleted_at", "merged_into", "version", "updated_at"])
    Code.objects.filter(pk=target.pk).update(version=target.version + 1)
    summary = {"into": target.pk, "into_name": target.name, "moved": moved}
    summary["duplicates_kept_once"] = duplicate_count
    change_record(
        project_id=source.project_id,
        user=user,
        kind=Change.Kind.CODE_MERGE,
        code=source,
        before=before,
        after=summary,
    )
    return summary


@transaction.atomic
def code_split(
    *, code: Code, user, name: str, coding_ids: list[int], colour: str | None = None
) -> Code:
    """Make a new code beside `code` and move the chosen codings to it."""
    chosen = Coding.objects.filter(code=code, pk__in=coding_ids)
    if not chosen.exists():
        raise ValidationError({"codings": "Choose at least one of this code's codings to move."})
    new = code_create(
        project=code.project,
        name=name,
        parent=code.parent,
        colour=colour or code.colour,
        definition=f"Split from “{code.name}”.",
        user=user,
    )
    moved_ids = list(chosen.values_list("pk", flat=True))
    Coding.objects.filter(pk__in=moved_ids).update(code=new, updated_at=timezone.now())
    change_record(
        project_id=code.project_id,
        user=user,
        kind=Change.Kind.CODE_SPLIT,
        code=code,
        before=code_snapshot(code),
        after={"new_code": new.pk, "new_name": new.name, "codings": moved_ids},
    )
    return new


@transaction.atomic
def code_delete(*, code: Code, user) -> dict:
    """Soft-delete a code, the codes under it and their codings; `code_restore` undoes it."""
    code = _lock(code, None)
    impact = code_impact(code=code)
    ids = _descendant_ids(code)
    now = timezone.now()
    Coding.objects.filter(code_id__in=ids).update(deleted_at=now)
    Code.objects.filter(pk__in=ids).update(deleted_at=now)
    change_record(
        project_id=code.project_id,
        user=user,
        kind=Change.Kind.CODE_DELETE,
        code=code,
        before=code_snapshot(code),
        after={"deleted_at": now.isoformat(), **impact},
    )
    return impact


@transaction.atomic
def code_restore(*, code: Code, user) -> Code:
    """Undo a deletion: the code, the codes deleted with it and their codings come back."""
    code = Code.all_objects.select_for_update().get(pk=code.pk)
    if code.deleted_at is None:
        return code
    if code.merged_into_id:
        raise ValidationError({"code": "This code was merged into another; it cannot come back."})
    if code.parent_id and not Code.objects.filter(pk=code.parent_id).exists():
        raise ValidationError({"code": "Restore the code above it first."})
    _check_name_free(project_id=code.project_id, parent_id=code.parent_id, name=code.name)
    stamp = code.deleted_at
    ids = list(
        Code.all_objects.filter(
            pk__in=_descendant_ids(code, manager=Code.all_objects), deleted_at=stamp
        ).values_list("pk", flat=True)
    )
    Code.all_objects.filter(pk__in=ids).update(deleted_at=None)
    restored = Coding.all_objects.filter(code_id__in=ids, deleted_at=stamp).update(deleted_at=None)
    code.refresh_from_db()
    change_record(
        project_id=code.project_id,
        user=user,
        kind=Change.Kind.CODE_RESTORE,
        code=code,
        after={**code_snapshot(code), "codes": len(ids), "codings": restored},
    )
    return code


@transaction.atomic
def code_change_revert(*, change: Change, user) -> Code:
    """Put a code's name, text fields or place back as they were before a recorded change."""
    if change.kind not in (Change.Kind.CODE_UPDATE, Change.Kind.CODE_MOVE) or not change.before:
        raise ValidationError(
            {"change": "Only edits, renames and moves can be restored from the history."}
        )
    code = Code.objects.filter(pk=change.code_id).first()
    if code is None:
        raise ValidationError({"change": "That code has been deleted; undo the deletion first."})
    before = change.before
    if change.kind == Change.Kind.CODE_MOVE:
        parent = Code.objects.filter(pk=before["parent"]).first() if before["parent"] else None
        if before["parent"] and parent is None:
            raise ValidationError({"change": "The code it was under no longer exists."})
        return code_move(
            code=code, user=user, version=None, parent=parent, position=before["position"]
        )
    fields = {k: before[k] for k in CODE_FIELDS if k in before}
    return code_update(code=code, user=user, version=None, **fields)

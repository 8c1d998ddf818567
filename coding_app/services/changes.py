"""The change log: one row per codebook or coding change, read as history and as a live feed."""

from ..models import Change, Code, Coding

CODE_FIELDS = ("name", "colour", "definition", "inclusion", "exclusion", "example", "memo")


def code_snapshot(code: Code) -> dict:
    """What a history entry keeps of a code: its text fields and its place in the tree."""
    return {
        "id": code.pk,
        **{field: getattr(code, field) for field in CODE_FIELDS},
        "parent": code.parent_id,
        "position": code.position,
        "version": code.version,
    }


def coding_snapshot(coding: Coding, coder=None) -> dict:
    """A coding as the live feed sends it (enough to draw it without another request)."""
    coder = coder or coding.coder
    return {
        "id": coding.pk,
        "post": coding.post_id,
        "code": coding.code_id,
        "start": coding.start,
        "end": coding.end,
        "quote": coding.quote,
        "memo": coding.memo,
        "coder": {"id": coder.pk, "username": coder.username},
        "created_at": coding.created_at.isoformat() if coding.created_at else None,
    }


def change_record(
    *,
    project_id: int,
    user,
    kind: str,
    code: Code | None = None,
    coding: Coding | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> Change:
    return Change.objects.create(
        project_id=project_id,
        user=user if user is not None and user.is_authenticated else None,
        kind=kind,
        code=code,
        post_id=coding.post_id if coding is not None else None,
        coding_id=coding.pk if coding is not None else None,
        coder_id=coding.coder_id if coding is not None else None,
        before=before,
        after=after,
    )

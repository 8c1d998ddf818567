"""Coding writes: apply and remove a coding, memos on codings and posts, marking a post coded."""

import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from corpus.models import ImportBatch, JobStatus, Post

from ..access import AccessDenied
from ..models import Adjudication, Assignment, Change, Code, Coding, Membership, Memo
from .changes import change_record, coding_snapshot

MEMO_MAX = 20_000


def coding_apply(
    *, post: Post, code: Code, coder, start: int, end: int, memo: str = ""
) -> tuple[Coding, bool]:
    """Code the span [start, end) of a post; returns (coding, created).

    Offsets are code points into the post's NFC text. Applying the same code to the same
    span twice by the same coder keeps one coding (idempotent, safe to retry).
    """
    errors = {}
    if code.project_id != post.project_id:
        errors["code"] = "This code belongs to another project."
    elif code.deleted_at is not None:
        errors["code"] = "This code has been deleted."
    length = len(post.text)
    if start < 0:
        errors["start"] = "start must be 0 or more."
    if end > length:
        errors["end"] = f"end is past the end of the post ({length} characters)."
    if start >= end:
        errors["end"] = "end must be greater than start (select at least one character)."
    if len(memo) > MEMO_MAX:
        errors["memo"] = f"A memo has at most {MEMO_MAX} characters."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    coding = Coding(
        post_id=post.pk,
        code_id=code.pk,
        coder_id=coder.pk,
        start=start,
        end=end,
        quote=post.text[start:end],
        memo=memo,
        created_at=now,
        updated_at=now,
    )
    coding.post, coding.code, coding.coder = post, code, coder
    insert = _insert_one_statement if _one_statement() else _insert_with_orm
    for _attempt in range(3):
        if insert(coding):
            return coding, True
        # A repeat of the same span (a retry, or a race) inserts nothing: the coding there is
        # the answer, unless it was removed in between; then insert again.
        existing = Coding.objects.filter(
            post=post, code=code, coder=coder, start=start, end=end
        ).first()
        if existing is not None:
            return existing, False
    raise ValidationError(
        {"code": "This span could not be coded: the post or the code changed meanwhile."}
    )


def _one_statement() -> bool:
    """PostgreSQL runs a write and its change-log row as one statement (data-modifying CTEs);
    other databases (the embedded SQLite of `make run`) take the ORM path."""
    return connection.vendor == "postgresql"


def _insert_with_orm(coding: Coding) -> bool:
    try:
        with transaction.atomic():
            coding.save(force_insert=True)
            change_record(
                project_id=coding.post.project_id,
                user=coding.coder,
                kind=Change.Kind.CODING_ADD,
                coding=coding,
                after=coding_snapshot(coding, coding.coder),
            )
    except IntegrityError:  # the span is coded already (or a row it points to went away)
        coding.pk, coding._state.adding = None, True
        return False
    return True


def _insert_one_statement(coding: Coding) -> bool:
    """Insert the coding and its change-log row in one statement (atomic on its own): the hot
    path of coding costs one round trip. False when the span is coded already."""
    after = coding_snapshot(coding, coding.coder)
    del after["id"]  # the statement adds the new id
    params = {
        "post": coding.post_id,
        "code": coding.code_id,
        "coder": coding.coder_id,
        "start": coding.start,
        "end": coding.end,
        "quote": coding.quote,
        "memo": coding.memo,
        "now": coding.created_at,
        "project": coding.post.project_id,
        "kind": Change.Kind.CODING_ADD,
        "after": json.dumps(after),
    }
    with connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return False
    coding.pk, coding._state.adding = row[0], False
    return True


_CODING, _CHANGE, _POST = Coding._meta.db_table, Change._meta.db_table, Post._meta.db_table
_MEMBERSHIP, _BATCH = Membership._meta.db_table, ImportBatch._meta.db_table
_ADJUDICATION = Adjudication._meta.db_table

_APPLY_SQL = f"""
WITH new AS (
    INSERT INTO {_CODING} (post_id, code_id, coder_id, start, "end", quote, memo, deleted_at,
                           created_at, updated_at)
    VALUES (%(post)s, %(code)s, %(coder)s, %(start)s, %(end)s, %(quote)s, %(memo)s, NULL,
            %(now)s, %(now)s)
    ON CONFLICT DO NOTHING
    RETURNING id
), logged AS (
    INSERT INTO {_CHANGE} (project_id, user_id, at, kind, code_id, post_id, coding_id, coder_id,
                           before, after)
    SELECT %(project)s, %(coder)s, %(now)s, %(kind)s, NULL, %(post)s, new.id, %(coder)s, NULL,
           %(after)s::jsonb || jsonb_build_object('id', new.id)
    FROM new
)
SELECT id FROM new
"""


_REMOVE_SQL = f"""
WITH gone AS (
    DELETE FROM {_CODING} c
    USING {_POST} p
    JOIN {_MEMBERSHIP} m ON m.project_id = p.project_id AND m.user_id = %(user)s
    LEFT JOIN {_BATCH} b ON b.id = p.batch_id
    WHERE c.id = %(id)s AND c.coder_id = %(user)s AND c.deleted_at IS NULL
      AND p.id = c.post_id AND (p.batch_id IS NULL OR b.status = %(succeeded)s)
    RETURNING c.id, c.post_id, c.code_id, c.start, c."end", c.quote, c.memo, c.created_at,
              p.project_id
), unlinked AS (
    UPDATE {_ADJUDICATION} SET consensus_coding_id = NULL
    WHERE consensus_coding_id IN (SELECT id FROM gone)
), logged AS (
    INSERT INTO {_CHANGE} (project_id, user_id, at, kind, code_id, post_id, coding_id, coder_id,
                           before, after)
    SELECT gone.project_id, %(user)s, %(now)s, %(kind)s, NULL, gone.post_id, gone.id, %(user)s,
           jsonb_build_object(
               'id', gone.id, 'post', gone.post_id, 'code', gone.code_id,
               'start', gone.start, 'end', gone."end", 'quote', gone.quote, 'memo', gone.memo,
               'coder', jsonb_build_object('id', %(user)s, 'username', %(username)s),
               'created_at', to_jsonb(gone.created_at)),
           NULL
    FROM gone
)
SELECT id FROM gone
"""


def coding_remove_own(*, coding_id: int, user) -> bool:
    """Remove the user's own coding of a visible post in one statement (with its change-log
    row and the unlinking of a consensus that pointed at it). False when there is no such
    coding, or the database is not PostgreSQL: the caller then takes `coding_remove`'s path,
    which says why (404 or 403)."""
    if not _one_statement():
        return False
    params = {
        "id": coding_id,
        "user": user.pk,
        "username": user.username,
        "now": timezone.now(),
        "kind": Change.Kind.CODING_REMOVE,
        "succeeded": JobStatus.SUCCEEDED,
    }
    with connection.cursor() as cursor:
        cursor.execute(_REMOVE_SQL, params)
        return cursor.fetchone() is not None


@transaction.atomic
def coding_remove(*, coding: Coding, user) -> None:
    if coding.coder_id != user.pk:
        raise AccessDenied("Only the coder who made a coding can remove it.")
    change_record(
        project_id=coding.post.project_id,
        user=user,
        kind=Change.Kind.CODING_REMOVE,
        coding=coding,
        before=coding_snapshot(coding),
    )
    coding.delete()


@transaction.atomic
def coding_memo_set(*, coding: Coding, user, memo: str) -> Coding:
    if coding.coder_id != user.pk:
        raise AccessDenied("Only the coder who made a coding can write its memo.")
    if len(memo) > MEMO_MAX:
        raise ValidationError({"memo": f"A memo has at most {MEMO_MAX} characters."})
    before = coding_snapshot(coding)
    coding.memo = memo
    coding.save(update_fields=["memo", "updated_at"])
    change_record(
        project_id=coding.post.project_id,
        user=user,
        kind=Change.Kind.CODING_MEMO,
        coding=coding,
        before=before,
        after=coding_snapshot(coding),
    )
    return coding


@transaction.atomic
def memo_set(*, post: Post, user, text: str) -> Memo | None:
    """The member's memo on a post; empty text removes it."""
    text = text.strip()
    if len(text) > MEMO_MAX:
        raise ValidationError({"text": f"A memo has at most {MEMO_MAX} characters."})
    if not text:
        Memo.objects.filter(post=post, author=user).delete()
        return None
    memo, _ = Memo.objects.update_or_create(post=post, author=user, defaults={"text": text})
    return memo


@transaction.atomic
def assignment_done_set(*, post: Post, user, done: bool) -> Assignment:
    """Mark a post of the coder's queue as coded (or not yet)."""
    assignment = Assignment.objects.select_for_update().filter(post=post, coder=user).first()
    if assignment is None:
        raise ValidationError({"post": "This post is not in your queue."})
    assignment.done_at = timezone.now() if done else None
    assignment.save(update_fields=["done_at"])
    return assignment

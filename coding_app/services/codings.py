"""Coding writes: apply and remove a coding, memos on codings and posts, marking a post coded."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from corpus.models import Post

from ..access import AccessDenied
from ..models import Assignment, Change, Code, Coding, Memo
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
    quote = post.text[start:end]
    # Insert first: a repeated apply is rare, so the common path is one INSERT for the coding
    # and one for the change log in a single transaction; a duplicate falls back to a read.
    try:
        with transaction.atomic():
            coding = Coding.objects.create(
                post=post, code=code, coder=coder, start=start, end=end, quote=quote, memo=memo
            )
            change_record(
                project_id=post.project_id,
                user=coder,
                kind=Change.Kind.CODING_ADD,
                coding=coding,
                after=coding_snapshot(coding, coder),
            )
            return coding, True
    except IntegrityError:
        # The same coder already coded this span with this code (a retry, or a race).
        existing = Coding.objects.filter(
            post=post, code=code, coder=coder, start=start, end=end
        ).first()
        if existing is None:  # it is soft-deleted with its code, or the error was another
            raise
        return existing, False


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

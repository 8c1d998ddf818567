"""Every write of the coding domain: codes, codings, assignments, projects."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from corpus.models import Post

from .access import AccessDenied
from .models import Code, Coding, Membership, Project, Role


@transaction.atomic
def project_create(*, slug: str, name: str, description: str = "", admin) -> Project:
    project = Project.objects.create(slug=slug, name=name, description=description)
    Membership.objects.create(project=project, user=admin, role=Role.ADMIN)
    return project


@transaction.atomic
def membership_set(*, project: Project, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


def code_create(
    *,
    project: Project,
    name: str,
    parent: Code | None = None,
    colour: str = "#9ecae1",
    definition: str = "",
    user=None,
) -> Code:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "A code needs a name."})
    if parent is not None and parent.project_id != project.pk:
        raise ValidationError({"parent": "The parent code belongs to another project."})
    siblings = Code.objects.filter(project=project, parent=parent, name__iexact=name)
    if siblings.exists():
        raise ValidationError({"name": f"“{name}” already exists at this level of the codebook."})
    code = Code(
        project=project,
        parent=parent,
        name=name,
        colour=colour,
        definition=definition,
        created_by=user,
    )
    code.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError as exc:  # a concurrent create with the same name
        raise ValidationError({"name": f"“{name}” already exists at this level."}) from exc
    return code


def coding_apply(*, post: Post, code: Code, coder, start: int, end: int) -> tuple[Coding, bool]:
    """Code the span [start, end) of a post; returns (coding, created).

    Offsets are code points into the post's NFC text. Applying the same code to the same
    span twice by the same coder keeps one coding (idempotent, safe to retry).
    """
    errors = {}
    if code.project_id != post.project_id:
        errors["code"] = "This code belongs to another project."
    length = len(post.text)
    if start < 0:
        errors["start"] = "start must be 0 or more."
    if end > length:
        errors["end"] = f"end is past the end of the post ({length} characters)."
    if start >= end:
        errors["end"] = "end must be greater than start (select at least one character)."
    if errors:
        raise ValidationError(errors)
    quote = post.text[start:end]
    try:
        with transaction.atomic():
            return Coding.objects.get_or_create(
                post=post,
                code=code,
                coder=coder,
                start=start,
                end=end,
                defaults={"quote": quote},
            )
    except IntegrityError:
        # Lost a race with the same coder's identical request: the row exists now.
        return Coding.objects.get(post=post, code=code, coder=coder, start=start, end=end), False


def coding_remove(*, coding: Coding, user) -> None:
    if coding.coder_id != user.pk:
        raise AccessDenied("Only the coder who made a coding can remove it.")
    coding.delete()


def consensus_coder(*, project: Project):
    """The user whose codings form the project's consensus layer (made on first use)."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=f"consensus@{project.slug}"[:150],
        defaults={"first_name": "Consensus", "last_name": project.name[:150]},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def adjudication_decide(
    *,
    post: Post,
    code: Code,
    start: int,
    end: int,
    decision: str,
    source_codings: list[int],
    user,
    note: str = "",
):
    """Accept a span into the consensus layer (optionally edited), or record a rejection.

    Accepting the same span twice keeps one consensus coding; every decision is kept as history.
    """
    from .models import Adjudication

    if decision not in (
        Adjudication.Decision.ACCEPT,
        Adjudication.Decision.EDIT,
        Adjudication.Decision.REJECT,
    ):
        raise ValidationError({"decision": "Accept, edit or reject."})
    sources = list(
        Coding.objects.filter(pk__in=source_codings, post=post).values_list("pk", flat=True)
    )
    if decision != Adjudication.Decision.EDIT and not sources:
        raise ValidationError({"source_codings": "Name the codings decided on."})
    consensus = None
    if decision != Adjudication.Decision.REJECT:
        consensus, _ = coding_apply(
            post=post, code=code, coder=consensus_coder(project=post.project), start=start, end=end
        )
    return Adjudication.objects.create(
        project=post.project,
        post=post,
        code=code,
        start=start,
        end=end,
        decision=decision,
        source_codings=sources,
        consensus_coding=consensus,
        note=note,
        decided_by=user,
    )


@transaction.atomic
def adjudication_undo(*, consensus_coding: Coding, user):
    """Take a coding out of the consensus layer (recorded, so the history stays whole)."""
    from .models import Adjudication

    if consensus_coding.coder != consensus_coder(project=consensus_coding.post.project):
        raise ValidationError({"coding": "Only consensus codings can be undone here."})
    Adjudication.objects.create(
        project=consensus_coding.post.project,
        post=consensus_coding.post,
        code=consensus_coding.code,
        start=consensus_coding.start,
        end=consensus_coding.end,
        decision=Adjudication.Decision.UNDO,
        decided_by=user,
    )
    consensus_coding.delete()

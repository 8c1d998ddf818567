"""The consensus layer: a supervisor's adjudication of coders' codings, with its history."""

from django.core.exceptions import ValidationError
from django.db import transaction

from corpus.models import Post

from ..models import Code, Coding, Project
from .codings import coding_apply


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
    from ..models import Adjudication

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
    from ..models import Adjudication

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

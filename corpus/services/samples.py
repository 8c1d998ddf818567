"""Inclusion criteria, theoretical marks, recorded samples and assignments to coders."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.lookups import Exact

from coding_app.models import Assignment, Membership, Project, Role

from ..models import Post, PostMark, Sample
from ..sampling import (
    Criteria,
    SampleResult,
    assign_with_overlap,
    describe_sample,
    random_sample,
    systematic_sample,
)
from ..selectors import post_visible_q


def _word_regex(phrase: str) -> str:
    import re

    words = [re.escape(w) for w in phrase.split()]
    if connection.vendor == "postgresql":  # PostgreSQL's ARE word boundaries
        return r"\m" + r"\s+".join(words) + r"\M"
    return r"\b" + r"\s+".join(words) + r"\b"


def criteria_q(criteria: Criteria) -> Q:
    """The criteria as one filter on Post (whole-word, case-insensitive keyword matches)."""
    q = Q()
    if criteria.min_words is not None:
        q &= Q(word_count__gte=criteria.min_words)
    if criteria.max_words is not None:
        q &= Q(word_count__lte=criteria.max_words)
    start, end = criteria.window()
    if start is not None:
        q &= Q(posted_at__gte=start)
    if end is not None:
        q &= Q(posted_at__lt=end)
    if criteria.keywords:
        any_keyword = Q()
        for keyword in criteria.keywords:
            if keyword.strip():
                any_keyword |= Q(text__iregex=_word_regex(keyword))
        q &= any_keyword
    for keyword in criteria.exclude_keywords:
        if keyword.strip():
            q &= ~Q(text__iregex=_word_regex(keyword))
    if criteria.authors:
        any_author = Q()
        for author in criteria.authors:
            any_author |= Q(author__icontains=author) | Q(author_headline__icontains=author)
        q &= any_author
    for key, value in (criteria.metadata or {}).items():
        q &= attribute_q(key, value)
    return q


def attribute_q(key: str, value: str) -> Q:
    """Posts whose imported attribute `key` reads `value`. The key is taken literally (a
    name holding "__" is not a lookup path) and compared as text, so 12 matches "12"."""
    from django.db.models.fields.json import KeyTextTransform

    return Q(Exact(KeyTextTransform(key, "metadata"), str(value)))


def pool_list(
    *, project: Project, criteria: Criteria, exclude_marked: bool = True
) -> QuerySet[Post]:
    """Posts that meet the criteria, in sampling order (posting date, then id).

    Posts marked “not relevant” (theoretical selection) leave the pool.
    """
    posts = (
        Post.objects.filter(project=project).filter(post_visible_q()).filter(criteria_q(criteria))
    )
    if exclude_marked:
        posts = posts.exclude(mark__relevant=False)
    return posts.order_by("posted_at", "id")


@transaction.atomic
def post_mark_set(*, post: Post, relevant: bool | None, note: str = "", user) -> PostMark | None:
    """Mark a post relevant or not (None clears the mark)."""
    if relevant is None:
        PostMark.objects.filter(post=post).delete()
        return None
    mark, _ = PostMark.objects.update_or_create(
        post=post, defaults={"relevant": relevant, "note": note, "marked_by": user}
    )
    return mark


@transaction.atomic
def near_duplicate_review(*, pair, exclude_later: bool, user) -> None:
    from ..models import NearDuplicate

    if exclude_later:
        post_mark_set(
            post=pair.post,
            relevant=False,
            user=user,
            note=f"Near-duplicate of post {pair.similar_to_id} ({pair.similarity:.2f}).",
        )
    pair.status = NearDuplicate.Status.EXCLUDED if exclude_later else NearDuplicate.Status.KEPT
    pair.save(update_fields=["status"])


def _draw(pool_ids: list[int], *, method: str, k, start, seed, n) -> SampleResult:
    if method == Sample.Method.SYSTEMATIC:
        if not k or k < 1:
            raise ValidationError({"k": "Give k, the step (for example 3 keeps every third post)."})
        if start is not None and not 1 <= start <= k:
            raise ValidationError({"start": f"The start must be between 1 and k ({k})."})
        if start is None and seed is None:
            raise ValidationError({"start": "Give a start position or a seed to draw one."})
        return systematic_sample(pool_ids, k, start=start, seed=seed)
    if method == Sample.Method.RANDOM:
        if not n or n < 1:
            raise ValidationError({"n": "Give the number of posts to draw."})
        if n > len(pool_ids):
            raise ValidationError({"n": f"The pool has only {len(pool_ids)} posts."})
        if seed is None:
            raise ValidationError({"seed": "A random sample needs a seed, so it can be re-drawn."})
        return random_sample(pool_ids, n, seed=seed)
    if method == Sample.Method.ALL:
        return SampleResult(
            ids=list(pool_ids),
            positions=list(range(1, len(pool_ids) + 1)),
            method="all",
            k=None,
            start=None,
            seed=None,
            n=len(pool_ids),
            pool_size=len(pool_ids),
        )
    raise ValidationError({"method": f"Unknown sampling method “{method}”."})


@transaction.atomic
def sample_create(
    *,
    project: Project,
    name: str,
    criteria: Criteria,
    method: str,
    k: int | None = None,
    start: int | None = None,
    seed: int | None = None,
    n: int | None = None,
    user=None,
) -> Sample:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the sample a name."})
    if Sample.objects.filter(project=project, name=name).exists():
        raise ValidationError({"name": f"A sample called “{name}” already exists."})
    pool_ids = list(pool_list(project=project, criteria=criteria).values_list("id", flat=True))
    if not pool_ids:
        raise ValidationError({"criteria": "No post meets these criteria: nothing to sample."})
    result = _draw(pool_ids, method=method, k=k, start=start, seed=seed, n=n)
    marks = {
        str(post_id): {"relevant": relevant, "note": note}
        for post_id, relevant, note in PostMark.objects.filter(post__project=project).values_list(
            "post_id", "relevant", "note"
        )
    }
    return Sample.objects.create(
        project=project,
        name=name,
        criteria=criteria.to_dict(),
        method=method,
        k=result.k,
        start=result.start,
        seed=seed,
        n=n if method == Sample.Method.RANDOM else None,
        pool_ids=pool_ids,
        marks=marks,
        post_ids=list(result.ids),
        description=_describe(result, criteria),
        created_by=user,
    )


def _describe(result: SampleResult, criteria: Criteria) -> str:
    if result.method == "all":
        return f"{result.pool_size} posts met the criteria ({criteria.describe()}); all were kept."
    return describe_sample(result, criteria.describe())


def sample_rerun(*, sample: Sample) -> dict:
    """Re-apply the recipe to the corpus as it is now; say whether it gives the same sample."""
    criteria = Criteria.from_dict(sample.criteria)
    pool_ids = list(
        pool_list(project=sample.project, criteria=criteria).values_list("id", flat=True)
    )
    result = _draw(
        pool_ids, method=sample.method, k=sample.k, start=sample.start, seed=sample.seed, n=sample.n
    )
    return {
        "same_pool": pool_ids == sample.pool_ids,
        "same_sample": list(result.ids) == sample.post_ids,
        "pool_size": len(pool_ids),
        "post_ids": list(result.ids),
    }


@transaction.atomic
def assignment_bulk_create(
    *,
    project: Project,
    post_ids: Sequence[int],
    coder_ids: Sequence[int],
    per_post: int,
    seed: int,
    user=None,
    sample: Sample | None = None,
) -> dict[int, list[int]]:
    """Hand posts to coders, each post to `per_post` of them, balanced and seeded.

    Posts a coder already has are not assigned twice.
    """
    coders = set(
        Membership.objects.filter(project=project, user_id__in=coder_ids).values_list(
            "user_id", flat=True
        )
    )
    missing = set(coder_ids) - coders
    if missing:
        raise ValidationError({"coders": "Every coder must be a member of the project."})
    if not coder_ids:
        raise ValidationError({"coders": "Choose at least one coder."})
    if not 1 <= per_post <= len(coder_ids):
        raise ValidationError(
            {
                "per_post": f"Each post can go to between 1 and {len(coder_ids)} of the chosen coders."
            }
        )
    valid = set(Post.objects.filter(project=project, id__in=post_ids).values_list("id", flat=True))
    post_ids = [pid for pid in post_ids if pid in valid]
    plan = assign_with_overlap(post_ids, list(coder_ids), per_post, seed)
    for coder_id, ids in plan.items():
        have = set(
            Assignment.objects.filter(coder_id=coder_id, post_id__in=ids).values_list(
                "post_id", flat=True
            )
        )
        offset = Assignment.objects.filter(coder_id=coder_id, post__project=project).count()
        Assignment.objects.bulk_create(
            [
                Assignment(
                    post_id=pid,
                    coder_id=coder_id,
                    assigned_by=user,
                    sample=sample,
                    position=offset + i,
                )
                for i, pid in enumerate(pid for pid in ids if pid not in have)
            ]
        )
    return plan


def coders_of(project: Project) -> QuerySet:
    return Membership.objects.filter(project=project, role=Role.CODER).select_related("user")

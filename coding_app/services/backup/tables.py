"""What a project backup holds: one JSON Lines member per table, in restore order.

Each row keeps its old id (so other rows can name it) and every field of the model; a
foreign key is written as the old id of the row it names, or, for a user, as the username
(users are matched by name on restore). Ids inside JSON fields (a sample's posts, an
adjudication's codings, ids in the change log's before/after) are listed here too, so the
restore can translate all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model, Q, QuerySet

from analysis.models import CodeReview, ReviewComment, StopWord, SynonymGroup
from corpus.models import ImportBatch, JobStatus, NearDuplicate, Post, PostMark, Sample
from corpus.selectors import post_visible_q

from ...models import Adjudication, Assignment, Change, Code, Coding, Membership, Memo, Project

FORMAT = "grounded-project-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS = "users.jsonl"
PROJECT = "project.json"
USER = "user"  # the kind of a reference to a user: written as the username

# Not in a backup: analysis jobs, their chunks and cached word counts (a query is computed
# again on demand), and uploaded import files (kept only until their import ends).
NOT_INCLUDED = [
    "analysis jobs, their results and cached word counts: computed again on demand",
    "uploaded import files (kept only until their import ends)",
    "import batches still being set up or running, and their posts",
]


@dataclass(frozen=True)
class Table:
    """One table of a project: the member `<name>.jsonl` of the archive."""

    name: str
    model: type[Model]
    rows: Callable[[Project], QuerySet]  # the project's rows, in restore order
    refs: dict[str, str] = field(default_factory=dict)  # field → kind of what it names
    kind: str | None = None  # the kind of object this table's ids are
    id_lists: dict[str, str] = field(default_factory=dict)  # JSON list of ids → kind
    skip: tuple[str, ...] = ()  # fields never written (nor read back)

    @property
    def member(self) -> str:
        return f"{self.name}.jsonl"

    def fields(self) -> list:
        """The model fields a row carries (not the id, the project or the skipped ones)."""
        return [
            f
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f.name != "project" and f.name not in self.skip
        ]


def visible_posts(project: Project) -> QuerySet:
    return Post.objects.filter(project=project).filter(post_visible_q())


def _of_visible_posts(model: type[Model], *paths: str) -> Callable[[Project], QuerySet]:
    def rows(project: Project) -> QuerySet:
        posts = visible_posts(project)
        manager = getattr(model, "all_objects", model._default_manager)
        query = Q()
        for path in paths:
            query &= Q(**{f"{path}__in": posts})
        return manager.filter(query).order_by("pk")

    return rows


def _of_project(model: type[Model], path: str = "project") -> Callable[[Project], QuerySet]:
    def rows(project: Project) -> QuerySet:
        manager = getattr(model, "all_objects", model._default_manager)
        return manager.filter(**{path: project}).order_by("pk")

    return rows


FINISHED_BATCHES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)

TABLES = [
    Table("memberships", Membership, _of_project(Membership), refs={"user": USER}),
    Table(
        "import_batches",
        ImportBatch,
        lambda project: ImportBatch.objects.filter(
            project=project, status__in=FINISHED_BATCHES
        ).order_by("pk"),
        refs={"created_by": USER},
        kind="batch",
        skip=("file",),
    ),
    # Posts keep their order, so a sample's recipe (posting date, then id) draws the same.
    Table(
        "posts",
        Post,
        lambda p: visible_posts(p).order_by("pk"),
        refs={"batch": "batch"},
        kind="post",
        skip=("lsh",),  # derived from the text; the next near-duplicate scan recomputes it
    ),
    Table(
        "samples",
        Sample,
        _of_project(Sample),
        refs={"created_by": USER},
        kind="sample",
        id_lists={"pool_ids": "post", "post_ids": "post"},
    ),
    # Codes are written in id order; the restore inserts parents before children.
    Table(
        "codes",
        Code,
        _of_project(Code),
        refs={"parent": "code", "merged_into": "code", "created_by": USER},
        kind="code",
    ),
    Table(
        "codings",
        Coding,
        _of_visible_posts(Coding, "post"),
        refs={"post": "post", "code": "code", "coder": USER},
        kind="coding",
    ),
    Table("memos", Memo, _of_visible_posts(Memo, "post"), refs={"post": "post", "author": USER}),
    Table(
        "assignments",
        Assignment,
        _of_visible_posts(Assignment, "post"),
        refs={"post": "post", "coder": USER, "assigned_by": USER, "sample": "sample"},
    ),
    Table(
        "post_marks",
        PostMark,
        _of_visible_posts(PostMark, "post"),
        refs={"post": "post", "marked_by": USER},
    ),
    Table(
        "near_duplicates",
        NearDuplicate,
        _of_visible_posts(NearDuplicate, "post", "similar_to"),
        refs={"post": "post", "similar_to": "post"},
    ),
    Table(
        "adjudications",
        Adjudication,
        _of_visible_posts(Adjudication, "post"),
        refs={"post": "post", "code": "code", "consensus_coding": "coding", "decided_by": USER},
        id_lists={"source_codings": "coding"},
    ),
    Table(
        "changes",
        Change,
        _of_project(Change),
        refs={
            "user": USER,
            "code": "code",
            "post_id": "post",
            "coding_id": "coding",
            "coder_id": USER,
        },
    ),
    Table("stop_words", StopWord, _of_project(StopWord)),
    Table("synonym_groups", SynonymGroup, _of_project(SynonymGroup)),
    Table(
        "code_reviews",
        CodeReview,
        _of_project(CodeReview, "code__project"),
        refs={"code": "code", "updated_by": USER},
    ),
    Table(
        "review_comments",
        ReviewComment,
        _of_project(ReviewComment, "code__project"),
        refs={"code": "code", "author": USER, "addressed_to": USER, "resolved_by": USER},
    ),
]

PROJECT_FIELDS = ("slug", "name", "description", "blind_coding", "coders_create_codes")
USER_FIELDS = ("username", "first_name", "last_name", "email")

# Ids inside a change's before/after, by the kind of change: key → kind of object.
_CODE_SNAPSHOT_IDS = {"id": "code", "parent": "code", "into": "code", "new_code": "code"}
_CODING_SNAPSHOT_IDS = {"id": "coding", "post": "post", "code": "code"}


def snapshot_remap(kind: str, data, translate: Callable[[str, object], object]):
    """A change's before/after with the ids it holds translated (``translate(kind, old)``
    gives the new id or None); a coding's coder is named by username and mapped by it."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    keys = _CODE_SNAPSHOT_IDS if kind.startswith("code.") else {}
    if kind.startswith("coding."):
        keys = _CODING_SNAPSHOT_IDS
        coder = out.get("coder")
        if isinstance(coder, dict):
            out["coder"] = {**coder, "id": translate(USER, coder.get("username"))}
    for key, target in keys.items():
        if isinstance(out.get(key), int):
            out[key] = translate(target, out[key])
    if kind == Change.Kind.CODE_SPLIT and isinstance(out.get("codings"), list):
        out["codings"] = [translate("coding", i) for i in out["codings"]]
    return out

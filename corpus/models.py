"""Posts and import batches (a batch is the job row of one import)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    DRAFT = "draft", "Awaiting column mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class JobRow(models.Model):
    """The fields of every background job a user sees (see coding_app/jobs.py)."""

    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class ImportBatch(JobRow):
    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="import_batches"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255)
    name = models.CharField(max_length=200, blank=True, help_text="A label for the batch.")
    format = models.CharField(max_length=10, default="auto")
    encoding = models.CharField(max_length=40, blank=True, help_text="Empty: detect.")
    strict = models.BooleanField(default=False, help_text="Import nothing if any row is rejected.")
    mapping = models.JSONField(default=dict, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    near_duplicate_count = models.PositiveIntegerField(default=0)
    row_errors = models.JSONField(
        default=list, blank=True, help_text='Rejected rows: [{"row": N, "message": "..."}]'
    )
    row_warnings = models.JSONField(default=list, blank=True)

    class Meta(JobRow.Meta):
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.name or self.file_name} ({self.status})"


class Post(models.Model):
    # No index of its own: the (project, id) index and the unique (project, …) ones all
    # lead with the project, and every index costs each imported row an insertion.
    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="posts", db_index=False
    )
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="posts"
    )
    external_id = models.CharField(max_length=255, blank=True)
    author = models.CharField(max_length=255, blank=True)
    author_headline = models.CharField(
        max_length=500, blank=True, help_text="The author's headline or sector."
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    text = models.TextField(help_text="NFC-normalised; codings index it by code point.")
    word_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # corpus.near_duplicates.lsh_record of the text, for posts of at least MIN_WORDS words:
    # computed at import (or by the next near-duplicate scan), so later scans need not
    # tokenise the project again. Empty for a text without words.
    lsh = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "content_hash"], name="post_unique_content_in_project"
            ),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="post_unique_external_id_in_project",
            ),
            models.UniqueConstraint(
                fields=["project", "url"], condition=~Q(url=""), name="post_unique_url_in_project"
            ),
        ]
        # A project's posts in id order: listing, exporting and analysis stream them so; a
        # cursor over them otherwise walks the primary key of every project's posts. (A
        # batch's posts are found by the batch's own index.) The batch rides along, so that
        # counting a project's visible posts, or numbering them for a chunked job, reads the
        # index alone: PostgreSQL otherwise scanned the whole table once it held several
        # large projects (1.4 million posts: 220 ms against 12 ms).
        indexes = [
            models.Index(
                fields=["project", "id"], name="post_project_visible_order", include=["batch"]
            )
        ]

    def __str__(self) -> str:
        return f"Post {self.external_id or self.pk}"

    @property
    def link(self) -> str:
        """The URL when it is a web address (http or https), else "": pages link only this."""
        return self.url if self.url.lower().startswith(("http://", "https://")) else ""


class PostMark(models.Model):
    """Theoretical selection: a researcher's judgement that a post is relevant or not."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="mark")
    relevant = models.BooleanField()
    note = models.TextField(blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.post_id}: {'relevant' if self.relevant else 'not relevant'}"


class Sample(models.Model):
    """A recorded selection: the criteria, the pool in order, the method and what it kept."""

    class Method(models.TextChoices):
        SYSTEMATIC = "systematic", "Systematic (every k-th)"
        RANDOM = "random", "Simple random"
        ALL = "all", "Whole pool"

    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="samples"
    )
    name = models.CharField(max_length=200)
    criteria = models.JSONField(default=dict, blank=True)
    method = models.CharField(max_length=12, choices=Method.choices)
    k = models.PositiveIntegerField(null=True, blank=True)
    start = models.PositiveIntegerField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    n = models.PositiveIntegerField(null=True, blank=True, help_text="Size asked for (random).")
    pool_ids = models.JSONField(default=list, help_text="The pool, in sampling order.")
    marks = models.JSONField(default=dict, blank=True, help_text="Marks in force when sampled.")
    post_ids = models.JSONField(default=list, help_text="The kept posts, in pool order.")
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="sample_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class NearDuplicate(models.Model):
    """A pair of posts whose texts are nearly the same (a repost with small edits)."""

    class Status(models.TextChoices):
        OPEN = "open", "To review"
        KEPT = "kept", "Both kept"
        EXCLUDED = "excluded", "Later post marked not relevant"

    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="near_duplicates"
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="near_duplicates")
    similar_to = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-similarity"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "similar_to"], name="near_duplicate_unique_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} ≈ {self.similar_to_id} ({self.similarity:.2f})"

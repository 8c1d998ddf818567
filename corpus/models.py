"""Posts and import batches (a batch is the job row of one import)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class ImportBatch(models.Model):
    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="import_batches"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=10, default="auto")
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    message = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    row_errors = models.JSONField(
        default=list, blank=True, help_text='Rejected rows: [{"row": N, "message": "..."}]'
    )
    row_warnings = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class Post(models.Model):
    project = models.ForeignKey("coding_app.Project", on_delete=models.CASCADE, related_name="posts")
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
        indexes = [models.Index(fields=["project", "batch"])]

    def __str__(self) -> str:
        return f"Post {self.external_id or self.pk}"

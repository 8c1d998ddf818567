"""Computed outputs: analysis jobs (word frequency, word tree, keyword in context) and results."""

from django.conf import settings
from django.db import models

from corpus.models import JobRow, JobStatus


class AnalysisJob(JobRow):
    class Kind(models.TextChoices):
        FREQUENCY = "frequency", "Word frequency"
        WORDTREE = "wordtree", "Word tree"
        KWIC = "kwic", "Keyword in context"
        AGREEMENT = "agreement", "Coder agreement"

    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="analysis_jobs"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    params = models.JSONField(default=dict)
    # The same query on an unchanged corpus reuses a finished job (see services.analysis_request).
    params_hash = models.CharField(max_length=64)
    corpus_version = models.CharField(max_length=64)
    result = models.JSONField(null=True, blank=True)

    class Meta(JobRow.Meta):
        indexes = [models.Index(fields=["project", "kind", "params_hash", "corpus_version"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"


class StopWord(models.Model):
    """A project's own stop words, added to (or removed from) the shipped English list."""

    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="stop_words"
    )
    word = models.CharField(max_length=100)
    excluded = models.BooleanField(
        default=False, help_text="Take this word out of the shipped list for this project."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "word"], name="stopword_unique_word"),
        ]

    def __str__(self) -> str:
        return self.word


class SynonymGroup(models.Model):
    """Words counted as one in a frequency query, e.g. micro-credential / microcredential."""

    project = models.ForeignKey(
        "coding_app.Project", on_delete=models.CASCADE, related_name="synonym_groups"
    )
    label = models.CharField(max_length=100)
    members = models.JSONField(default=list, help_text="Words or phrases counted as the label.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "label"], name="synonym_unique_label"),
        ]

    def __str__(self) -> str:
        return self.label


class TokenCounts(models.Model):
    """Raw word counts of one scope at one corpus version, so a query with other filters
    (top N, minimum length, stop words, grouping) only aggregates instead of re-reading posts."""

    project = models.ForeignKey("coding_app.Project", on_delete=models.CASCADE, related_name="+")
    scope_key = models.CharField(max_length=64)
    corpus_version = models.CharField(max_length=64)
    documents = models.PositiveIntegerField()
    tally = models.BinaryField()  # the counts, packed (analysis.tally)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "scope_key", "corpus_version"], name="tokencounts_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"counts {self.scope_key[:8]}@{self.corpus_version[:8]}"


class AnalysisChunk(models.Model):
    """A slice of a large frequency job's documents (ids first_id..last_id), counted by
    whichever worker claims it; the job merges the chunks' counts (see analysis/parallel.py)."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    documents = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A helper's counts, packed (analysis.tally), for the job to merge.
    tally = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["job_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="analysis_chunk_unique_index")
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}"


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEEDS_WORK = "needs_work", "Needs work"
    APPROVED = "approved", "Approved"


class CodeReview(models.Model):
    """A supervisor's review status of a theme, sub-theme or code (no row: draft)."""

    code = models.OneToOneField("coding_app.Code", on_delete=models.CASCADE, related_name="review")
    status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"


class ReviewComment(models.Model):
    """A supervisor's comment on a code for one coder, or for all coders (`addressed_to` null)."""

    code = models.ForeignKey(
        "coding_app.Code", on_delete=models.CASCADE, related_name="review_comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Deleting the addressee deletes the comment: it must never fall back to "all coders".
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_comments_received",
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["code", "created_at"])]

    def __str__(self) -> str:
        return f"Comment on {self.code} by {self.author}"

"""The coding domain: projects and their members, the codebook tree, codings and assignments."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower


class Role(models.TextChoices):
    CODER = "coder", "Coder"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


# Higher rank includes the rights of the lower ones.
ROLE_RANK = {Role.CODER: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class Project(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    blind_coding = models.BooleanField(
        default=False,
        help_text="Coders see only their own codings until a supervisor reveals them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CODER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1f77b4.")


class Code(models.Model):
    """A node of the codebook: roots are themes, inner nodes sub-themes, leaves codes."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=200)
    colour = models.CharField(max_length=7, default="#9ecae1", validators=[colour_validator])
    definition = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    # How the code came about, e.g. {"from": "word-frequency", "word": "skills", "job": 12, ...}
    origin = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            # Two constraints because NULL parents never compare equal in SQL.
            models.UniqueConstraint(
                Lower("name"), "project", "parent", name="code_unique_name_among_siblings"
            ),
            models.UniqueConstraint(
                Lower("name"),
                "project",
                condition=Q(parent__isnull=True),
                name="code_unique_name_among_roots",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Coding(models.Model):
    """A span of a post tagged with a code by one coder.

    `start`/`end` are Unicode code point offsets into the post's stored (NFC) text;
    `quote` is the covered text, snapshotted when the coding was made.
    """

    post = models.ForeignKey("corpus.Post", on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="codings")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="codings"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["post_id", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="coding_start_before_end"),
            models.UniqueConstraint(
                fields=["post", "code", "coder", "start", "end"], name="coding_unique_span"
            ),
        ]
        indexes = [models.Index(fields=["code", "post"]), models.Index(fields=["post", "coder"])]

    def __str__(self) -> str:
        return f"{self.code} [{self.start}:{self.end}] by {self.coder}"


class Assignment(models.Model):
    """A post handed to a coder."""

    post = models.ForeignKey("corpus.Post", on_delete=models.CASCADE, related_name="assignments")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sample = models.ForeignKey(
        "corpus.Sample",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order in the coder's queue.")
    done_at = models.DateTimeField(
        null=True, blank=True, help_text="When the coder marked it coded."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["coder_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "coder"], name="assignment_unique_post_coder"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.coder}"


class Adjudication(models.Model):
    """A supervisor's decision on a coding for the consensus layer, with its history.

    The consensus layer is a set of codings by the project's consensus coder (a user made
    for the project, see services.consensus_coder); each decision here records what was
    accepted or rejected, from which coders' codings, by whom and when.
    """

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accepted into the consensus"
        REJECT = "reject", "Left out of the consensus"
        EDIT = "edit", "Accepted with an edited span"
        UNDO = "undo", "Removed from the consensus"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="adjudications")
    post = models.ForeignKey("corpus.Post", on_delete=models.CASCADE, related_name="adjudications")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="adjudications")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    source_codings = models.JSONField(
        default=list, help_text="Ids of the coders' codings decided on."
    )
    consensus_coding = models.ForeignKey(
        Coding, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} {self.code} [{self.start}:{self.end}]"

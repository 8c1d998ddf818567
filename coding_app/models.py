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
    coders_create_codes = models.BooleanField(
        default=True,
        help_text="Coders may add codes to the codebook (otherwise only supervisors and admins).",
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


class LiveManager(models.Manager):
    """Rows not soft-deleted (a deleted code and its codings wait for an undo)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Code(models.Model):
    """A node of the codebook: roots are themes, inner nodes sub-themes, leaves codes.

    `version` counts edits, so a stale edit is refused (409) instead of overwriting.
    Deleting is soft: `deleted_at` marks the code, its descendants and their codings
    with one timestamp, which an undo restores together.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=200)
    colour = models.CharField(max_length=7, default="#9ecae1", validators=[colour_validator])
    definition = models.TextField(blank=True)
    inclusion = models.TextField(blank=True, help_text="When to apply this code.")
    exclusion = models.TextField(blank=True, help_text="When not to apply it.")
    example = models.TextField(blank=True, help_text="A typical quote.")
    memo = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How the code came about, e.g. {"from": "word-frequency", "word": "skills", "job": 12, ...}
    origin = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    all_objects = models.Manager()
    objects = LiveManager()

    class Meta:
        ordering = ["position", "name"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        constraints = [
            # Two constraints because NULL parents never compare equal in SQL; deleted
            # codes free their name.
            models.UniqueConstraint(
                Lower("name"),
                "project",
                "parent",
                condition=Q(deleted_at__isnull=True),
                name="code_unique_live_name_among_siblings",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "project",
                condition=Q(parent__isnull=True, deleted_at__isnull=True),
                name="code_unique_live_name_among_roots",
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
    memo = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Set with its code's.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    all_objects = models.Manager()
    objects = LiveManager()

    class Meta:
        base_manager_name = "all_objects"
        default_manager_name = "objects"
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


class Memo(models.Model):
    """A member's memo on a post (one per member and post; memos on codings live on them)."""

    post = models.ForeignKey("corpus.Post", on_delete=models.CASCADE, related_name="memos")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memos"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["post_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["post", "author"], name="memo_unique_post_author"),
        ]

    def __str__(self) -> str:
        return f"Memo by {self.author} on post {self.post_id}"


class Change(models.Model):
    """The project's change log: the codebook's history and the feed of live updates.

    Its ids are a project-wide sequence: a page asks for changes after the last id it saw.
    A coding change names its coder, so blind mode can hide it from other coders.
    """

    class Kind(models.TextChoices):
        CODE_CREATE = "code.create", "Code created"
        CODE_UPDATE = "code.update", "Code edited"
        CODE_MOVE = "code.move", "Code moved"
        CODE_MERGE = "code.merge", "Codes merged"
        CODE_SPLIT = "code.split", "Code split"
        CODE_DELETE = "code.delete", "Code deleted"
        CODE_RESTORE = "code.restore", "Code restored"
        CODE_IMPORT = "code.import", "Codebook imported"
        CODING_ADD = "coding.add", "Coding added"
        CODING_REMOVE = "coding.remove", "Coding removed"
        CODING_MEMO = "coding.memo", "Coding memo edited"
        PROJECT_SETTINGS = "project.settings", "Project settings changed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    code = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    post_id = models.BigIntegerField(null=True, blank=True)
    coding_id = models.BigIntegerField(null=True, blank=True)
    coder_id = models.BigIntegerField(
        null=True, blank=True, help_text="The coding's coder, for blind mode."
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "id"], name="change_project_seq")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

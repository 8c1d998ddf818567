"""Serializers of projects, posts, codes, codings and import batches."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from coding_app.models import Code, Coding, Project
from corpus.models import ImportBatch, Post


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name"]


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "blind_coding",
            "coders_create_codes",
            "created_at",
            "role",
        ]
        read_only_fields = ["id", "slug", "created_at", "role"]

    def get_role(self, project) -> str | None:
        roles = self.context.get("roles") or {}
        return roles.get(project.pk)


class ProjectCreateSerializer(ProjectSerializer):
    """A new project: its name, and optionally its address (slug), description and blind
    mode. The address is made from the name when none is given."""

    slug = serializers.CharField(required=False, allow_blank=True, max_length=80)

    class Meta(ProjectSerializer.Meta):
        read_only_fields = ["id", "created_at", "role", "coders_create_codes"]
        extra_kwargs = {"description": {"required": False}, "blind_coding": {"required": False}}

    def get_role(self, project) -> str | None:
        return "admin"


class PostSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    # As imported: a link, or empty (not always a valid URI, so not declared as one).
    url = serializers.CharField(read_only=True)

    class Meta:
        model = Post
        fields = [
            "id",
            "project",
            "batch",
            "external_id",
            "author",
            "author_headline",
            "posted_at",
            "url",
            "text",
            "word_count",
            "content_hash",
            "metadata",
            "created_at",
        ]
        read_only_fields = fields


class CodeSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", queryset=Project.objects.all())
    version = serializers.IntegerField(
        required=False,
        help_text="The version you edited: a change made meanwhile gets 409 and the fresh code.",
    )

    class Meta:
        model = Code
        fields = [
            "id",
            "project",
            "parent",
            "name",
            "colour",
            "definition",
            "inclusion",
            "exclusion",
            "example",
            "memo",
            "position",
            "version",
            "origin",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "origin", "created_at", "updated_at"]
        # Sibling uniqueness is checked by the service with a clear message.
        validators = []

    def validate(self, attrs):
        project = attrs.get("project") or getattr(self.instance, "project", None)
        parent = attrs.get("parent")
        if parent is not None and project is not None and parent.project_id != project.pk:
            raise serializers.ValidationError(
                {"parent": "The parent code belongs to another project."}
            )
        return attrs


class CodingSerializer(serializers.ModelSerializer):
    coder = UserSerializer(read_only=True)
    code_name = serializers.CharField(source="code.name", read_only=True)
    code_colour = serializers.CharField(source="code.colour", read_only=True)
    start = serializers.IntegerField(
        min_value=0, help_text="Unicode code point offset into the post text (inclusive)."
    )
    end = serializers.IntegerField(
        min_value=1, help_text="Unicode code point offset into the post text (exclusive)."
    )

    class Meta:
        model = Coding
        fields = [
            "id",
            "post",
            "code",
            "code_name",
            "code_colour",
            "coder",
            "start",
            "end",
            "quote",
            "memo",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "quote", "coder", "created_at", "updated_at"]
        extra_kwargs = {"memo": {"required": False}}
        validators = []  # the service makes a repeated apply idempotent instead of a 400


class ImportBatchSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "project",
            "file_name",
            "format",
            "mapping",
            "status",
            "progress",
            "message",
            "total_rows",
            "imported_count",
            "duplicate_count",
            "rejected_count",
            "row_errors",
            "row_warnings",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "attempts",
        ]
        read_only_fields = fields


class ImportBatchCreateSerializer(serializers.Serializer):
    project = serializers.SlugField()
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=["auto", "csv", "json", "jsonl"], default="auto")
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Column mapping, e.g. text=content,author=name (others are detected).",
    )


class CodeMoveSerializer(serializers.Serializer):
    parent = serializers.IntegerField(allow_null=True, help_text="New parent code (null: a theme).")
    position = serializers.IntegerField(required=False, min_value=0)
    version = serializers.IntegerField(required=False)


class CodeMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(help_text="The code that receives the codings.")


class CodeSplitSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    codings = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    colour = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


# What a codebook change records of the codings it touched: counts and ids of everyone's
# codings, which a coder in blind mode must not learn.
CODING_TALLIES = ("codings", "coders", "moved", "duplicates_kept_once")


class ChangeSerializer(serializers.Serializer):
    """A change; with context `blind=True`, without the coding tallies of codebook changes."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField(source="get_kind_display")
    at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username", default=None, allow_null=True)
    code = serializers.IntegerField(source="code_id", allow_null=True)
    post = serializers.IntegerField(source="post_id", allow_null=True)
    coding = serializers.IntegerField(source="coding_id", allow_null=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("blind") and str(data["kind"]).startswith("code."):
            for side in ("before", "after"):
                if isinstance(data[side], dict):
                    data[side] = {k: v for k, v in data[side].items() if k not in CODING_TALLIES}
        return data


class MemoSerializer(serializers.Serializer):
    author = serializers.CharField(source="author.username", read_only=True)
    text = serializers.CharField(allow_blank=True, max_length=20_000)
    updated_at = serializers.DateTimeField(read_only=True)


class CodingCreateSerializer(serializers.Serializer):
    """What applying a coding takes (plain fields: the view looks the post and code up)."""

    post = serializers.IntegerField(min_value=1)
    code = serializers.IntegerField(min_value=1)
    start = serializers.IntegerField(
        min_value=0, help_text="Unicode code point offset into the post text (inclusive)."
    )
    end = serializers.IntegerField(
        min_value=1, help_text="Unicode code point offset into the post text (exclusive)."
    )
    memo = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


def coding_data(coding, coder) -> dict:
    """A coding as CodingSerializer shows it, built directly (the hot path of coding)."""
    return {
        "id": coding.pk,
        "post": coding.post_id,
        "code": coding.code_id,
        "code_name": coding.code.name,
        "code_colour": coding.code.colour,
        "coder": {
            "id": coder.pk,
            "username": coder.username,
            "first_name": coder.first_name,
            "last_name": coder.last_name,
        },
        "start": coding.start,
        "end": coding.end,
        "quote": coding.quote,
        "memo": coding.memo,
        "created_at": serializers.DateTimeField().to_representation(coding.created_at),
        "updated_at": serializers.DateTimeField().to_representation(coding.updated_at),
    }

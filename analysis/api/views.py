"""Analysis API: request a query (a background job), poll it, and act on its results."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coding_app.access import codable_post_ids, project_access
from coding_app.models import Code, Project, Role

from .. import services
from ..models import AnalysisJob


class AnalysisJobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AnalysisJob
        fields = [
            "id",
            "project",
            "kind",
            "params",
            "status",
            "progress",
            "message",
            "result",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class AnalysisRequestSerializer(serializers.Serializer):
    project = serializers.SlugField()
    kind = serializers.ChoiceField(choices=AnalysisJob.Kind.choices)
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="scope (project|batch|sample|code|coder), scope_id, grouping (exact|stem|synonyms); "
        "frequency: top, min_length, stopwords; wordtree: root, depth, width",
    )


def _job_for(request, pk) -> tuple[AnalysisJob, object]:
    job = get_object_or_404(AnalysisJob.objects.select_related("project"), pk=pk)
    membership = project_access(request.user, job.project)
    from django.http import Http404

    from coding_app.access import sees_all_codings

    if job.params.get("visible_to") not in (None, request.user.pk):
        # A blind coder's own result is theirs alone.
        raise Http404
    coding_scope = job.params.get("scope") in ("code", "coder") or job.kind == "agreement"
    if coding_scope and job.params.get("visible_to") is None and not sees_all_codings(membership):
        # Built from everyone's codings: not for a coder in a blind project.
        raise Http404
    return job, membership


class AnalysisListView(APIView):
    @extend_schema(
        request=AnalysisRequestSerializer,
        responses={201: AnalysisJobSerializer, 200: AnalysisJobSerializer},
    )
    def post(self, request):
        """Run a word frequency query or a word tree; an identical query on an unchanged corpus
        returns the existing job (200) instead of a new one (201)."""
        serializer = AnalysisRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = get_object_or_404(Project, slug=data["project"])
        membership = project_access(request.user, project)
        job, created = services.analysis_request(
            membership=membership, kind=data["kind"], params=data["params"], user=request.user
        )
        return Response(
            AnalysisJobSerializer(job).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AnalysisDetailView(APIView):
    @extend_schema(responses=AnalysisJobSerializer)
    def get(self, request, pk):
        job, membership = _job_for(request, pk)
        data = AnalysisJobSerializer(job).data
        data["current"] = job.status != "succeeded" or services.analysis_is_current(
            job=job, membership=membership
        )
        return Response(data)


class ThemeFromWordSerializer(serializers.Serializer):
    word = serializers.CharField(max_length=200)


class ThemeFromWordView(APIView):
    @extend_schema(
        request=ThemeFromWordSerializer,
        responses=inline_serializer(
            "ThemeCreated", {"id": serializers.IntegerField(), "name": serializers.CharField()}
        ),
    )
    def post(self, request, pk):
        """“Make this a theme”: a root code named after the word, with the query attached."""
        job, membership = _job_for(request, pk)
        project_access(request.user, job.project, min_role=Role.SUPERVISOR)
        serializer = ThemeFromWordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = services.theme_from_word(
            job=job, word=serializer.validated_data["word"], user=request.user
        )
        return Response({"id": code.pk, "name": code.name}, status=status.HTTP_201_CREATED)


class StopWordAddSerializer(serializers.Serializer):
    project = serializers.SlugField()
    word = serializers.CharField(max_length=100)


class StopWordView(APIView):
    @extend_schema(
        request=StopWordAddSerializer,
        responses=inline_serializer("StopWordAdded", {"word": serializers.CharField()}),
    )
    def post(self, request):
        """Add a word to the project's stop words (supervisors and admins)."""
        serializer = StopWordAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = get_object_or_404(Project, slug=data["project"])
        project_access(request.user, project, min_role=Role.SUPERVISOR)
        stop = services.stopword_add(project=project, word=data["word"])
        return Response({"word": stop.word}, status=status.HTTP_201_CREATED)


class CodeFromTreeSerializer(serializers.Serializer):
    code = serializers.IntegerField()
    phrase = serializers.CharField(
        help_text="The branch as one phrase: the root with the words after it (right tree) "
        "or the words before it and the root (left tree)"
    )


class CodeFromTreeView(APIView):
    @extend_schema(
        request=CodeFromTreeSerializer,
        responses=inline_serializer(
            "CodedFromTree", {"created": serializers.ListField(child=serializers.IntegerField())}
        ),
    )
    def post(self, request, pk):
        """Code every sentence behind a branch of this word tree to a code, as you; the response
        lists the new codings (delete them to undo)."""
        job, membership = _job_for(request, pk)
        serializer = CodeFromTreeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        code = Code.objects.filter(project=job.project, pk=data["code"]).first()
        if code is None:
            raise serializers.ValidationError({"code": ["No such code in this project."]})
        try:
            try:
                spans = services.tree_branch_sentences(job=job, phrase=data["phrase"])
            except ValueError as exc:  # the text module's word tree: a phrase without a word
                raise ValidationError({"phrase": "Give a phrase of at least one word."}) from exc
            codable = codable_post_ids(membership)
            if codable is not None:  # a coder with a queue codes only the posts in it
                spans = [span for span in spans if span[0] in codable]
            created = services.codings_from_tree(
                membership=membership, post_sentence_spans=spans, code=code, user=request.user
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(
            {"created": created, "sentences": len(spans)}, status=status.HTTP_201_CREATED
        )

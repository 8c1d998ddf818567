"""REST API views: interfaces only (parse, check access, call a service, serialize)."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from coding_app import services
from coding_app.access import project_access
from coding_app.models import Code, Coding, Membership, Project, Role
from coding_app.selectors import code_tree, coding_counts_by_code
from corpus import services as corpus_services
from corpus.importers import ImportFileError
from corpus.models import ImportBatch, Post
from corpus.selectors import post_visible_q

from .permissions import ProjectRole, codings_visible_q, member_project_ids
from .serializers import (
    CodeSerializer,
    CodingSerializer,
    ImportBatchCreateSerializer,
    ImportBatchSerializer,
    PostSerializer,
    ProjectSerializer,
)

PROJECT_PARAM = OpenApiParameter("project", str, description="Project slug")


def _project_filter(request, queryset, field="project__slug"):
    slug = request.query_params.get("project")
    return queryset.filter(**{field: slug}) if slug else queryset


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Projects you are a member of. Admins may change the name, description and blind mode."""

    serializer_class = ProjectSerializer
    permission_classes = [ProjectRole]
    lookup_field = "slug"
    read_role, write_role = Role.CODER, Role.ADMIN

    def get_queryset(self):
        return Project.objects.filter(memberships__user=self.request.user).order_by("name")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.user.is_authenticated:
            context["roles"] = dict(
                Membership.objects.filter(user=self.request.user).values_list("project_id", "role")
            )
        return context

    def project_of(self, obj):
        return obj


class PostViewSet(viewsets.ReadOnlyModelViewSet):
    """Posts of your projects. Filter with ?project=slug&batch=ID&search=words."""

    serializer_class = PostSerializer
    permission_classes = [ProjectRole]
    filterset_fields = ["batch"]

    def get_queryset(self):
        posts = (
            Post.objects.filter(project_id__in=member_project_ids(self.request.user))
            .filter(post_visible_q())
            .select_related("project")
        )
        posts = _project_filter(self.request, posts)
        for term in self.request.query_params.get("search", "").split():
            posts = posts.filter(Q(text__icontains=term) | Q(author__icontains=term))
        return posts.order_by("id")

    def project_of(self, obj):
        return obj.project

    @extend_schema(parameters=[PROJECT_PARAM, OpenApiParameter("search", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class CodeViewSet(viewsets.ModelViewSet):
    """The codebook. Any member may add a code; supervisors and admins change or delete."""

    serializer_class = CodeSerializer
    permission_classes = [ProjectRole]
    filterset_fields = ["parent"]
    read_role, write_role = Role.CODER, Role.SUPERVISOR

    def get_queryset(self):
        codes = Code.objects.filter(
            project_id__in=member_project_ids(self.request.user)
        ).select_related("project")
        return _project_filter(self.request, codes).order_by(
            "project_id", "parent_id", "position", "name"
        )

    def project_of(self, obj):
        return obj.project

    def perform_create(self, serializer):
        data = serializer.validated_data
        project_access(self.request.user, data["project"], min_role=Role.CODER)
        serializer.instance = services.code_create(
            project=data["project"],
            parent=data.get("parent"),
            name=data["name"],
            colour=data.get("colour", "#9ecae1"),
            definition=data.get("definition", ""),
            user=self.request.user,
        )

    @extend_schema(parameters=[PROJECT_PARAM])
    @action(detail=False, methods=["get"])
    def tree(self, request):
        """The codebook as a tree (themes → sub-themes → codes) with visible coding counts."""
        project = get_object_or_404(Project, slug=request.query_params.get("project", ""))
        membership = project_access(request.user, project)
        return Response(
            code_tree(project=project, counts=coding_counts_by_code(membership=membership))
        )


class CodingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Codings: a span [start, end) of a post, in Unicode code points, tagged with a code.

    In a blind project a coder sees only their own codings here, as everywhere.
    """

    serializer_class = CodingSerializer
    permission_classes = [ProjectRole]
    filterset_fields = ["post", "code", "coder"]
    read_role = write_role = Role.CODER

    def get_queryset(self):
        codings = (
            Coding.objects.filter(codings_visible_q(self.request.user))
            .filter(post__in=Post.objects.filter(post_visible_q()))
            .select_related("code", "coder", "post__project")
        )
        return _project_filter(self.request, codings, "post__project__slug")

    def project_of(self, obj):
        return obj.post.project

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if self.request and self.request.user.is_authenticated and "data" in kwargs:
            ids = member_project_ids(self.request.user)
            serializer.fields["post"].queryset = Post.objects.filter(project_id__in=ids).filter(
                post_visible_q()
            )
            serializer.fields["code"].queryset = Code.objects.filter(project_id__in=ids)
        return serializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project_access(request.user, data["post"].project, min_role=Role.CODER)
        coding, created = services.coding_apply(
            post=data["post"],
            code=data["code"],
            coder=request.user,
            start=data["start"],
            end=data["end"],
        )
        return Response(
            CodingSerializer(coding, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance):
        services.coding_remove(coding=instance, user=self.request.user)


class ImportBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Import jobs: status, progress and counts. Admins upload files and cancel jobs."""

    permission_classes = [ProjectRole]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    read_role, write_role = Role.CODER, Role.ADMIN

    def get_serializer_class(self):
        return ImportBatchCreateSerializer if self.action == "create" else ImportBatchSerializer

    def get_queryset(self):
        batches = ImportBatch.objects.filter(
            project_id__in=member_project_ids(self.request.user)
        ).select_related("project", "created_by")
        return _project_filter(self.request, batches)

    def project_of(self, obj):
        return obj.project

    @extend_schema(request=ImportBatchCreateSerializer, responses={202: ImportBatchSerializer})
    def create(self, request):
        """Upload a CSV, JSON or JSONL file of posts; the import runs as a background job."""
        serializer = ImportBatchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = get_object_or_404(Project, slug=data["project"])
        project_access(request.user, project, min_role=Role.ADMIN)
        try:
            mapping = corpus_services.mapping_parse(data.get("mapping", ""))
            batch = corpus_services.import_batch_create(
                project=project,
                user=request.user,
                file_name=data["file"].name,
                fileobj=data["file"],
                fmt=data["format"],
                mapping=mapping,
            )
        except (ImportFileError, corpus_services.UploadTooLarge) as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=ImportBatchSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        batch = self.get_object()
        batch = corpus_services.import_batch_cancel(batch=batch)
        return Response(ImportBatchSerializer(batch).data)

"""REST API views: interfaces only (parse, check access, call a service, serialize)."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from coding_app import selectors, services
from coding_app.access import (
    AccessDenied,
    may_code,
    may_create_codes,
    may_create_projects,
    project_access,
    project_access_by_slug,
    sees_all_codings,
)
from coding_app.auth_views import login_wait_seconds, throttled_message
from coding_app.models import Change, Code, Coding, Membership, Project, Role
from coding_app.selectors import code_tree, coding_counts_by_code
from corpus import services as corpus_services
from corpus.importers import ImportFileError, check_content
from corpus.models import ImportBatch, Post
from corpus.selectors import post_visible_q

from .parsers import BoundedJSONParser
from .permissions import ProjectMember, ProjectRole, codings_visible_q, member_project_ids
from .serializers import (
    ChangeSerializer,
    CodeMergeSerializer,
    CodeMoveSerializer,
    CodeSerializer,
    CodeSplitSerializer,
    CodingCreateSerializer,
    CodingSerializer,
    ImportBatchCreateSerializer,
    ImportBatchSerializer,
    MemoSerializer,
    PostSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    coding_data,
)

PROJECT_PARAM = OpenApiParameter("project", str, description="Project slug")


def _project_filter(request, queryset, field="project__slug"):
    slug = request.query_params.get("project")
    return queryset.filter(**{field: slug}) if slug else queryset


class ProjectViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Projects you are a member of.

    Any signed-in user starts a project (staff only when GROUNDED_PROJECT_CREATORS is
    "staff") and becomes its admin. Admins change the name and description; supervisors and
    admins switch blind mode and whether coders may add codes.
    """

    serializer_class = ProjectSerializer
    permission_classes = [ProjectRole]
    lookup_field = "slug"
    read_role, write_role = Role.CODER, Role.SUPERVISOR

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is built without a user
            return Project.objects.none()
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

    def get_serializer_class(self):
        return ProjectCreateSerializer if self.action == "create" else ProjectSerializer

    def perform_create(self, serializer):
        if not may_create_projects(self.request.user):
            raise AccessDenied("Starting a project needs a staff account on this server.")
        data = serializer.validated_data
        serializer.instance = services.project_create(
            admin=self.request.user,
            name=data["name"],
            slug=data.get("slug") or None,
            description=data.get("description", ""),
            blind_coding=data.get("blind_coding", False),
        )

    def perform_update(self, serializer):
        membership = project_access(self.request.user, serializer.instance)
        serializer.instance = services.project_settings_update(
            membership=membership, **serializer.validated_data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("since", int, description="The last change id you saw"),
            OpenApiParameter(
                "post", int, description="Only this post's coding changes (codebook changes all)"
            ),
        ],
        responses=inline_serializer(
            "ChangeFeed",
            {
                "latest": serializers.IntegerField(),
                "more": serializers.BooleanField(),
                "changes": ChangeSerializer(many=True),
            },
        ),
    )
    @action(detail=True, methods=["get"], permission_classes=[ProjectRole], pagination_class=None)
    def changes(self, request, slug=None):
        """Changes after `since` (codings you may see, codebook and settings changes).

        Pages poll this every few seconds to show other coders' work without a reload.
        """
        project = self.get_object()
        membership = project_access(request.user, project)
        try:
            since = max(int(request.query_params.get("since", 0)), 0)
        except ValueError:
            raise ValidationError({"since": ["A change id (a whole number)."]}) from None
        post = request.query_params.get("post", "")
        changes = selectors.change_list(
            membership=membership, since=since, post_id=int(post) if post.isdigit() else None
        )
        more = len(changes) == selectors.CHANGE_PAGE
        latest = changes[-1].pk if changes else since
        if not more:  # past changes this member does not get (other posts, blind mode)
            latest = max(latest, selectors.change_latest_id(project=project))
        return Response(
            {
                "latest": latest,
                "more": more,
                "changes": ChangeSerializer(
                    changes, many=True, context={"blind": not sees_all_codings(membership)}
                ).data,
            }
        )

    @extend_schema(
        parameters=[OpenApiParameter("code", int)], responses=ChangeSerializer(many=True)
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, slug=None):
        """The codebook's history, newest first: who changed what, before and after."""
        project = self.get_object()
        membership = project_access(request.user, project)
        code_id = request.query_params.get("code")
        changes = selectors.code_history(
            project=project, code_id=int(code_id) if code_id and code_id.isdigit() else None
        )
        blind = not sees_all_codings(membership)
        return Response(ChangeSerializer(changes, many=True, context={"blind": blind}).data)


class ChangeRevertView(APIView):
    """Restore a code's name, text or place as it was before a recorded change (supervisors)."""

    @extend_schema(request=None, responses=CodeSerializer)
    def post(self, request, pk):
        change = get_object_or_404(
            Change.objects.filter(project_id__in=member_project_ids(request.user)), pk=pk
        )
        project_access(request.user, change.project, min_role=Role.SUPERVISOR)
        code = services.code_change_revert(change=change, user=request.user)
        return Response(CodeSerializer(code).data)


def _version_of(request) -> int | None:
    """The version a client edited: the `version` field or an If-Match header."""
    value = request.data.get("version") if hasattr(request.data, "get") else None
    if value in (None, ""):
        value = request.headers.get("If-Match", "").strip().strip('W/"').strip('"') or None
    if value is None:
        return None
    try:
        return int(str(value).lstrip("v"))
    except ValueError:
        raise ValidationError({"version": ["The version is a whole number."]}) from None


def _with_etag(response: Response, code: Code) -> Response:
    response["ETag"] = f'"{code.version}"'
    return response


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

    @extend_schema(request=MemoSerializer, responses=MemoSerializer(many=True))
    @action(detail=True, methods=["get", "put"], pagination_class=None)
    def memos(self, request, pk=None):
        """Memos on this post (a coder in a blind project sees their own); PUT writes yours."""
        post = self.get_object()
        membership = project_access(request.user, post.project)
        if request.method == "PUT":
            serializer = MemoSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.memo_set(post=post, user=request.user, text=serializer.validated_data["text"])
        memos = selectors.memo_list(membership=membership, post=post)
        return Response(MemoSerializer(memos, many=True).data)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark this post coded in your queue (`{"done": false}` takes it back)."""
        post = self.get_object()
        project_access(request.user, post.project)
        asked = request.data.get("done", True) if hasattr(request.data, "get") else True
        done = asked not in (False, "false", "0", 0)
        assignment = services.assignment_done_set(post=post, user=request.user, done=done)
        return Response({"post": post.pk, "done_at": assignment.done_at})

    def get_permissions(self):
        # Writing your own memo or marking your own queue needs only membership.
        if self.action in ("memos", "done"):
            return [ProjectMember()]
        return super().get_permissions()


class CodeViewSet(viewsets.ModelViewSet):
    """The codebook: themes → sub-themes → codes.

    Any member may add a code when the project lets coders add codes; supervisors and admins
    edit, move, merge, split and delete. An edit must name the version it started from
    (`version` or `If-Match`): if someone changed the code meanwhile the answer is 409 with
    the fresh code. Deleting is soft and `restore` undoes it.
    """

    serializer_class = CodeSerializer
    permission_classes = [ProjectRole]
    filterset_fields = ["parent"]
    read_role, write_role = Role.CODER, Role.SUPERVISOR

    def get_queryset(self):
        manager = Code.all_objects if self.action == "restore" else Code.objects
        codes = manager.filter(project_id__in=member_project_ids(self.request.user)).select_related(
            "project"
        )
        return _project_filter(self.request, codes).order_by(
            "project_id", "parent_id", "position", "name"
        )

    def project_of(self, obj):
        return obj.project

    def create(self, request, *args, **kwargs):
        # A project you are not in answers 404, as one that does not exist does; the field
        # check would otherwise say "no such project" only for the second.
        slug = request.data.get("project") if hasattr(request.data, "get") else None
        if slug not in (None, ""):
            project_access_by_slug(request.user, str(slug))
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        membership = project_access(self.request.user, data["project"], min_role=Role.CODER)
        if not may_create_codes(membership):
            raise AccessDenied(
                "In this project only supervisors add codes: ask one to add it, or to let "
                "coders add codes."
            )
        fields = {
            k: data[k]
            for k in ("colour", "definition", "inclusion", "exclusion", "example", "memo")
            if k in data
        }
        serializer.instance = services.code_create(
            project=data["project"],
            parent=data.get("parent"),
            name=data["name"],
            user=self.request.user,
            **fields,
        )

    def retrieve(self, request, *args, **kwargs):
        code = self.get_object()
        return _with_etag(Response(self.get_serializer(code).data), code)

    def update(self, request, *args, **kwargs):
        code = self.get_object()
        serializer = self.get_serializer(code, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = _version_of(request)
        if version is None:
            return Response(
                {
                    "detail": "Say which version of the code you edited (the “version” field "
                    "or an If-Match header), so nobody's change is overwritten.",
                    "errors": {"version": ["This field is required."]},
                },
                status=status.HTTP_428_PRECONDITION_REQUIRED,
            )
        if "project" in data and data["project"].pk != code.project_id:
            raise ValidationError({"project": ["A code cannot move to another project."]})
        fields = {
            k: data[k]
            for k in ("name", "colour", "definition", "inclusion", "exclusion", "example", "memo")
            if k in data
        }
        if "parent" in data or "position" in data:
            code = services.code_move(
                code=code,
                user=request.user,
                version=version,
                parent=data.get("parent", code.parent),
                position=data.get("position"),
            )
            version = code.version
        if fields:
            code = services.code_update(code=code, user=request.user, version=version, **fields)
        return _with_etag(Response(self.get_serializer(code).data), code)

    @extend_schema(responses={200: dict})
    def destroy(self, request, *args, **kwargs):
        """Delete a code, the codes under it and their codings (undo with `restore`)."""
        code = self.get_object()
        impact = services.code_delete(code=code, user=request.user)
        return Response({"deleted": code.pk, "name": code.name, **impact})

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def impact(self, request, pk=None):
        """How many codes and codings a delete or merge of this code touches (in blind mode,
        a coder counts only their own codings)."""
        code = self.get_object()
        impact = services.code_impact(code=code)
        membership = project_access(request.user, code.project)
        if not sees_all_codings(membership):
            own = selectors.coding_list(membership=membership).filter(
                code_id__in=selectors.code_descendant_ids(code=code)
            )
            impact["codings"] = own.count()
            impact["coders"] = 1 if impact["codings"] else 0
        return Response(impact)

    @extend_schema(request=CodeMoveSerializer, responses=CodeSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move under another parent (null: make it a theme) at a position among siblings."""
        code = self.get_object()
        serializer = CodeMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parent = None
        if data["parent"] is not None:
            parent = get_object_or_404(Code, project_id=code.project_id, pk=data["parent"])
        code = services.code_move(
            code=code,
            user=request.user,
            version=data.get("version", _version_of(request)),
            parent=parent,
            position=data.get("position"),
        )
        return _with_etag(Response(self.get_serializer(code).data), code)

    @extend_schema(request=CodeMergeSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this code into another: its codings move there, a span coded twice by the
        same coder is kept once, and this code is retired."""
        code = self.get_object()
        serializer = CodeMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = get_object_or_404(
            Code, project_id=code.project_id, pk=serializer.validated_data["into"]
        )
        return Response(services.code_merge(source=code, target=target, user=request.user))

    @extend_schema(request=CodeSplitSerializer, responses=CodeSerializer)
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        """Move the chosen codings of this code to a new code beside it."""
        code = self.get_object()
        serializer = CodeSplitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        new = services.code_split(
            code=code,
            user=request.user,
            name=data["name"],
            coding_ids=data["codings"],
            colour=data.get("colour"),
        )
        return Response(self.get_serializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CodeSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Undo a deletion: the code, the codes deleted with it and their codings return."""
        code = services.code_restore(code=self.get_object(), user=request.user)
        return Response(self.get_serializer(code).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("coder", int),
            OpenApiParameter("batch", int),
            OpenApiParameter("sample", int),
        ],
        responses=CodingSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def quotes(self, request, pk=None):
        """Every quote of this code and of the codes under it (blind-aware), filterable."""
        code = self.get_object()
        membership = project_access(request.user, code.project)
        quotes = selectors.quote_list(
            membership=membership,
            code=code,
            **selectors.quote_filters(request.query_params, code.project),
        )
        page = self.paginate_queryset(quotes)
        return self.get_paginated_response(
            CodingSerializer(page, many=True, context=self.get_serializer_context()).data
        )

    @extend_schema(
        parameters=[PROJECT_PARAM],
        responses=inline_serializer(
            "CodeTreeNode",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "colour": serializers.CharField(),
                "parent": serializers.IntegerField(allow_null=True),
                "count": serializers.IntegerField(),
                "children": serializers.ListField(child=serializers.DictField()),
            },
            many=True,
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
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
    mixins.UpdateModelMixin,
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
        if getattr(self, "swagger_fake_view", False):  # the schema is built without a user
            return Coding.objects.none()
        codings = (
            Coding.objects.filter(codings_visible_q(self.request.user))
            .filter(post_visible_q("post__"))
            .select_related("code", "coder", "post__project")
        )
        return _project_filter(self.request, codings, "post__project__slug")

    def project_of(self, obj):
        return obj.post.project

    @extend_schema(request=CodingCreateSerializer, responses={201: CodingSerializer})
    def create(self, request, *args, **kwargs):
        """Apply a code to a span; the same request again returns 200 with the same coding."""
        serializer = CodingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target = selectors.coding_target_get(
            user=request.user, post_id=data["post"], code_id=data["code"]
        )
        post, code = target.post, target.code
        errors = {}
        if post is None:
            errors["post"] = [f"No post {data['post']} in your projects."]
        if code is None:
            errors["code"] = [f"No code {data['code']} in your projects."]
        if errors:
            raise ValidationError(errors)
        if not may_code(target.role, in_queue=target.in_queue, has_queue=target.has_queue):
            raise AccessDenied(
                "This post is not in your queue: coders code the posts assigned to them."
            )
        coding, created = services.coding_apply(
            post=post,
            code=code,
            coder=request.user,
            start=data["start"],
            end=data["end"],
            memo=data.get("memo", ""),
        )
        return Response(
            coding_data(coding, request.user),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=MemoSerializer, responses=CodingSerializer)
    def update(self, request, *args, **kwargs):
        """Only the memo of a coding changes here (by its coder); the span is fixed."""
        coding = self.get_object()
        if not isinstance(request.data, dict) or set(request.data) - {"memo"}:
            raise ValidationError(
                {"memo": ["Only the memo can change; remove the coding and code again."]}
            )
        coding = services.coding_memo_set(
            coding=coding, user=request.user, memo=str(request.data.get("memo", ""))
        )
        return Response(CodingSerializer(coding, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        """Remove a coding (by its coder)."""
        pk = kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if pk.isdigit() and services.coding_remove_own(coding_id=int(pk), user=request.user):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return super().destroy(request, *args, **kwargs)  # says why not: 404 or 403

    def perform_destroy(self, instance):
        services.coding_remove(coding=instance, user=self.request.user)


class ImportBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Import jobs: status, progress and counts. Admins upload files and cancel jobs."""

    permission_classes = [ProjectRole]
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]
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
        try:  # refuse an oversized upload by its declared length, before receiving it
            corpus_services.upload_check_size(
                size=int(request.META.get("CONTENT_LENGTH") or 0) - 64 * 1024
            )
        except corpus_services.UploadTooLarge as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        serializer = ImportBatchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = get_object_or_404(Project, slug=data["project"])
        project_access(request.user, project, min_role=Role.ADMIN)
        try:
            # A file whose bytes contradict its name (an image, binary data) is refused now,
            # with the reason, rather than failing later in the background job.
            upload = data["file"]
            check_content(upload.name, upload.read(65536))
            upload.seek(0)
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


class ThrottledObtainAuthToken(ObtainAuthToken):
    """Your API token for a username and password; locked like the login page after repeated
    failures (429 with Retry-After)."""

    parser_classes = [FormParser, MultiPartParser, BoundedJSONParser]

    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if wait := login_wait_seconds(request, username if isinstance(username, str) else None):
            raise Throttled(wait=wait, detail=throttled_message(wait))
        return super().post(request, *args, **kwargs)

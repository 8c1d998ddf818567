"""Corpus API: the live pool count for criteria, and theoretical marks on posts."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from coding_app.access import project_access
from coding_app.models import Project, Role

from .. import services
from ..models import Post
from ..sampling import CRITERIA_FIELDS
from ..selectors import post_visible_q


class PoolView(APIView):
    """How many posts meet the criteria (the same query parameters as the sampling page)."""

    @extend_schema(
        parameters=[OpenApiParameter("project", str, required=True)]
        + [OpenApiParameter(name, str) for name in CRITERIA_FIELDS],
        responses=inline_serializer(
            "Pool",
            {
                "count": serializers.IntegerField(),
                "criteria": serializers.CharField(),
                "post_ids": serializers.ListField(child=serializers.IntegerField()),
            },
        ),
    )
    def get(self, request):
        from ..views import criteria_from_params

        project = get_object_or_404(Project, slug=request.query_params.get("project", ""))
        project_access(request.user, project)
        criteria = criteria_from_params(request.query_params)
        pool = services.pool_list(project=project, criteria=criteria)
        return Response(
            {
                "count": pool.count(),
                "criteria": criteria.describe(),
                "post_ids": list(pool.values_list("id", flat=True)[:100]),
            }
        )


class MarkSerializer(serializers.Serializer):
    relevant = serializers.BooleanField(allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PostMarkView(APIView):
    """Mark a post relevant (true), not relevant (false) or clear the mark (null)."""

    @extend_schema(request=MarkSerializer, responses=MarkSerializer)
    def post(self, request, pk):
        post = get_object_or_404(
            Post.objects.filter(post_visible_q()).select_related("project"), pk=pk
        )
        project_access(request.user, post.project, min_role=Role.SUPERVISOR)
        serializer = MarkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.post_mark_set(post=post, user=request.user, **serializer.validated_data)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(serializer.validated_data)

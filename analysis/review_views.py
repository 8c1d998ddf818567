"""Review pages (theme hierarchy, co-occurrence, saturation, findings report) and their small
JSON API: interfaces only (check access, call a selector or service, serialize)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coding_app.access import has_role, project_access_by_slug
from coding_app.models import Code, Membership, Role
from coding_app.selectors import code_tree, quote_list
from coding_app.views import project_context

from . import report as reports
from . import review
from .models import ReviewComment, ReviewStatus

QUOTES_MAX = 200


def _int(value, default=None, *, low=None, high=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    if abs(number) >= 2**63:  # past any id the database can hold
        return default
    if low is not None:
        number = max(low, number)
    if high is not None:
        number = min(high, number)
    return number


def _coders(membership) -> list[dict]:
    """Members a comment can be addressed to (coders first)."""
    rows = Membership.objects.filter(project=membership.project).select_related("user")
    rows = sorted(rows, key=lambda m: (m.role != Role.CODER, m.user.username))
    return [{"id": m.user_id, "username": m.user.username, "role": m.role} for m in rows]


def _api_urls(slug: str) -> dict:
    base = f"/api/projects/{slug}/review"
    return {
        "hierarchy": f"{base}/hierarchy/",
        "quotes": f"{base}/quotes/",
        "status": f"{base}/codes/{{id}}/status/",
        "comments": f"{base}/comments/",
        "resolve": f"{base}/comments/{{id}}/resolve/",
        "cooccurrence": f"{base}/cooccurrence/",
        "cooccurrence_posts": f"{base}/cooccurrence/posts/",
        "move": "/api/codes/{id}/move/",
        "post": reverse("post-page", args=[slug, 0]).replace("/0/", "/{id}/"),
        "code": reverse("code-page", args=[slug, 0]).replace("/0/", "/{id}/"),
    }


# ------------------------------------------------------------------ pages


@login_required
def review_page(request, slug):
    """The theme hierarchy (tree or sunburst), review status and comments, co-occurrence."""
    membership = project_access_by_slug(request.user, slug)
    can_review = has_role(membership, Role.SUPERVISOR)
    hierarchy = review.hierarchy_get(membership=membership)
    comments = review.review_comment_list(membership=membership, for_me=not can_review)
    page_data = {
        "project": membership.project.slug,
        "me": request.user.pk,
        "can_review": can_review,
        "hierarchy": hierarchy,
        "statuses": [{"value": v, "label": str(label)} for v, label in ReviewStatus.choices],
        "coders": _coders(membership) if can_review else [],
        "comments": [review.comment_as_dict(c) for c in comments[:500]],
        "urls": _api_urls(membership.project.slug),
    }
    flat = review.hierarchy_flatten(hierarchy["tree"])
    context = project_context(membership) | {
        "page_data": page_data,
        "tab": "review",
        "approved": sum(1 for n in flat if n["status"] == ReviewStatus.APPROVED),
        "node_total": len(flat),
        "pending": review.review_pending_list(hierarchy=hierarchy),
        "open_comments": [c for c in page_data["comments"] if not c["resolved_at"]],
        "can_review": can_review,
    }
    return render(request, "analysis/review.html", context)


@login_required
def saturation_page(request, slug):
    """Distinct codes against posts coded, per coder and overall, with the plain verdict."""
    membership = project_access_by_slug(request.user, slug)
    window = _int(request.GET.get("window"), review.SATURATION_WINDOW, low=1, high=100)
    data = review.saturation_get(membership=membership, window=window)
    hierarchy_blind = not has_role(membership, Role.SUPERVISOR) and membership.project.blind_coding
    if hierarchy_blind:
        data["overall"]["label"] = "Your coding"
    data["post_url"] = reverse("post-page", args=[slug, 0]).replace("/0/", "/{id}/")
    context = project_context(membership) | {
        "tab": "saturation",
        "window": window,
        "saturation": data,
        "blind": hierarchy_blind,
    }
    return render(request, "analysis/saturation.html", context)


def _report_options(request, membership) -> dict:
    themes = [int(t) for t in request.GET.getlist("themes") if t.isdigit()]
    # The form says it was sent, so unticking every theme means none, not all.
    return {
        "theme_ids": themes if themes or request.GET.get("chosen") else None,
        "quote_limit": _int(request.GET.get("limit"), 5, low=0, high=reports.QUOTE_LIMIT_MAX),
        "layer": request.GET.get("layer")
        if request.GET.get("layer") in reports.LAYERS
        else "coders",
        "window": _int(request.GET.get("window"), review.SATURATION_WINDOW, low=1, high=100),
    }


@login_required
def report_page(request, slug):
    """Choose themes, a quote limit and the layer; preview the report and download it."""
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    options = _report_options(request, membership)
    report = reports.report_build(membership=membership, **options)
    query = request.GET.urlencode()
    figures = {}
    for key in reports.FIGURES:
        url = reverse("report-figure", args=[slug, key, "svg"])
        png = reverse("report-figure", args=[slug, key, "png"])
        suffix = f"?{query}&download=1" if query else "?download=1"
        figures[key] = {
            "src": url + (f"?{query}" if query else ""),
            "svg_download": url + suffix,
            "png_download": png + suffix,
        }
    report = reports.report_prepare(report, figures)
    consensus = review.review_codings(membership=membership, layer="consensus").exists()
    context = project_context(membership) | {
        "report": report,
        "themes": [
            {"id": n["id"], "name": n["name"], "colour": n["colour"]}
            for n in code_tree(project=membership.project)
        ],
        "chosen": options["theme_ids"],
        "options": options,
        "layers": reports.LAYERS,
        "has_consensus": consensus,
        "query": query,
    }
    return render(request, "analysis/report.html", context)


@login_required
def report_download(request, slug):
    """The report as DOCX, standalone HTML or Markdown (`?format=docx|html|md`)."""
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    fmt = request.GET.get("format", "docx")
    if fmt not in ("docx", "html", "md"):
        raise Http404("Unknown format.")
    report = reports.report_build(membership=membership, **_report_options(request, membership))
    name = f"findings-{slug}-{report['generated_at']:%Y%m%d}"
    if fmt == "docx":
        response = HttpResponse(
            reports.report_docx(report),
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
    elif fmt == "html":
        response = HttpResponse(
            reports.report_html(report), content_type="text/html; charset=utf-8"
        )
    else:
        response = HttpResponse(
            reports.report_markdown(report), content_type="text/markdown; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def report_figure(request, slug, figure, ext):
    """One figure of the report as SVG or PNG."""
    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    if figure not in reports.FIGURES or ext not in ("svg", "png"):
        raise Http404("No such figure.")
    report = reports.report_build(
        membership=membership, **(_report_options(request, membership) | {"quote_limit": 0})
    )
    svg = reports.figure_svg(report, figure)
    if ext == "svg":
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    else:
        png = reports.figure_png(svg)
        if png is None:
            raise Http404("PNG figures need the cairo library on the server.")
        response = HttpResponse(png, content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{slug}-{figure}.{ext}"'
    return response


# ------------------------------------------------------------------ JSON API


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReviewStatus.choices)


class CommentInput(serializers.Serializer):
    code = serializers.IntegerField()
    text = serializers.CharField(max_length=review.COMMENT_MAX, allow_blank=False)
    addressed_to = serializers.IntegerField(required=False, allow_null=True)


class ResolveInput(serializers.Serializer):
    resolved = serializers.BooleanField(default=True)


def _code_or_404(membership, pk) -> Code:
    return get_object_or_404(Code, project=membership.project, pk=pk)


class ReviewHierarchyView(APIView):
    """The theme hierarchy with counts, review status, open comments and agreement."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug):
        membership = project_access_by_slug(request.user, slug)
        return Response(review.hierarchy_get(membership=membership))


class ReviewQuotesView(APIView):
    """The visible quotes of a code and the codes beneath it (blind-aware)."""

    @extend_schema(
        parameters=[OpenApiParameter("code", int, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, slug):
        membership = project_access_by_slug(request.user, slug)
        code_id = _int(request.query_params.get("code"))
        if code_id is None:
            raise ValidationError({"code": "Name a code."})
        code = _code_or_404(membership, code_id)
        consensus = review.consensus_user_id(project=membership.project)
        quotes = quote_list(membership=membership, code=code).select_related("coder")
        if consensus:
            quotes = quotes.exclude(coder_id=consensus)
        total = quotes.count()
        slug = membership.project.slug
        rows = [
            {
                "id": c.pk,
                "quote": c.quote,
                "code": c.code.name,
                "code_id": c.code_id,
                "post": c.post_id,
                "external_id": c.post.external_id,
                "author": c.post.author,
                "posted_at": c.post.posted_at.date().isoformat() if c.post.posted_at else None,
                "coder": c.coder.username,
                "memo": c.memo,
                "url": f"/p/{slug}/posts/{c.post_id}/#coding-{c.pk}",
            }
            for c in quotes[:QUOTES_MAX]
        ]
        return Response({"code": code.pk, "name": code.name, "total": total, "quotes": rows})


class ReviewStatusView(APIView):
    """Set a theme's or code's review status (supervisors)."""

    @extend_schema(request=StatusInput, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, slug, pk):
        membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
        code = _code_or_404(membership, pk)
        data = StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = review.code_review_set(
            code=code, status=data.validated_data["status"], user=request.user
        )
        return Response({"code": code.pk, "status": saved.status})


class ReviewCommentsView(APIView):
    """Comments on codes: supervisors read all and write; a coder reads those addressed to
    them or to all coders (`?for=me` gives anyone that list)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("for", str, enum=["me"]),
            OpenApiParameter("code", int),
            OpenApiParameter("open", bool),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, slug):
        membership = project_access_by_slug(request.user, slug)
        comments = review.review_comment_list(
            membership=membership, for_me=request.query_params.get("for") == "me"
        )
        code_id = _int(request.query_params.get("code"))
        if code_id is not None:
            comments = comments.filter(code_id=code_id)
        if request.query_params.get("open") in ("1", "true"):
            comments = comments.filter(resolved_at__isnull=True)
        return Response({"results": [review.comment_as_dict(c) for c in comments[:500]]})

    @extend_schema(request=CommentInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, slug):
        membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        code = Code.objects.filter(
            project=membership.project, pk=data.validated_data["code"]
        ).first()
        if code is None:
            raise ValidationError({"code": "No such code in this project."})
        comment = review.review_comment_add(
            code=code,
            author=request.user,
            text=data.validated_data["text"],
            addressed_to_id=data.validated_data.get("addressed_to"),
        )
        comment = review.review_comment_list(membership=membership).get(pk=comment.pk)
        return Response(review.comment_as_dict(comment), status=status.HTTP_201_CREATED)


class ReviewCommentResolveView(APIView):
    """Mark a comment resolved, or open it again (supervisors)."""

    @extend_schema(request=ResolveInput, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, slug, pk):
        membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
        comment = get_object_or_404(ReviewComment, code__project=membership.project, pk=pk)
        data = ResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = review.review_comment_resolve(
            comment=comment, user=request.user, resolved=data.validated_data["resolved"]
        )
        return Response(review.comment_as_dict(comment))


_COOC_PARAMS = [
    OpenApiParameter("mode", str, enum=list(review.MODES)),
    OpenApiParameter("level", str, enum=list(review.LEVELS)),
]


class CooccurrenceView(APIView):
    """Codes × codes: posts where both were applied, or applied to overlapping spans."""

    @extend_schema(
        parameters=[*_COOC_PARAMS, OpenApiParameter("limit", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, slug):
        membership = project_access_by_slug(request.user, slug)
        return Response(
            review.cooccurrence_get(
                membership=membership,
                mode=request.query_params.get("mode", "post"),
                level=request.query_params.get("level", "code"),
                limit=_int(request.query_params.get("limit"), 30, low=1, high=200),
            )
        )


class CooccurrencePostsView(APIView):
    """The posts where two codes (or themes) co-occur."""

    @extend_schema(
        parameters=[
            *_COOC_PARAMS,
            OpenApiParameter("a", int, required=True),
            OpenApiParameter("b", int, required=True),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, slug):
        membership = project_access_by_slug(request.user, slug)
        a, b = _int(request.query_params.get("a")), _int(request.query_params.get("b"))
        if a is None or b is None:
            raise ValidationError({"a": "Name two codes, a and b."})
        a, b = _code_or_404(membership, a).pk, _code_or_404(membership, b).pk
        posts = review.cooccurrence_posts(
            membership=membership,
            a=a,
            b=b,
            mode=request.query_params.get("mode", "post"),
            level=request.query_params.get("level", "code"),
        )
        return Response({"results": posts})

"""API routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from analysis.api import views as analysis_api
from corpus.api import views as corpus_api

from . import views

router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("posts", views.PostViewSet, basename="post")
router.register("codes", views.CodeViewSet, basename="code")
router.register("codings", views.CodingViewSet, basename="coding")
router.register("import-batches", views.ImportBatchViewSet, basename="importbatch")

urlpatterns = [
    path("", include(router.urls)),
    path("pool/", corpus_api.PoolView.as_view(), name="pool"),
    path("changes/<int:pk>/revert/", views.ChangeRevertView.as_view(), name="change-revert"),
    path("analyses/", analysis_api.AnalysisListView.as_view(), name="analysis-list"),
    path("analyses/<int:pk>/", analysis_api.AnalysisDetailView.as_view(), name="analysis-detail"),
    path(
        "analyses/<int:pk>/theme/", analysis_api.ThemeFromWordView.as_view(), name="analysis-theme"
    ),
    path(
        "analyses/<int:pk>/code-branch/",
        analysis_api.CodeFromTreeView.as_view(),
        name="analysis-code-branch",
    ),
    path("stopwords/", analysis_api.StopWordView.as_view(), name="stopwords"),
    path("posts/<int:pk>/mark/", corpus_api.PostMarkView.as_view(), name="post-mark"),
    path("token/", views.ThrottledObtainAuthToken.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

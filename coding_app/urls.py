"""URL routes: pages, the API and the Django admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from analysis import views as analysis_views
from corpus import views as corpus_views

from . import codebook_views, views

urlpatterns = [
    path("", views.project_list, name="projects-page"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("p/<slug:slug>/", views.project_detail, name="project-page"),
    path("p/<slug:slug>/posts/<int:pk>/", views.post_detail, name="post-page"),
    path("p/<slug:slug>/codes/<int:pk>/", views.code_detail, name="code-page"),
    path("p/<slug:slug>/codes/<int:pk>/quotes.csv", views.code_quotes_csv, name="code-quotes-csv"),
    path("p/<slug:slug>/codebook/", codebook_views.codebook_page, name="codebook-page"),
    path("p/<slug:slug>/codebook.csv", codebook_views.codebook_csv, name="codebook-csv"),
    path(
        "p/<slug:slug>/codebook/import/",
        codebook_views.codebook_import,
        name="codebook-import",
    ),
    path("p/<slug:slug>/imports/", corpus_views.import_list, name="imports-page"),
    path(
        "p/<slug:slug>/imports/<int:pk>/mapping/",
        corpus_views.import_mapping,
        name="import-mapping-page",
    ),
    path(
        "p/<slug:slug>/imports/<int:pk>/rejected.csv",
        corpus_views.import_rejected_csv,
        name="import-rejected-csv",
    ),
    path(
        "p/<slug:slug>/imports/<int:pk>/cancel/", corpus_views.import_cancel, name="import-cancel"
    ),
    path(
        "p/<slug:slug>/imports/<int:pk>/delete/", corpus_views.import_delete, name="import-delete"
    ),
    path("p/<slug:slug>/analysis/", analysis_views.analysis_page, name="analysis-page"),
    path("p/<slug:slug>/agreement/", analysis_views.comparison_page, name="comparison-page"),
    path(
        "p/<slug:slug>/agreement/posts/<int:pk>/",
        analysis_views.disagreement_page,
        name="disagreement-page",
    ),
    path(
        "p/<slug:slug>/near-duplicates/<int:pk>/",
        corpus_views.near_duplicate_review,
        name="near-duplicate-review",
    ),
    path("p/<slug:slug>/queue/", corpus_views.queue, name="queue-page"),
    path("p/<slug:slug>/members/", views.members, name="members-page"),
    path("p/<slug:slug>/sampling/", corpus_views.sampling, name="sampling-page"),
    path("p/<slug:slug>/samples/<int:pk>/", corpus_views.sample_detail, name="sample-page"),
    path("api/", include("coding_app.api.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "coding_app.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

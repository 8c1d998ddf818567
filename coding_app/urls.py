"""URL routes: pages, the API and the Django admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from analysis import review_views
from analysis import views as analysis_views
from corpus import exchange_views
from corpus import views as corpus_views

from . import codebook_views, export_views, views
from .auth_views import AccountPasswordView, ThrottledLoginView

urlpatterns = [
    path("", views.project_list, name="projects-page"),
    path("new/", views.project_create, name="project-create"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("account/password/", AccountPasswordView.as_view(), name="password-change"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("restore/", export_views.project_restore_upload, name="project-restore"),
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
    path("p/<slug:slug>/exchange/", exchange_views.exchange_page, name="exchange-page"),
    path(
        "p/<slug:slug>/exchange/project.qdpx",
        exchange_views.exchange_download_qdpx,
        name="exchange-qdpx",
    ),
    path(
        "p/<slug:slug>/exchange/codebook.qdc",
        exchange_views.exchange_download_qdc,
        name="exchange-qdc",
    ),
    path("p/<slug:slug>/downloads/", export_views.downloads_page, name="downloads-page"),
    path("p/<slug:slug>/codings.csv", export_views.codings_csv, name="codings-csv"),
    path("p/<slug:slug>/codings.xlsx", export_views.codings_xlsx, name="codings-xlsx"),
    path("p/<slug:slug>/backup.zip", export_views.project_backup, name="project-backup"),
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
    path("p/<slug:slug>/review/", review_views.review_page, name="review-page"),
    path("p/<slug:slug>/review/saturation/", review_views.saturation_page, name="saturation-page"),
    path("p/<slug:slug>/report/", review_views.report_page, name="report-page"),
    path("p/<slug:slug>/report/download/", review_views.report_download, name="report-download"),
    path(
        "p/<slug:slug>/report/figures/<slug:figure>.<str:ext>",
        review_views.report_figure,
        name="report-figure",
    ),
    path(
        "api/projects/<slug:slug>/review/hierarchy/",
        review_views.ReviewHierarchyView.as_view(),
        name="review-hierarchy",
    ),
    path(
        "api/projects/<slug:slug>/review/quotes/",
        review_views.ReviewQuotesView.as_view(),
        name="review-quotes",
    ),
    path(
        "api/projects/<slug:slug>/review/codes/<int:pk>/status/",
        review_views.ReviewStatusView.as_view(),
        name="review-status",
    ),
    path(
        "api/projects/<slug:slug>/review/comments/",
        review_views.ReviewCommentsView.as_view(),
        name="review-comments",
    ),
    path(
        "api/projects/<slug:slug>/review/comments/<int:pk>/resolve/",
        review_views.ReviewCommentResolveView.as_view(),
        name="review-comment-resolve",
    ),
    path(
        "api/projects/<slug:slug>/review/cooccurrence/",
        review_views.CooccurrenceView.as_view(),
        name="review-cooccurrence",
    ),
    path(
        "api/projects/<slug:slug>/review/cooccurrence/posts/",
        review_views.CooccurrencePostsView.as_view(),
        name="review-cooccurrence-posts",
    ),
    path("api/", include("coding_app.api.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "coding_app.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

"""Django admin for posts and import batches."""

from django.contrib import admin

from .models import ImportBatch, Post


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["file_name", "project", "status", "imported_count", "duplicate_count",
                    "rejected_count", "created_by", "created_at"]
    list_filter = ["status", "project"]
    readonly_fields = ["row_errors", "row_warnings"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "external_id", "author", "project", "posted_at", "word_count"]
    list_filter = ["project"]
    search_fields = ["text", "author", "external_id"]
    raw_id_fields = ["batch"]

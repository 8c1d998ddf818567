"""Django admin for posts and import batches."""

from django.contrib import admin

from .models import ImportBatch, NearDuplicate, Post, Sample


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "project",
        "status",
        "imported_count",
        "duplicate_count",
        "rejected_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "project"]
    readonly_fields = ["row_errors", "row_warnings"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "external_id", "author", "project", "posted_at", "word_count"]
    list_filter = ["project"]
    search_fields = ["text", "author", "external_id"]
    raw_id_fields = ["batch"]


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "method", "k", "start", "seed", "created_at"]
    list_filter = ["project", "method"]
    readonly_fields = ["criteria", "pool_ids", "marks", "post_ids", "description"]


@admin.register(NearDuplicate)
class NearDuplicateAdmin(admin.ModelAdmin):
    list_display = ["post", "similar_to", "similarity", "status"]
    list_filter = ["status", "project"]
    raw_id_fields = ["post", "similar_to"]

"""Django admin for a project's text settings and analysis jobs."""

from django.contrib import admin

from .models import AnalysisJob, StopWord, SynonymGroup


@admin.register(StopWord)
class StopWordAdmin(admin.ModelAdmin):
    list_display = ["word", "project", "excluded"]
    list_filter = ["project", "excluded"]
    search_fields = ["word"]


@admin.register(SynonymGroup)
class SynonymGroupAdmin(admin.ModelAdmin):
    list_display = ["label", "project", "members"]
    list_filter = ["project"]


@admin.register(AnalysisJob)
class AnalysisJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "status", "created_by", "created_at"]
    list_filter = ["kind", "status", "project"]
    readonly_fields = ["params", "result"]

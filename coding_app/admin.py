"""Django admin for users' projects, memberships and the codebook."""

from django.contrib import admin

from .models import Assignment, Code, Coding, Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "blind_coding", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]
    autocomplete_fields = ["user", "project"]


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "project", "colour"]
    list_filter = ["project"]
    search_fields = ["name", "definition"]
    autocomplete_fields = ["parent"]


@admin.register(Coding)
class CodingAdmin(admin.ModelAdmin):
    list_display = ["code", "post", "coder", "start", "end", "created_at"]
    list_filter = ["code__project", "coder"]
    raw_id_fields = ["post"]
    readonly_fields = ["quote"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["post", "coder", "created_at"]
    raw_id_fields = ["post"]

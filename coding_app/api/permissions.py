"""DRF glue over access.py: per-object membership and role checks."""

from django.db.models import Q
from rest_framework import permissions

from coding_app.access import memberships_load, project_access, sees_all_codings
from coding_app.models import Role


def member_project_ids(user) -> list[int]:
    return list(memberships_load(user))


def codings_visible_q(user, prefix: str = "") -> Q:
    """Codings a user may see across their projects (blind mode hides other coders')."""
    open_projects, blind_projects = [], []
    for m in memberships_load(user).values():
        (open_projects if sees_all_codings(m) else blind_projects).append(m.project_id)
    return Q(**{f"{prefix}post__project_id__in": open_projects}) | Q(
        **{f"{prefix}post__project_id__in": blind_projects, f"{prefix}coder": user}
    )


class ProjectRole(permissions.BasePermission):
    """Object-level: the object's project must admit the user with the view's role.

    Views name `read_role` and `write_role`; the object names its project via
    `view.project_of(obj)`.
    """

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        role = getattr(view, "read_role", Role.CODER)
        if request.method not in permissions.SAFE_METHODS:
            role = getattr(view, "write_role", Role.SUPERVISOR)
        project_access(request.user, view.project_of(obj), min_role=role)
        return True


class ProjectMember(ProjectRole):
    """Any member, for reading and for writing what is their own (a memo, their queue)."""

    def has_object_permission(self, request, view, obj):
        project_access(request.user, view.project_of(obj), min_role=Role.CODER)
        return True

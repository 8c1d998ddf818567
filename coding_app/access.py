"""The one permission gate: who may see or change what in a project.

Page views, API views and selectors all call these functions. A user who is not a member
of a project gets 404 for anything in it, so a project's existence is not leaked.
"""

from django.conf import settings
from django.http import Http404

from .models import ROLE_RANK, Membership, Project, Role


class AccessDenied(Exception):
    """A member lacks the role for an action (shown as 403)."""


def memberships_load(user) -> dict[int, Membership]:
    """All the user's memberships (with their projects), read once per request."""
    if not user.is_authenticated:
        return {}
    if not getattr(user, "_grounded_memberships_all", False):
        user._grounded_memberships = {
            m.project_id: m for m in Membership.objects.filter(user=user).select_related("project")
        }
        user._grounded_memberships_all = True
    return user._grounded_memberships


def memberships_forget(user) -> None:
    """Drop the per-request membership cache (the middleware calls this after each request)."""
    target = getattr(user, "_wrapped", user)  # a lazy request.user, when it was loaded
    attributes = getattr(target, "__dict__", {})
    attributes.pop("_grounded_memberships", None)
    attributes.pop("_grounded_memberships_all", None)


def membership_get(user, project: Project) -> Membership | None:
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_grounded_memberships", None)
    if cache is None:
        cache = user._grounded_memberships = {}
    if getattr(user, "_grounded_memberships_all", False):
        return cache.get(project.pk)
    if project.pk not in cache:
        membership = Membership.objects.filter(user=user, project=project).first()
        if membership is not None:
            membership.project = project  # spare a query in role checks
        cache[project.pk] = membership
    return cache[project.pk]


def project_access(user, project: Project, *, min_role: str = Role.CODER) -> Membership:
    """Return the user's membership, or raise Http404 (not a member) / AccessDenied (role)."""
    membership = membership_get(user, project)
    if membership is None:
        raise Http404("No such project.")
    if ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(min_role)]:
        raise AccessDenied(f"This needs the {Role(min_role).label.lower()} role or higher.")
    return membership


def project_access_by_slug(user, slug: str, *, min_role: str = Role.CODER) -> Membership:
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise Http404("No such project.")
    return project_access(user, project, min_role=min_role)


def has_role(membership: Membership, role: str) -> bool:
    return ROLE_RANK[Role(membership.role)] >= ROLE_RANK[Role(role)]


def sees_all_codings(membership: Membership) -> bool:
    """In blind mode a coder sees only their own codings; supervisors and admins see all."""
    return not membership.project.blind_coding or has_role(membership, Role.SUPERVISOR)


def may_code(role: str, *, in_queue: bool, has_queue: bool) -> bool:
    """Coders code the posts assigned to them (any post if they have no queue in the project);
    supervisors and admins may code any post."""
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role.SUPERVISOR] or in_queue or not has_queue


def may_code_post(membership: Membership, post) -> bool:
    """`may_code` for one member and post, asking the database only what it must."""
    if has_role(membership, Role.SUPERVISOR):
        return True
    from .models import Assignment

    # The usual case, a post of the coder's queue, costs one query.
    if Assignment.objects.filter(coder_id=membership.user_id, post=post).exists():
        return True
    has_queue = Assignment.objects.filter(
        coder_id=membership.user_id, post__project=membership.project
    ).exists()
    return may_code(membership.role, in_queue=False, has_queue=has_queue)


def codable_post_ids(membership: Membership) -> set[int] | None:
    """The posts a member may code when that is limited (a coder's queue), else None (any
    post): `may_code_post` for many posts at once."""
    if has_role(membership, Role.SUPERVISOR):
        return None
    from .models import Assignment

    queue = Assignment.objects.filter(
        coder_id=membership.user_id, post__project=membership.project
    ).values_list("post_id", flat=True)
    return set(queue) or None


def may_create_codes(membership: Membership) -> bool:
    return has_role(membership, Role.SUPERVISOR) or membership.project.coders_create_codes


def may_create_projects(user) -> bool:
    """Whether the user may start a project (GROUNDED_PROJECT_CREATORS: everyone or staff)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return settings.GROUNDED_PROJECT_CREATORS == "everyone" or user.is_staff

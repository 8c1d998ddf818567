"""Project writes: creating a project, memberships, and the project's settings by role."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from ..access import AccessDenied, has_role
from ..models import Change, Membership, Project, Role
from .changes import change_record

# Who may change which setting: admins everything; supervisors the coding rules.
SETTING_ROLES = {
    "name": Role.ADMIN,
    "description": Role.ADMIN,
    "blind_coding": Role.SUPERVISOR,
    "coders_create_codes": Role.SUPERVISOR,
}


NAME_MAX = Project._meta.get_field("name").max_length
SLUG_MAX = Project._meta.get_field("slug").max_length
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


def project_create(
    *,
    name: str,
    admin,
    slug: str | None = None,
    description: str = "",
    blind_coding: bool = False,
) -> Project:
    """A new project with `admin` as its first admin.

    The slug (the project's address, /p/<slug>/) is the one given, checked, or else made
    from the name (letters, digits and hyphens; "-2", "-3" ... added while it is taken).
    Problems are a ValidationError naming the field.
    """
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Give the project a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"A project name has at most {NAME_MAX} characters."
    slug = (slug or "").strip()
    if slug and (len(slug) > SLUG_MAX or not SLUG_RE.fullmatch(slug)):
        errors["slug"] = (
            f"An address has at most {SLUG_MAX} letters, digits, hyphens or underscores "
            "(no spaces or accents)."
        )
    elif slug and Project.objects.filter(slug=slug).exists():
        errors["slug"] = f"The address “{slug}” is taken: choose another, or leave it empty."
    if errors:
        raise ValidationError(errors)
    slug = slug or _free_slug(name)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                slug=slug, name=name, description=description.strip(), blind_coding=blind_coding
            )
            Membership.objects.create(project=project, user=admin, role=Role.ADMIN)
    except IntegrityError as exc:  # the same address taken a moment ago
        raise ValidationError({"slug": f"The address “{slug}” is taken: try again."}) from exc
    return project


def _free_slug(name: str) -> str:
    """An address made from the name that no project has yet."""
    base = slugify(name)[: SLUG_MAX - 6].strip("-") or "project"
    taken = set(Project.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_admin_left(project: Project, leaving_user_id: int) -> None:
    admins = Membership.objects.select_for_update().filter(project=project, role=Role.ADMIN)
    if not admins.exclude(user_id=leaving_user_id).exists():
        raise ValidationError({"role": "A project keeps at least one admin: name another first."})


@transaction.atomic
def membership_set(*, project: Project, user, role: str) -> Membership:
    """Add a member or change their role (the last admin cannot step down)."""
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.values)}."})
    current = Membership.objects.filter(project=project, user=user).first()
    if current is not None and current.role == Role.ADMIN and role != Role.ADMIN:
        _check_admin_left(project, user.pk)
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Take a member out of the project; their codings stay (and stay theirs)."""
    if membership.role == Role.ADMIN:
        _check_admin_left(membership.project, membership.user_id)
    membership.delete()


@transaction.atomic
def project_settings_update(*, membership: Membership, **fields) -> Project:
    """Change project settings the member's role allows (each refusal names the role)."""
    project = Project.objects.select_for_update().get(pk=membership.project_id)
    for key in fields:
        if key not in SETTING_ROLES:
            raise ValidationError({key: "This setting cannot be changed here."})
        if not has_role(membership, SETTING_ROLES[key]):
            role = Role(SETTING_ROLES[key]).label.lower()
            raise AccessDenied(f"Changing “{key}” needs the {role} role or higher.")
    before = {key: getattr(project, key) for key in fields}
    changed = {k: v for k, v in fields.items() if before[k] != v}
    if "name" in changed and not str(changed["name"]).strip():
        raise ValidationError({"name": "A project needs a name."})
    if "name" in changed and len(changed["name"]) > NAME_MAX:
        raise ValidationError({"name": f"A project name has at most {NAME_MAX} characters."})
    if not changed:
        return project
    for key, value in changed.items():
        setattr(project, key, value)
    project.save(update_fields=list(changed))
    membership.project = project
    change_record(
        project_id=project.pk,
        user=membership.user,
        kind=Change.Kind.PROJECT_SETTINGS,
        before={k: before[k] for k in changed},
        after=changed,
    )
    return project

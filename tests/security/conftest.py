"""Security fixtures: one small world of every kind of object, in the team's project and in
the outsider's project, so each endpoint can be asked about something real."""

from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile

SECRET = "PRIVATE-OF-CORA"


@dataclass
class Objects:
    """The objects of one project that URLs name."""

    project: object
    post: object
    other_post: object
    theme: object
    code: object
    other_code: object
    deleted_code: object
    coding: object  # by the project's first coder (cora in "study")
    coding_of_another: object  # by the second coder (cole in "study")
    batch: object
    draft_batch: object
    sample: object
    near_duplicate: object
    job: object  # a finished word frequency query on the whole project
    tree: object  # a finished word tree ("skills") on the whole project
    change: object  # a code edit, which the history can revert
    review_comment: object  # a supervisor's comment on a code


def build_objects(project, *, admin, supervisor, coder, other_coder) -> Objects:
    from analysis import services as analysis_services
    from coding_app import services
    from coding_app.models import Change, Membership
    from corpus.models import ImportBatch, NearDuplicate, Sample
    from tests.factories import PostFactory

    batch = ImportBatch.objects.create(
        project=project, created_by=admin, file_name="posts.csv", status="succeeded"
    )
    post = PostFactory(
        project=project,
        batch=batch,
        text="Employers value digital skills over degrees, says the post.",
    )
    other_post = PostFactory(
        project=project, text="Digital badges matter to hiring managers, skills matter more."
    )
    theme = services.code_create(project=project, name="Skills", user=supervisor)
    code = services.code_create(project=project, name="Digital skills", parent=theme)
    other_code = services.code_create(project=project, name="Badges", parent=theme)
    deleted_code = services.code_create(project=project, name="Gone")
    services.code_delete(code=deleted_code, user=supervisor)
    other_code = services.code_update(
        code=other_code, user=supervisor, version=other_code.version, definition="Badges."
    )
    change = Change.objects.filter(code=other_code, kind=Change.Kind.CODE_UPDATE).latest("id")
    coding, _ = services.coding_apply(
        post=post, code=code, coder=coder, start=16, end=30, memo=f"{SECRET} coding memo"
    )
    coding_of_another, _ = services.coding_apply(
        post=post, code=code, coder=other_coder, start=0, end=9
    )
    draft_batch = ImportBatch.objects.create(
        project=project, created_by=admin, file_name="draft.csv", status="draft"
    )
    draft_batch.file.save("draft.csv", ContentFile(b"text,author\nHello there,Ann\n"), save=True)
    sample = Sample.objects.create(
        project=project,
        name="Sample",
        method="systematic",
        k=1,
        start=1,
        pool_ids=[post.pk, other_post.pk],
        post_ids=[post.pk, other_post.pk],
        created_by=supervisor,
    )
    near_duplicate = NearDuplicate.objects.create(
        project=project, post=other_post, similar_to=post, similarity=0.9
    )
    membership = Membership.objects.get(user=supervisor, project=project)
    job, _ = analysis_services.analysis_request(
        membership=membership,
        kind="frequency",
        params={"scope": "project"},
        user=supervisor,
        enqueue=False,
    )
    tree, _ = analysis_services.analysis_request(
        membership=membership,
        kind="wordtree",
        params={"scope": "project", "root": "skills"},
        user=supervisor,
        enqueue=False,
    )
    analysis_services.analysis_run(job_id=job.pk)
    analysis_services.analysis_run(job_id=tree.pk)
    from analysis.models import ReviewComment

    review_comment = ReviewComment.objects.create(code=code, author=supervisor, text="Check.")
    return Objects(
        project=project,
        post=post,
        other_post=other_post,
        theme=theme,
        code=code,
        other_code=other_code,
        deleted_code=deleted_code,
        coding=coding,
        coding_of_another=coding_of_another,
        batch=batch,
        draft_batch=draft_batch,
        sample=sample,
        near_duplicate=near_duplicate,
        job=job,
        tree=tree,
        change=change,
        review_comment=review_comment,
    )


@dataclass
class World:
    team: object
    ours: Objects  # project "study"
    theirs: Objects  # the outsider's own project


def build_world(team) -> World:
    """Objects in "study" and in the outsider's project (where olga is admin and the only
    coder)."""
    from coding_app.models import Membership

    cora, cole = team.coders[0], team.coders[1]
    ours = build_objects(
        team.project, admin=team.admin, supervisor=team.supervisor, coder=cora, other_coder=cole
    )
    olga = team.outsider
    other = Membership.objects.get(user=olga).project
    theirs = build_objects(other, admin=olga, supervisor=olga, coder=olga, other_coder=olga)
    return World(team=team, ours=ours, theirs=theirs)


@pytest.fixture
def world(team, tmp_path, settings) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world(team)


@dataclass
class SharedTeam:
    project: object
    admin: object
    supervisor: object
    coders: list
    outsider: object


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The same world built once for a module, inside a transaction that is rolled back
    when the module ends; each test still runs in its own savepoint (the `db` fixture), so
    what one test writes is gone before the next. Tests must not change the objects'
    Python attributes."""
    from django.db import transaction
    from django.test.utils import override_settings

    from tests.factories import MembershipFactory, ProjectFactory, UserFactory

    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
    media.enable()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            project = ProjectFactory(slug="study", name="Micro-credentials study")
            users = {}
            for username, role in [
                ("ada", "admin"),
                ("sam", "supervisor"),
                ("cora", "coder"),
                ("cole", "coder"),
                ("cleo", "coder"),
            ]:
                users[username] = UserFactory(username=username)
                MembershipFactory(project=project, user=users[username], role=role)
            outsider = UserFactory(username="olga")
            MembershipFactory(user=outsider, role="admin")
            team = SharedTeam(
                project=project,
                admin=users["ada"],
                supervisor=users["sam"],
                coders=[users["cora"], users["cole"], users["cleo"]],
                outsider=outsider,
            )
            world = build_world(team)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            media.disable()
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
    media.disable()

"""On PostgreSQL, applying and removing a coding take one SQL statement each (the hot path of
coding); other databases take the ORM path. Every test here runs both ways and holds them to
the same rows, the same change log and the same refusals."""

from datetime import datetime, timedelta

import pytest
from django.db import connection, models, transaction

from coding_app import services
from coding_app.models import Adjudication, Assignment, Change, Coding
from coding_app.services import codings as coding_services
from coding_app.services.changes import coding_snapshot
from corpus.models import ImportBatch, JobStatus
from tests.factories import CodeFactory, PostFactory

pytestmark = pytest.mark.django_db

TEXT = "Employers value digital skills 🎓 over degrees, and =SUM(A1) is not a formula here."


# The embedded SQLite of `make run` has only the ORM path (run this file with DATABASE_URL
# unset to check it there).
PATHS = ["one statement", "orm"] if connection.vendor == "postgresql" else ["orm"]


@pytest.fixture(autouse=True, params=PATHS)
def write_path(request, monkeypatch):
    one_statement = request.param == "one statement"
    monkeypatch.setattr(coding_services, "_one_statement", lambda: one_statement)
    return request.param


@pytest.fixture
def post(team):
    return PostFactory(project=team.project, text=TEXT)


@pytest.fixture
def code(team):
    return CodeFactory(project=team.project, name="Digital skills")


def errors(response) -> dict:
    return response.json()["errors"]


def apply_via_api(client, post, code, start, end):
    return client.post(
        "/api/codings/",
        {"post": post.pk, "code": code.pk, "start": start, "end": end},
        format="json",
    )


def test_apply_stores_the_coding_and_logs_the_snapshot_the_feed_sends(team, api_for, post, code):
    coder = team.coders[0]
    response = apply_via_api(api_for(coder), post, code, 16, 32)
    assert response.status_code == 201
    body = response.json()
    coding = Coding.objects.get(pk=body["id"])
    assert (coding.post_id, coding.code_id, coding.coder_id) == (post.pk, code.pk, coder.pk)
    assert coding.quote == "digital skills 🎓" == TEXT[16:32]
    assert body["quote"] == coding.quote and body["code_name"] == "Digital skills"
    assert body["coder"]["username"] == coder.username
    change = Change.objects.get(coding_id=coding.pk)
    assert change.kind == Change.Kind.CODING_ADD and change.project_id == team.project.pk
    assert (change.user_id, change.coder_id, change.post_id) == (coder.pk, coder.pk, post.pk)
    assert change.before is None
    assert change.after == coding_snapshot(coding)
    assert abs(change.at - coding.created_at) < timedelta(seconds=1)


def test_the_same_apply_twice_answers_200_with_the_same_coding_and_logs_once(
    team, api_for, post, code
):
    client = api_for(team.coders[0])
    first = apply_via_api(client, post, code, 0, 9)
    again = apply_via_api(client, post, code, 0, 9)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Coding.objects.filter(post=post).count() == 1
    assert Change.objects.filter(kind=Change.Kind.CODING_ADD).count() == 1


def test_a_repeated_apply_inside_a_transaction_leaves_the_transaction_usable(team, post, code):
    coder = team.coders[0]
    with transaction.atomic():
        first, created = services.coding_apply(post=post, code=code, coder=coder, start=0, end=9)
        again, created_again = services.coding_apply(
            post=post, code=code, coder=coder, start=0, end=9
        )
        assert (created, created_again) == (True, False) and again.pk == first.pk
        services.memo_set(post=post, user=coder, text="still writable")  # no aborted transaction
    assert Coding.objects.filter(post=post).count() == 1


def test_apply_refuses_posts_and_codes_the_user_may_not_use(team, api_for, post, code):
    coder = team.coders[0]
    client = api_for(coder)
    pending = ImportBatch.objects.create(
        project=team.project, file_name="later.csv", status=JobStatus.RUNNING
    )
    unfinished = PostFactory(project=team.project, batch=pending)
    elsewhere = CodeFactory()  # a code of another project
    deleted = CodeFactory(project=team.project)
    services.code_delete(code=deleted, user=team.supervisor)

    response = apply_via_api(client, unfinished, code, 0, 4)
    assert response.status_code == 400 and "No post" in errors(response)["post"][0]
    response = apply_via_api(client, post, elsewhere, 0, 4)
    assert response.status_code == 400 and "No code" in errors(response)["code"][0]
    response = apply_via_api(client, post, deleted, 0, 4)
    assert response.status_code == 400 and "No code" in errors(response)["code"][0]
    response = apply_via_api(api_for(team.outsider), post, code, 0, 4)
    assert response.status_code == 400 and set(errors(response)) == {"post", "code"}
    response = apply_via_api(client, post, code, 0, len(TEXT) + 1)
    assert response.status_code == 400 and "past the end" in str(response.json())

    other = PostFactory(project=team.project)
    Assignment.objects.create(post=other, coder=coder)  # the coder now has a queue
    response = apply_via_api(client, post, code, 0, 4)
    assert response.status_code == 403 and "not in your queue" in response.json()["detail"]
    assert apply_via_api(client, other, code, 0, 4).status_code == 201
    assert apply_via_api(api_for(team.supervisor), post, code, 0, 4).status_code == 201
    assert not Coding.objects.filter(coder=coder, post=post).exists()


def test_remove_deletes_the_coding_and_logs_it_as_it_was(team, api_for, post, code):
    coder = team.coders[0]
    coding, _ = services.coding_apply(post=post, code=code, coder=coder, start=16, end=32)
    services.coding_memo_set(coding=coding, user=coder, memo="A memo ✍")
    coding.refresh_from_db()
    response = api_for(coder).delete(f"/api/codings/{coding.pk}/")
    assert response.status_code == 204
    assert not Coding.all_objects.filter(pk=coding.pk).exists()
    change = Change.objects.get(kind=Change.Kind.CODING_REMOVE)
    assert (change.user_id, change.coder_id, change.post_id, change.coding_id) == (
        coder.pk,
        coder.pk,
        post.pk,
        coding.pk,
    )
    expected = coding_snapshot(coding)
    before = dict(change.before)
    assert datetime.fromisoformat(before.pop("created_at")) == coding.created_at
    expected.pop("created_at")
    assert before == expected and change.after is None


def test_remove_is_refused_with_the_reason_and_keeps_the_coding(team, api_for, post, code):
    mine, _ = services.coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=9)
    assert api_for(team.coders[1]).delete(f"/api/codings/{mine.pk}/").status_code == 403
    assert api_for(team.supervisor).delete(f"/api/codings/{mine.pk}/").status_code == 403
    assert api_for(team.outsider).delete(f"/api/codings/{mine.pk}/").status_code == 404
    assert api_for(team.coders[0]).delete("/api/codings/999999/").status_code == 404
    team.project.blind_coding = True
    team.project.save()
    assert api_for(team.coders[1]).delete(f"/api/codings/{mine.pk}/").status_code == 404
    assert Coding.objects.filter(pk=mine.pk).exists()
    assert not Change.objects.filter(kind=Change.Kind.CODING_REMOVE).exists()
    assert api_for(team.coders[0]).delete(f"/api/codings/{mine.pk}/").status_code == 204
    assert api_for(team.coders[0]).delete(f"/api/codings/{mine.pk}/").status_code == 404


def test_remove_unlinks_a_consensus_decision_that_used_the_coding(team, api_for, post, code):
    coder = team.coders[0]
    coding, _ = services.coding_apply(post=post, code=code, coder=coder, start=0, end=9)
    decision = Adjudication.objects.create(
        project=team.project,
        post=post,
        code=code,
        start=0,
        end=9,
        decision=Adjudication.Decision.ACCEPT,
        consensus_coding=coding,
        decided_by=team.supervisor,
    )
    assert api_for(coder).delete(f"/api/codings/{coding.pk}/").status_code == 204
    decision.refresh_from_db()
    assert decision.consensus_coding is None


def test_the_one_statement_remove_handles_every_relation_to_a_coding(write_path):
    """`coding_remove_own` unlinks Adjudication.consensus_coding itself (SET_NULL, as the ORM
    would); a new relation to Coding must be handled there too before this passes."""
    relations = {
        (rel.related_model.__name__, rel.field.name, rel.on_delete)
        for rel in Coding._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete  # relations from other models
    }
    assert relations == {("Adjudication", "consensus_coding", models.SET_NULL)}

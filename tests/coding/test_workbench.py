"""The workbench's codebook rules and API: versions and conflicts, move, merge, split, soft delete
with undo, history with restore, CSV exchange, memos, the queue and the live change feed."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from coding_app import services
from coding_app.models import Assignment, Change, Code, Coding
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(team):
    sup = team.supervisor
    skills = services.code_create(project=team.project, name="Skills", user=sup)
    gaps = services.code_create(project=team.project, name="Skill gaps", parent=skills, user=sup)
    digital = services.code_create(project=team.project, name="Digital", parent=gaps, user=sup)
    soft = services.code_create(project=team.project, name="Soft", parent=gaps, user=sup)
    access = services.code_create(project=team.project, name="Access", user=sup)
    cost = services.code_create(project=team.project, name="Cost", parent=access, user=sup)
    return {"skills": skills, "gaps": gaps, "digital": digital, "soft": soft} | {
        "access": access,
        "cost": cost,
    }


@pytest.fixture
def post(team):
    return PostFactory(project=team.project, text="Employers value digital skills 🎓 over degrees.")


def apply(post, code, coder, start, end):
    return services.coding_apply(post=post, code=code, coder=coder, start=start, end=end)[0]


# ---------------------------------------------------------------- versions and conflicts


def test_stale_edit_gets_409_with_the_fresh_code_and_changes_nothing(team, api_for, book):
    code = book["digital"]
    first = api_for(team.supervisor).patch(
        f"/api/codes/{code.pk}/", {"name": "Digital skills", "version": 1}, format="json"
    )
    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert first["ETag"] == '"2"'
    stale = api_for(team.admin).patch(
        f"/api/codes/{code.pk}/", {"definition": "Mine", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    body = stale.json()
    assert "changed by someone else" in body["detail"]
    assert body["current"]["name"] == "Digital skills"
    assert body["current"]["version"] == 2
    code.refresh_from_db()
    assert (code.definition, code.version) == ("", 2)


def test_edit_with_if_match_header_and_without_any_version(team, api_for, book):
    code = book["soft"]
    client = api_for(team.supervisor)
    missing = client.patch(f"/api/codes/{code.pk}/", {"name": "Soft skills"}, format="json")
    assert missing.status_code == 428
    assert "version" in missing.json()["errors"]
    ok = client.patch(
        f"/api/codes/{code.pk}/", {"name": "Soft skills"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert ok.status_code == 200, ok.json()
    assert Code.objects.get(pk=code.pk).name == "Soft skills"


def test_edit_keeps_sibling_names_unique_and_colour_valid(team, book):
    with pytest.raises(ValidationError, match="already exists"):
        services.code_update(code=book["soft"], user=team.supervisor, version=1, name="digital")
    with pytest.raises(ValidationError):
        services.code_update(code=book["soft"], user=team.supervisor, version=1, colour="red")


# ---------------------------------------------------------------- move


def test_move_reorders_siblings_and_refuses_a_cycle(team, book):
    moved = services.code_move(
        code=book["cost"], user=team.supervisor, version=1, parent=book["gaps"], position=0
    )
    assert moved.parent_id == book["gaps"].pk
    order = list(Code.objects.filter(parent=book["gaps"]).order_by("position"))
    assert [c.name for c in order] == ["Cost", "Digital", "Soft"]
    with pytest.raises(ValidationError, match="under itself"):
        services.code_move(
            code=book["skills"], user=team.supervisor, version=None, parent=book["digital"]
        )


def test_move_through_the_api_and_to_the_top_level(team, api_for, book):
    client = api_for(team.supervisor)
    response = client.post(
        f"/api/codes/{book['soft'].pk}/move/", {"parent": None, "version": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["parent"] is None
    assert Code.objects.get(pk=book["soft"].pk).parent_id is None


# ---------------------------------------------------------------- merge and split


def test_merge_moves_codings_keeps_a_doubly_coded_span_once_and_retires_the_source(
    team, post, book
):
    coder, other = team.coders[0], team.coders[1]
    same_a = apply(post, book["digital"], coder, 0, 9)
    apply(post, book["soft"], coder, 0, 9)  # the same span, same coder: kept once after merge
    only_soft = apply(post, book["soft"], coder, 16, 30)
    others = apply(post, book["soft"], other, 0, 9)  # another coder's: kept
    summary = services.code_merge(source=book["soft"], target=book["digital"], user=team.supervisor)
    assert summary["moved"] == 2
    assert summary["duplicates_kept_once"] == 1
    target_codings = Coding.objects.filter(code=book["digital"])
    assert sorted(target_codings.values_list("pk", flat=True)) == sorted(
        [same_a.pk, only_soft.pk, others.pk]
    )
    assert not Code.objects.filter(pk=book["soft"].pk).exists()
    retired = Code.all_objects.get(pk=book["soft"].pk)
    assert retired.merged_into_id == book["digital"].pk
    change = Change.objects.filter(kind="code.merge").get()
    assert change.after["into"] == book["digital"].pk and change.before["name"] == "Soft"


def test_merge_moves_sub_codes_and_refuses_merging_into_own_child(team, book):
    with pytest.raises(ValidationError, match="its own codes"):
        services.code_merge(source=book["skills"], target=book["digital"], user=team.supervisor)
    services.code_merge(source=book["access"], target=book["skills"], user=team.supervisor)
    assert Code.objects.get(pk=book["cost"].pk).parent_id == book["skills"].pk


def test_split_moves_the_chosen_codings_to_a_new_sibling(team, api_for, post, book):
    keep = apply(post, book["digital"], team.coder, 0, 9)
    move = apply(post, book["digital"], team.coder, 16, 30)
    response = api_for(team.supervisor).post(
        f"/api/codes/{book['digital'].pk}/split/",
        {"name": "Data skills", "codings": [move.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    new = Code.objects.get(pk=response.json()["id"])
    assert new.parent_id == book["gaps"].pk
    assert Coding.objects.get(pk=move.pk).code_id == new.pk
    assert Coding.objects.get(pk=keep.pk).code_id == book["digital"].pk


# ---------------------------------------------------------------- delete and undo


def test_delete_is_soft_counts_what_it_touches_and_undo_restores_everything(
    team, api_for, post, book
):
    apply(post, book["digital"], team.coders[0], 0, 9)
    apply(post, book["soft"], team.coders[1], 5, 12)
    apply(post, book["cost"], team.coders[1], 5, 12)
    client = api_for(team.supervisor)
    impact = client.get(f"/api/codes/{book['gaps'].pk}/impact/").json()
    assert impact == {"codes": 3, "codings": 2, "coders": 2}
    deleted = client.delete(f"/api/codes/{book['gaps'].pk}/")
    assert deleted.status_code == 200
    assert deleted.json()["codings"] == 2
    assert Coding.objects.count() == 1  # only the Cost coding is live
    tree = client.get(f"/api/codes/tree/?project={team.project.slug}").json()
    assert [n["name"] for n in tree[0]["children"]] == []  # Skills has no live children
    assert client.get(f"/api/codings/?post={post.pk}").json()["count"] == 1
    # The name is free while deleted; restoring then clashes with a clear message.
    restored = client.post(f"/api/codes/{book['gaps'].pk}/restore/")
    assert restored.status_code == 200, restored.json()
    assert Coding.objects.count() == 3
    assert Code.objects.filter(parent=book["gaps"]).count() == 2


def test_restore_refuses_when_the_name_was_taken_meanwhile(team, book):
    services.code_delete(code=book["soft"], user=team.supervisor)
    services.code_create(project=team.project, name="Soft", parent=book["gaps"])
    with pytest.raises(ValidationError, match="already exists"):
        services.code_restore(code=book["soft"], user=team.supervisor)


def test_deleted_code_cannot_be_applied(team, api_for, post, book):
    services.code_delete(code=book["soft"], user=team.supervisor)
    response = api_for(team.coder).post(
        "/api/codings/",
        {"post": post.pk, "code": book["soft"].pk, "start": 0, "end": 4},
        format="json",
    )
    assert response.status_code == 400


# ---------------------------------------------------------------- history


def test_history_records_who_what_before_after_and_restore_puts_a_name_back(team, api_for, book):
    client = api_for(team.supervisor)
    client.patch(f"/api/codes/{book['cost'].pk}/", {"name": "Costs", "version": 1}, format="json")
    client.post(f"/api/codes/{book['cost'].pk}/move/", {"parent": book["skills"].pk}, format="json")
    history = client.get(f"/api/projects/{team.project.slug}/history/").json()
    kinds = [h["kind"] for h in history[:2]]
    assert kinds == ["code.move", "code.update"]
    rename = history[1]
    assert (rename["user"], rename["before"]["name"], rename["after"]["name"]) == (
        team.supervisor.username,
        "Cost",
        "Costs",
    )
    assert api_for(team.coder).post(f"/api/changes/{rename['id']}/revert/").status_code == 403
    reverted = client.post(f"/api/changes/{rename['id']}/revert/")
    assert reverted.status_code == 200, reverted.json()
    assert Code.objects.get(pk=book["cost"].pk).name == "Cost"
    client.post(f"/api/changes/{history[0]['id']}/revert/")
    assert Code.objects.get(pk=book["cost"].pk).parent_id == book["access"].pk


def test_history_is_private_to_members(team, api_for, book):
    response = api_for(team.outsider).get(f"/api/projects/{team.project.slug}/history/")
    assert response.status_code == 404


# ---------------------------------------------------------------- CSV exchange


def test_codebook_csv_round_trip_into_another_project(team, book):
    from coding_app.selectors import code_tree
    from tests.factories import ProjectFactory

    services.code_update(
        code=book["digital"], user=None, version=None, definition="Use of digital tools, “SQL”"
    )
    text = services.codebook_export_csv(project=team.project, tree=code_tree(project=team.project))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["path"] == "Skills" and rows[0]["level"] == "theme"
    assert {"path": "Skills > Skill gaps > Digital", "level": "code"}.items() <= rows[2].items()
    other = ProjectFactory()
    result = services.codebook_import_csv(project=other, text=text, user=None)
    assert result["created"] == 6
    copied = Code.objects.get(project=other, name="Digital")
    assert copied.parent.name == "Skill gaps"
    assert copied.definition == "Use of digital tools, “SQL”"
    again = services.codebook_import_csv(project=other, text=text, user=None)
    assert (again["created"], again["updated"]) == (0, 0)


def test_codebook_csv_bad_row_is_named_and_nothing_is_imported(team):
    text = "path,colour\nThemes > A,#112233\nThemes > B,red\n"
    with pytest.raises(ValidationError) as info:
        services.codebook_import_csv(project=team.project, text=text, user=None)
    assert "Row 3" in str(info.value)
    assert not Code.objects.filter(project=team.project).exists()


# ---------------------------------------------------------------- roles


def test_coders_may_add_codes_only_when_the_project_allows(team, api_for):
    team.project.coders_create_codes = False
    team.project.save()
    body = {"project": team.project.slug, "name": "In vivo"}
    denied = api_for(team.coder).post("/api/codes/", body, format="json")
    assert denied.status_code == 403
    assert "only supervisors add codes" in denied.json()["detail"]
    assert api_for(team.supervisor).post("/api/codes/", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/codes/{id}/", {"name": "X", "version": 1}),
        ("delete", "/api/codes/{id}/", None),
        ("post", "/api/codes/{id}/move/", {"parent": None}),
        ("post", "/api/codes/{id}/merge/", {"into": "{other}"}),
        ("post", "/api/codes/{id}/split/", {"name": "New", "codings": [1]}),
        ("post", "/api/codes/{id}/restore/", None),
    ],
)
def test_coder_cannot_change_the_codebook(team, api_for, book, method, path, body):
    code, other = book["soft"], book["digital"]
    if body and body.get("into"):
        body = {"into": other.pk}
    response = getattr(api_for(team.coder), method)(path.format(id=code.pk), body, format="json")
    assert response.status_code == 403
    assert Code.objects.get(pk=code.pk).name == "Soft"


def test_coder_with_a_queue_codes_only_assigned_posts_supervisor_any(team, api_for, post, book):
    elsewhere = PostFactory(project=team.project, text="Another post about access and cost.")
    Assignment.objects.create(post=post, coder=team.coder, position=0)
    body = {"code": book["digital"].pk, "start": 0, "end": 7}
    coder = api_for(team.coder)
    assert coder.post("/api/codings/", body | {"post": post.pk}, format="json").status_code == 201
    denied = coder.post("/api/codings/", body | {"post": elsewhere.pk}, format="json")
    assert denied.status_code == 403
    assert "not in your queue" in denied.json()["detail"]
    supervisor = api_for(team.supervisor)
    assert (
        supervisor.post("/api/codings/", body | {"post": elsewhere.pk}, format="json").status_code
        == 201
    )


# ---------------------------------------------------------------- memos and the queue


def test_coding_memo_is_written_by_its_coder_only(team, api_for, post, book):
    coding = apply(post, book["digital"], team.coders[0], 0, 9)
    url = f"/api/codings/{coding.pk}/"
    assert (
        api_for(team.coders[1]).patch(url, {"memo": "Not mine"}, format="json").status_code == 403
    )
    ok = api_for(team.coders[0]).patch(url, {"memo": "Strong claim"}, format="json")
    assert ok.status_code == 200 and ok.json()["memo"] == "Strong claim"
    span = api_for(team.coders[0]).patch(url, {"start": 1}, format="json")
    assert span.status_code == 400


def test_post_memos_one_per_member_hidden_from_other_coders_when_blind(team, api_for, post):
    url = f"/api/posts/{post.pk}/memos/"
    api_for(team.coders[0]).put(url, {"text": "Sarcastic tone?"}, format="json")
    api_for(team.coders[1]).put(url, {"text": "Mentions cost"}, format="json")
    api_for(team.coders[1]).put(url, {"text": "Mentions cost twice"}, format="json")
    assert len(api_for(team.supervisor).get(url).json()) == 2
    team.project.blind_coding = True
    team.project.save()
    seen = api_for(team.coders[0]).get(url).json()
    assert [m["text"] for m in seen] == ["Sarcastic tone?"]
    api_for(team.coders[0]).put(url, {"text": ""}, format="json")
    assert api_for(team.coders[0]).get(url).json() == []


def test_mark_coded_toggles_the_assignment(team, api_for, post):
    Assignment.objects.create(post=post, coder=team.coder, position=0)
    client = api_for(team.coder)
    assert client.post(f"/api/posts/{post.pk}/done/", {"done": True}, format="json").json()[
        "done_at"
    ]
    assert Assignment.objects.get().done_at is not None
    client.post(f"/api/posts/{post.pk}/done/", {"done": False}, format="json")
    assert Assignment.objects.get().done_at is None
    other = api_for(team.coders[1]).post(f"/api/posts/{post.pk}/done/", {}, format="json")
    assert other.status_code == 400


# ---------------------------------------------------------------- the live feed


def test_change_feed_carries_codings_and_codebook_changes_since_an_id(team, api_for, post, book):
    url = f"/api/projects/{team.project.slug}/changes/"
    start = api_for(team.coders[1]).get(url).json()["latest"]
    coding = apply(post, book["digital"], team.coders[0], 0, 9)
    services.code_update(code=book["soft"], user=team.supervisor, version=None, colour="#123456")
    feed = api_for(team.coders[1]).get(f"{url}?since={start}").json()
    kinds = [c["kind"] for c in feed["changes"]]
    assert kinds == ["coding.add", "code.update"]
    assert feed["changes"][0]["after"]["id"] == coding.pk
    assert feed["changes"][0]["after"]["coder"]["username"] == team.coders[0].username
    assert feed["latest"] == feed["changes"][-1]["id"]
    assert api_for(team.coders[1]).get(f"{url}?since={feed['latest']}").json()["changes"] == []
    assert api_for(team.coders[1]).get(f"{url}?since=abc").status_code == 400


def test_change_feed_hides_other_coders_codings_in_blind_mode(team, api_for, post, book):
    team.project.blind_coding = True
    team.project.save()
    url = f"/api/projects/{team.project.slug}/changes/"
    theirs = apply(post, book["digital"], team.coders[0], 0, 9)
    services.coding_remove(coding=theirs, user=team.coders[0])
    mine = apply(post, book["soft"], team.coders[1], 0, 9)
    feed = api_for(team.coders[1]).get(url).json()["changes"]
    coding_changes = [c for c in feed if c["kind"].startswith("coding.")]
    assert [c["coding"] for c in coding_changes] == [mine.pk]
    supervisor_feed = api_for(team.supervisor).get(url).json()["changes"]
    assert len([c for c in supervisor_feed if c["kind"].startswith("coding.")]) == 3


def test_codebook_csv_defuses_formulas_and_still_round_trips(team, book):
    from coding_app.selectors import code_tree
    from tests.factories import ProjectFactory

    services.code_update(
        code=book["cost"], user=None, version=None, definition='=HYPERLINK("http://x")'
    )
    text = services.codebook_export_csv(project=team.project, tree=code_tree(project=team.project))
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["path"] == "Access > Cost")
    assert row["definition"] == '\'=HYPERLINK("http://x")'
    other = ProjectFactory()
    services.codebook_import_csv(project=other, text=text, user=None)
    assert Code.objects.get(project=other, name="Cost").definition == '=HYPERLINK("http://x")'


def test_change_feed_for_one_post_leaves_out_other_posts_codings(team, api_for, post, book):
    other = PostFactory(project=team.project, text="Another post about access and cost.")
    url = f"/api/projects/{team.project.slug}/changes/"
    start = api_for(team.coders[1]).get(url).json()["latest"]
    here = apply(post, book["digital"], team.coders[0], 0, 9)
    services.code_update(code=book["soft"], user=team.supervisor, version=None, colour="#123456")
    apply(other, book["digital"], team.coders[0], 0, 7)
    feed = api_for(team.coders[1]).get(f"{url}?since={start}&post={post.pk}").json()
    assert [(c["kind"], c["coding"]) for c in feed["changes"]] == [
        ("coding.add", here.pk),
        ("code.update", None),
    ]
    # `latest` still moves past the other post's change, so it is not fetched again.
    assert feed["latest"] == Change.objects.latest("id").pk

"""Blind mode, endpoint by endpoint: a coder sees only their own codings in every page, API
endpoint, export and count, until a supervisor reveals them by switching blind mode off."""

import pytest
from django.contrib.auth import get_user_model

from analysis import services as analysis_services
from coding_app import services
from coding_app.models import Membership
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

SECRET = "PRIVATE-OF-CORA"


@pytest.fixture
def blind(team):
    post = PostFactory(
        project=team.project, text="Employers value digital skills over degrees, says the post."
    )
    theme = services.code_create(project=team.project, name="Skills")
    code = services.code_create(project=team.project, name="Digital skills", parent=theme)
    cora, cole = team.coders[0], team.coders[1]
    theirs, _ = services.coding_apply(
        post=post, code=code, coder=cora, start=16, end=30, memo=f"{SECRET} coding memo"
    )
    services.memo_set(post=post, user=cora, text=f"{SECRET} post memo")
    mine, _ = services.coding_apply(post=post, code=code, coder=cole, start=0, end=9)
    supervisor_job, _ = analysis_services.analysis_request(
        membership=Membership.objects.get(user=team.supervisor, project=team.project),
        kind="frequency",
        params={"scope": "code", "scope_id": theme.pk},
        user=team.supervisor,
        enqueue=False,
    )
    team.project.blind_coding = True
    team.project.save()
    return {
        "post": post,
        "theme": theme,
        "code": code,
        "theirs": theirs,
        "mine": mine,
        "job": supervisor_job,
        "cole": cole,
    }


URLS = [
    "/api/codings/",
    "/api/codings/?post={post}",
    "/api/codings/?coder={cora}",
    "/api/codings/{theirs}/",
    "/api/codes/tree/?project=study",
    "/api/codes/{theme}/quotes/",
    "/api/codes/{code}/quotes/?coder={cora}",
    "/api/projects/study/changes/",
    "/api/posts/{post}/memos/",
    "/api/analyses/{job}/",
    "/p/study/",
    "/p/study/posts/{post}/",
    "/p/study/codes/{theme}/",
    "/p/study/codes/{theme}/?coder={cora}",
    "/p/study/codes/{theme}/quotes.csv",
    "/p/study/codebook/",
    "/p/study/codebook.csv",
    "/p/study/queue/",
    "/p/study/analysis/",
    "/p/study/agreement/",
    "/p/study/agreement/posts/{post}/",
]


def fresh(user):
    """The user as a new request would load it (no cached memberships)."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.mark.parametrize("url", URLS)
def test_blind_coder_sees_no_trace_of_another_coders_coding(team, client, blind, url):
    client.force_login(blind["cole"])
    url = url.format(
        post=blind["post"].pk,
        cora=team.coders[0].pk,
        theirs=blind["theirs"].pk,
        theme=blind["theme"].pk,
        code=blind["code"].pk,
        job=blind["job"].pk,
    )
    response = client.get(url)
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() not in body, url
    if response.status_code == 200 and response["Content-Type"].startswith("application/json"):
        # No coding of Cora's by id anywhere in the answer.
        assert blind["theirs"].pk not in coding_ids(response.json()), url


def coding_ids(data) -> set[int]:
    """Every coding id a JSON answer holds: the id of any object with a span (start and end),
    and any value under a key that names a coding."""
    found: set[int] = set()
    if isinstance(data, dict):
        if {"start", "end"} <= set(data) and isinstance(data.get("id"), int):
            found.add(data["id"])
        for key, value in data.items():
            if key in ("coding", "coding_id", "consensus_coding") and isinstance(value, int):
                found.add(value)
            found |= coding_ids(value)
    elif isinstance(data, list):
        for item in data:
            found |= coding_ids(item)
    return found


def test_blind_coder_counts_and_lists_hold_only_their_own(team, api_for, blind):
    cole = api_for(fresh(blind["cole"]))
    listed = cole.get(f"/api/codings/?post={blind['post'].pk}").json()
    assert [c["id"] for c in listed["results"]] == [blind["mine"].pk]
    tree = cole.get("/api/codes/tree/?project=study").json()
    assert tree[0]["children"][0]["count"] == 1
    quotes = cole.get(f"/api/codes/{blind['theme'].pk}/quotes/").json()
    assert [q["id"] for q in quotes["results"]] == [blind["mine"].pk]
    assert cole.get(f"/api/codings/{blind['theirs'].pk}/").status_code == 404


def test_supervisor_reveals_by_switching_blind_mode_off(team, api_for, blind):
    url = f"/api/codings/?post={blind['post'].pk}"
    assert api_for(fresh(blind["cole"])).get(url).json()["count"] == 1
    assert api_for(fresh(team.supervisor)).get(url).json()["count"] == 2
    switched = api_for(fresh(team.supervisor)).patch(
        "/api/projects/study/", {"blind_coding": False}, format="json"
    )
    assert switched.status_code == 200
    assert api_for(fresh(blind["cole"])).get(url).json()["count"] == 2


def test_blind_coder_page_data_holds_only_their_codings(team, client, blind):
    client.force_login(blind["cole"])
    response = client.get(f"/p/study/posts/{blind['post'].pk}/")
    codings = response.context["page_data"]["codings"]
    assert [c["id"] for c in codings] == [blind["mine"].pk]
    assert response.context["page_data"]["sees_all"] is False

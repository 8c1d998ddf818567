"""The REST API: codings, membership and role checks, blind mode, errors, schema, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from coding_app.models import Code, Coding
from tests.factories import CodeFactory, CodingFactory, PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(team):
    return PostFactory(project=team.project, text="Employers value skills 🎓 over degrees.")


@pytest.fixture
def code(team):
    return CodeFactory(project=team.project, name="Skills")


def test_create_coding_returns_quote(team, api_for, post, code):
    text = post.text
    start = text.index("over")
    response = api_for(team.coder).post(
        "/api/codings/",
        {"post": post.pk, "code": code.pk, "start": start, "end": start + 12},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["quote"] == "over degrees"
    assert response.json()["coder"]["username"] == team.coder.username


def test_create_coding_again_returns_200_with_same_coding(team, api_for, post, code):
    client = api_for(team.coder)
    body = {"post": post.pk, "code": code.pk, "start": 0, "end": 9}
    first = client.post("/api/codings/", body, format="json")
    second = client.post("/api/codings/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(4, 4, "end"), (9, 2, "end"), (0, 999, "end"), (-2, 3, "start")],
)
def test_create_coding_with_bad_span_gets_400_with_field_message(
    team, api_for, post, code, start, end, field
):
    response = api_for(team.coder).post(
        "/api/codings/",
        {"post": post.pk, "code": code.pk, "start": start, "end": end},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"], body
    assert body["detail"]
    assert not Coding.objects.exists()


def test_create_coding_with_code_of_another_project_gets_400(team, api_for, post):
    foreign = CodeFactory()  # a project the coder is not in
    response = api_for(team.coder).post(
        "/api/codings/", {"post": post.pk, "code": foreign.pk, "start": 0, "end": 4}, format="json"
    )
    assert response.status_code == 400
    assert "code" in response.json()["errors"]


def test_create_coding_with_code_of_another_own_project_gets_400(team, api_for, post):
    from tests.factories import MembershipFactory

    other = MembershipFactory(user=team.coder).project
    foreign = CodeFactory(project=other)
    response = api_for(team.coder).post(
        "/api/codings/", {"post": post.pk, "code": foreign.pk, "start": 0, "end": 4}, format="json"
    )
    assert response.status_code == 400
    assert "another project" in response.json()["errors"]["code"][0]


def test_non_member_gets_404_for_every_object_of_a_project(team, api_for, post, code):
    coding = CodingFactory(post=post, code=code, coder=team.coder)
    client = api_for(team.outsider)
    for url in [
        f"/api/projects/{team.project.slug}/",
        f"/api/posts/{post.pk}/",
        f"/api/codes/{code.pk}/",
        f"/api/codings/{coding.pk}/",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.get(f"/api/codes/tree/?project={team.project.slug}").status_code == 404
    assert client.get("/api/posts/").json()["count"] == 0
    assert client.get("/api/codings/").json()["count"] == 0
    response = client.post(
        "/api/codings/", {"post": post.pk, "code": code.pk, "start": 0, "end": 4}, format="json"
    )
    assert response.status_code == 400  # the post is not one it may see: no hint that it exists
    assert not Coding.objects.filter(coder=team.outsider).exists()


def test_anonymous_gets_401_or_403(api_for, team):
    response = api_for(None).get("/api/posts/")
    assert response.status_code in (401, 403)


def test_blind_coder_cannot_fetch_another_coders_codings_by_any_url(team, api_for, post, code):
    mine = CodingFactory(post=post, code=code, coder=team.coders[0])
    theirs = CodingFactory(post=post, code=code, coder=team.coders[1], start=5, end=9)
    team.project.blind_coding = True
    team.project.save()
    client = api_for(team.coders[0])
    ids = {c["id"] for c in client.get("/api/codings/").json()["results"]}
    assert ids == {mine.pk}
    assert client.get(f"/api/codings/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/codings/?post={post.pk}").json()["count"] == 1
    assert client.get(f"/api/codings/?coder={team.coders[1].pk}").json()["count"] == 0
    tree = client.get(f"/api/codes/tree/?project={team.project.slug}").json()
    assert tree[0]["count"] == 1
    # A supervisor sees both.
    assert api_for(team.supervisor).get("/api/codings/").json()["count"] == 2


def test_coder_cannot_delete_another_coders_coding(team, api_for, post, code):
    theirs = CodingFactory(post=post, code=code, coder=team.coders[1])
    response = api_for(team.coders[0]).delete(f"/api/codings/{theirs.pk}/")
    assert response.status_code == 403
    assert Coding.objects.filter(pk=theirs.pk).exists()
    assert api_for(team.coders[1]).delete(f"/api/codings/{theirs.pk}/").status_code == 204


def test_codebook_roles_coder_adds_supervisor_renames_coder_cannot(team, api_for):
    coder, supervisor = api_for(team.coder), api_for(team.supervisor)
    created = coder.post(
        "/api/codes/",
        {"project": team.project.slug, "name": "In vivo", "colour": "#ffcc00"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    code_id = created.json()["id"]
    assert (
        coder.patch(
            f"/api/codes/{code_id}/", {"name": "X", "version": 1}, format="json"
        ).status_code
        == 403
    )
    renamed = supervisor.patch(
        f"/api/codes/{code_id}/", {"name": "In-vivo", "version": 1}, format="json"
    )
    assert renamed.status_code == 200, renamed.json()
    assert Code.objects.get(pk=code_id).name == "In-vivo"
    duplicate = coder.post(
        "/api/codes/", {"project": team.project.slug, "name": "in-vivo"}, format="json"
    )
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.json()["errors"]["name"][0]


def test_outsider_cannot_create_code_in_project(team, api_for):
    response = api_for(team.outsider).post(
        "/api/codes/", {"project": team.project.slug, "name": "Sneaky"}, format="json"
    )
    assert response.status_code == 404
    assert not Code.objects.filter(name="Sneaky").exists()


def test_supervisor_switches_blind_mode_coder_cannot(team, api_for):
    url = f"/api/projects/{team.project.slug}/"
    assert api_for(team.coder).patch(url, {"blind_coding": True}, format="json").status_code == 403
    response = api_for(team.supervisor).patch(url, {"blind_coding": True}, format="json")
    assert response.status_code == 200, response.json()
    team.project.refresh_from_db()
    assert team.project.blind_coding
    assert api_for(team.admin).patch(url, {"blind_coding": False}, format="json").status_code == 200


def test_only_admin_renames_project(team, api_for):
    url = f"/api/projects/{team.project.slug}/"
    response = api_for(team.supervisor).patch(url, {"name": "Mine now"}, format="json")
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]
    assert api_for(team.admin).patch(url, {"name": "Renamed"}, format="json").status_code == 200
    team.project.refresh_from_db()
    assert team.project.name == "Renamed"


def test_token_auth_works_for_scripts(team, post, code):
    from rest_framework.test import APIClient

    token = Token.objects.create(user=team.coder)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/posts/").json()["count"] == 1
    response = APIClient().post(
        "/api/token/", {"username": team.coder.username, "password": "pw-secret-123"}, format="json"
    )
    assert response.json()["token"] == token.key


def test_session_auth_requires_csrf(team, post, code):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.login(username=team.coder.username, password="pw-secret-123")
    response = client.post(
        "/api/codings/", {"post": post.pk, "code": code.pk, "start": 0, "end": 4}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_posts_filter_by_search_and_batch(team, api_for):
    PostFactory(project=team.project, text="Digital badges open access")
    PostFactory(project=team.project, text="Stackable credentials and employers")
    client = api_for(team.coder)
    found = client.get(f"/api/posts/?project={team.project.slug}&search=badges").json()
    assert [p["text"] for p in found["results"]] == ["Digital badges open access"]


def test_openapi_schema_builds_and_documents_codings(api_for, team):
    response = api_for(team.coder).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/codings/",
        "/api/posts/",
        "/api/codes/",
        "/api/projects/",
        "/api/import-batches/",
    ]:
        assert path in schema["paths"], path
    create = schema["paths"]["/api/codings/"]["post"]
    assert create["requestBody"]


def test_openapi_docs_page_uses_local_assets(client, team):
    client.force_login(team.coder)
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize(
    "url", ["/api/posts/", "/api/codings/", "/api/codes/", "/api/projects/", "/api/import-batches/"]
)
def test_list_endpoint_query_count_does_not_grow_with_rows(team, api_for, url):
    client = api_for(team.supervisor)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    code = CodeFactory(project=team.project)
    for _ in range(3):
        CodingFactory(post=PostFactory(project=team.project), code=code, coder=team.coder)
    few = count_queries()
    for i in range(20):
        CodingFactory(
            post=PostFactory(project=team.project),
            code=CodeFactory(project=team.project),
            coder=team.coders[i % 3],
        )
    assert count_queries() == few

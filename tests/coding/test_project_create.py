"""Starting a project from the projects page and the API: the creator becomes its admin, the
address is made from the name (or checked when given), and GROUNDED_PROJECT_CREATORS can
keep it to staff."""

import pytest

from coding_app.models import Membership, Project
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_any_user_starts_a_project_and_becomes_its_admin(client):
    user = UserFactory(username="ines")
    client.force_login(user)
    assert 'id="project-new"' in client.get("/").content.decode()
    response = client.post(
        "/new/",
        {"name": "  Hiring & badges  ", "description": "What do <b>recruiters</b> say?"},
    )
    project = Project.objects.get()
    assert (project.slug, project.name) == ("hiring-badges", "Hiring & badges")
    assert project.blind_coding is False
    assert response.status_code == 302 and response["Location"] == "/p/hiring-badges/imports/"
    assert Membership.objects.get(project=project).user == user
    assert Membership.objects.get(project=project).role == "admin"
    page = client.get("/", follow=True).content.decode()
    assert "What do &lt;b&gt;recruiters&lt;/b&gt; say?" in page
    assert client.get("/p/hiring-badges/members/").status_code == 200


def test_the_address_made_from_the_name_skips_taken_ones(client):
    ProjectFactory(slug="skills")
    ProjectFactory(slug="skills-2")
    client.force_login(UserFactory())
    client.post("/new/", {"name": "Skills"})
    client.post("/new/", {"name": "Skills!"})
    assert set(Project.objects.values_list("slug", flat=True)) == {
        "skills",
        "skills-2",
        "skills-3",
        "skills-4",
    }
    # A name with no Latin letters still gets an address.
    client.post("/new/", {"name": "微证书研究", "blind_coding": "on"})
    project = Project.objects.get(name="微证书研究")
    assert project.slug == "project" and project.blind_coding is True


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "  "}, "name", "Give the project a name."),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": "Study", "slug": "my study"}, "slug", "letters, digits, hyphens"),
        ({"name": "Study", "slug": "étude"}, "slug", "letters, digits, hyphens"),
        ({"name": "Study", "slug": "taken"}, "slug", "The address “taken” is taken"),
    ],
)
def test_a_refused_project_says_why_keeps_the_form_and_creates_nothing(
    client, data, field, message
):
    ProjectFactory(slug="taken")
    client.force_login(UserFactory())
    response = client.post("/new/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'name="{field}"' in page and 'aria-invalid="true"' in page
    assert data["name"].strip()[:50] in page  # what was typed is still there
    assert Project.objects.count() == 1


def test_staff_only_setting_hides_the_form_and_refuses_others(client, api_for, settings):
    settings.GROUNDED_PROJECT_CREATORS = "staff"
    user = UserFactory()
    client.force_login(user)
    assert 'id="project-new"' not in client.get("/").content.decode()
    assert client.post("/new/", {"name": "Study"}).status_code == 403
    assert api_for(user).post("/api/projects/", {"name": "Study"}).status_code == 403
    assert not Project.objects.exists()
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.post("/new/", {"name": "Study"}).status_code == 302
    assert Membership.objects.get(project__slug="study").user == staff


def test_api_creates_a_project_with_the_caller_as_admin(api_for):
    user = UserFactory()
    client = api_for(user)
    response = client.post(
        "/api/projects/",
        {"name": "Skills talk", "slug": "skills-talk", "blind_coding": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "skills-talk" and body["role"] == "admin"
    assert body["blind_coding"] is True and body["coders_create_codes"] is True
    assert client.get("/api/projects/skills-talk/").json()["role"] == "admin"

    again = client.post("/api/projects/", {"name": "Skills talk", "slug": "skills-talk"})
    assert again.status_code == 400
    assert "is taken" in again.json()["errors"]["slug"][0]
    made = client.post("/api/projects/", {"name": "Skills talk"}).json()
    assert made["slug"] == "skills-talk-2"
    assert client.post("/api/projects/", {"name": ""}).status_code == 400
    assert Project.objects.count() == 2


def test_anonymous_cannot_start_a_project(client, api_for):
    assert client.post("/new/", {"name": "Study"})["Location"].startswith("/login/")
    assert api_for(None).post("/api/projects/", {"name": "Study"}).status_code in (401, 403)
    assert not Project.objects.exists()

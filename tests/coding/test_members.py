"""The members page: everyone sees who is in the project; admins add, change and remove, and
the last admin cannot leave the project without one."""

import pytest

from coding_app.models import Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_members_page_lists_roles_and_hides_counts_from_a_blind_coder(team, client):
    team.project.blind_coding = True
    team.project.save()
    client.force_login(team.coder)
    response = client.get("/p/study/members/")
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("ada", "sam", "cora", "cole", "cleo"):
        assert name in text
    assert "hidden" in text
    assert "Add a member" not in text


def test_queue_progress_counts_coded_or_marked_posts_and_is_hidden_from_a_blind_coder(team, client):
    """As the queue page counts it: a queued post is coded once its coder coded in it or
    marked it coded. Under blind coding, other coders' progress is not shown to a coder."""
    from django.utils import timezone

    from coding_app.models import Assignment
    from tests.factories import CodingFactory, PostFactory

    posts = [PostFactory(project=team.project) for _ in range(3)]
    cole = team.coders[1]
    for post in posts:
        Assignment.objects.create(post=post, coder=cole)
    CodingFactory(post=posts[0], coder=cole)  # coded, not marked
    Assignment.objects.filter(post=posts[1]).update(done_at=timezone.now())  # marked only
    client.force_login(team.supervisor)
    assert "2 of 3 coded" in client.get("/p/study/members/").content.decode()
    client.force_login(cole)
    assert "2 of 3 coded" in client.get("/p/study/members/").content.decode()
    team.project.blind_coding = True
    team.project.save()
    client.force_login(team.coder)
    text = client.get("/p/study/members/").content.decode()
    assert "of 3 coded" not in text and "3 posts" in text and "(progress hidden)" in text


def test_admin_adds_changes_and_removes_a_member(team, client):
    newcomer = UserFactory(username="nina")
    client.force_login(team.admin)
    client.post("/p/study/members/", {"username": "NINA", "role": "coder"})
    assert Membership.objects.get(project=team.project, user=newcomer).role == "coder"
    client.post("/p/study/members/", {"username": "nina", "role": "supervisor"})
    assert Membership.objects.get(project=team.project, user=newcomer).role == "supervisor"
    client.post("/p/study/members/", {"username": "nina", "action": "remove"})
    assert not Membership.objects.filter(project=team.project, user=newcomer).exists()
    response = client.post("/p/study/members/", {"username": "ghost", "role": "coder"}, follow=True)
    assert "No account “ghost” on this server" in response.content.decode()


def test_last_admin_cannot_step_down(team, client):
    client.force_login(team.admin)
    response = client.post("/p/study/members/", {"username": "ada", "role": "coder"}, follow=True)
    assert "at least one admin" in response.content.decode()
    assert Membership.objects.get(project=team.project, user=team.admin).role == "admin"


@pytest.mark.parametrize("who", ["supervisor", "coder"])
def test_only_admins_manage_members(team, client, who):
    client.force_login(getattr(team, who))
    response = client.post("/p/study/members/", {"username": "cleo", "role": "admin"})
    assert response.status_code == 403
    assert Membership.objects.get(project=team.project, user=team.coders[2]).role == "coder"


def test_outsider_gets_404(team, client):
    client.force_login(team.outsider)
    assert client.get("/p/study/members/").status_code == 404


def test_admin_renames_the_project_and_edits_its_description(team, client):
    client.force_login(team.admin)
    page = client.get("/p/study/members/").content.decode()
    assert 'id="project-details"' in page
    response = client.post(
        "/p/study/members/",
        {"action": "settings", "name": " Badges <study> ", "description": "Why & how"},
        follow=True,
    )
    team.project.refresh_from_db()
    assert (team.project.name, team.project.description) == ("Badges <study>", "Why & how")
    assert "name and description are saved" in response.content.decode()
    assert "Badges &lt;study&gt;" in response.content.decode()
    assert team.project.slug == "study"
    for refused in ("", "x" * 201):
        response = client.post(
            "/p/study/members/", {"action": "settings", "name": refused}, follow=True
        )
        assert response.status_code == 200
        team.project.refresh_from_db()
        assert team.project.name == "Badges <study>"
    assert "at most 200 characters" in response.content.decode()


@pytest.mark.parametrize("who", ["supervisor", "coder"])
def test_only_admins_edit_the_project_details(team, client, who):
    client.force_login(team.supervisor if who == "supervisor" else team.coder)
    assert 'id="project-details"' not in client.get("/p/study/members/").content.decode()
    response = client.post("/p/study/members/", {"action": "settings", "name": "Taken over"})
    assert response.status_code == 403
    team.project.refresh_from_db()
    assert team.project.name == "Micro-credentials study"

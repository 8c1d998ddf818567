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
    assert "No user “ghost”" in response.content.decode()


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

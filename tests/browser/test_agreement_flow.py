"""Chromium: a supervisor reads the agreement heatmap, opens a post and accepts a coding
into the consensus layer."""

import pytest

from coding_app.models import Coding
from coding_app.services import code_create, coding_apply, consensus_coder
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_heatmap_to_side_by_side_to_consensus(page, live_server, login, team):
    post = PostFactory(
        project=team.project, text="Employers want digital skills and fair access to learning."
    )
    code = code_create(project=team.project, name="Skills", colour="#98df8a")
    a, b = team.coders[0], team.coders[1]
    coding_apply(post=post, code=code, coder=a, start=15, end=29)
    coding_apply(post=post, code=code, coder=b, start=15, end=40)
    login(team.supervisor.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/agreement/?coders={a.pk}&coders={b.pk}")
    cell = page.locator("#heatmap rect.heat-cell").first
    cell.wait_for()
    assert "agreement" in cell.locator("title").text_content()
    cell.click()
    page.wait_for_selector("#decisions")
    assert page.locator("#decisions tbody tr").count() == 2
    page.locator("#decisions tbody tr").first.locator("button[value=accept]").click()
    page.locator("#consensus-text mark.hl").wait_for()
    assert page.locator("#consensus-text mark.hl").inner_text() == "digital skills"
    assert Coding.objects.get(coder=consensus_coder(project=team.project)).quote == "digital skills"

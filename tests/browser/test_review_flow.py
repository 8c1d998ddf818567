"""Chromium: a supervisor opens the theme hierarchy, clicks a theme, reads its quotes, sets
its status, and downloads the findings report."""

import io

import pytest

from analysis.models import CodeReview
from coding_app.services import code_create, coding_apply
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hierarchy_quotes_status_and_report_download(page, live_server, login, team):
    post = PostFactory(
        project=team.project,
        text="Employers want digital skills <b>now</b>, and fees keep people out.",
        author="Ann Author",
    )
    skills = code_create(project=team.project, name="Skills", colour="#aec7e8")
    digital = code_create(project=team.project, name="Digital skills", parent=skills)
    access = code_create(project=team.project, name="Access", colour="#ffbb78")
    coding_apply(post=post, code=digital, coder=team.coders[0], start=15, end=29)
    start = post.text.index("<b>now</b>, and fees")
    coding_apply(post=post, code=access, coder=team.coders[1], start=start, end=start + 20)

    login(team.supervisor.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/review/")
    theme = page.locator('#hierarchy-chart g.node.level-theme:has-text("Skills") text.node-label')
    theme.wait_for()
    theme.click()
    page.locator("#panel-title").get_by_text("Skills").wait_for()
    quotes = page.locator("#panel-quotes li")
    quotes.first.wait_for()
    assert quotes.count() == 1
    assert "digital skills" in quotes.first.locator("blockquote").inner_text()
    assert f"/posts/{post.pk}/#coding-" in quotes.first.locator("a").get_attribute("href")
    assert "Ann Author" in quotes.first.inner_text() and "cora" in quotes.first.inner_text()

    page.locator("#node-panel button[data-status=approved]").click()
    page.locator("#node-panel").get_by_text("Saved: Approved.").wait_for()
    assert CodeReview.objects.get(code=skills).status == "approved"

    page.locator("[data-layout=sunburst]").click()
    page.locator("#hierarchy-chart svg[aria-label='Theme hierarchy as a sunburst']").wait_for()

    page.goto(f"{live_server.url}/p/{team.project.slug}/report/")
    assert "&lt;b&gt;" not in page.locator("#report-preview").inner_text()  # shown as text
    assert "<b>now</b>" in page.locator("#report-preview").inner_text()
    with page.expect_download() as info:
        page.click("#download-docx")
    download = info.value
    assert download.suggested_filename.startswith("findings-study-")
    assert download.suggested_filename.endswith(".docx")
    from docx import Document

    with open(download.path(), "rb") as handle:
        document = Document(io.BytesIO(handle.read()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Skills" in headings and "Access" in headings

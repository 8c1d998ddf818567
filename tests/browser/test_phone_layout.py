"""Chromium at a phone's width: no page of a project with posts, codes and codings is wider
than the screen (a wide table or figure scrolls inside itself, not the page)."""

import pytest

from coding_app import services
from coding_app.models import Assignment
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 420, "height": 860}
PAGES = [
    "",
    "posts/{post}/",
    "queue/",
    "codebook/",
    "sampling/",
    "analysis/",
    "agreement/",
    "review/",
    "review/?tab=cooc",
    "review/?tab=status",
    "review/saturation/",
    "report/",
    "imports/",
    "members/",
    "downloads/",
]


def test_no_page_is_wider_than_a_phone(page, live_server, login, team):
    theme = services.code_create(project=team.project, name="Recognition and value of badges")
    code = services.code_create(project=team.project, name="Employer recognition", parent=theme)
    posts = [
        PostFactory(
            project=team.project,
            external_id=f"urn:li:share:73458218268469903{i:02d}",
            text=f"Post {i}: employers weigh micro-credentials, badges and skills. " * 8,
        )
        for i in range(4)
    ]
    for post in posts:
        for coder in team.coders[:2]:
            Assignment.objects.create(post=post, coder=coder)
            services.coding_apply(post=post, code=code, coder=coder, start=0, end=40)
    login(team.supervisor.username)
    page.set_viewport_size(PHONE)
    too_wide = {}
    for path in PAGES:
        url = f"{live_server.url}/p/{team.project.slug}/{path.format(post=posts[0].pk)}"
        page.goto(url)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}

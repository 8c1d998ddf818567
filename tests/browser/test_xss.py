"""Chromium: stored XSS. Post text and author, code names and definitions, coding and post
memos, an import batch's file name, name and messages, a sample's name and the project's
description all hold script payloads; every page that shows them must show them as text.

Each payload sets `window.__xss` (and calls alert) if it ever runs; every page is checked
for both after its scripts have drawn it, and for the payload being visible as text (so a
page that simply left the data out would not pass for a safe one).
"""

import pytest

from analysis import services as analysis_services
from coding_app import services
from coding_app.models import Membership
from corpus.models import ImportBatch, Sample
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=1</script>'
BREAKOUT = '"\'><svg onload="window.__xss=1"></script><script>window.__xss=1</script>'
SHOWN = "<img src=x onerror="  # what a page shows when it shows the payload as text
JAVASCRIPT_URL = "javascript:window.__xss=1;alert(1)//"


@pytest.fixture
def hostile(team):
    project = team.project
    project.description = XSS
    project.save(update_fields=["description"])
    batch = ImportBatch.objects.create(
        project=project,
        created_by=team.admin,
        file_name=f"{XSS}.csv",
        name=BREAKOUT,
        status="succeeded",
        message=XSS,
        row_errors=[{"row": 2, "message": XSS}],
        rejected_count=1,
    )
    text = f"Employers value skills {XSS} and degrees {BREAKOUT} say managers."
    post = PostFactory(
        project=project,
        batch=batch,
        text=text,
        author=XSS,
        author_headline=BREAKOUT,
        url=JAVASCRIPT_URL,
    )
    theme = services.code_create(project=project, name=f"Theme {BREAKOUT}", definition=XSS)
    code = services.code_create(project=project, name=f"Code {XSS}", parent=theme, example=XSS)
    cora, cole = team.coders[0], team.coders[1]
    xss_at = text.index(XSS)
    for coder, (start, end) in ((cora, (0, 9)), (cole, (0, 22)), (cora, (xss_at, len(text)))):
        services.coding_apply(
            post=post, code=code, coder=coder, start=start, end=end, memo=f"memo {XSS}"
        )
    services.memo_set(post=post, user=cora, text=f"post memo {BREAKOUT} {XSS}")
    services.memo_set(post=post, user=team.supervisor, text=f"supervisor memo {XSS}")
    Sample.objects.create(
        project=project,
        name=XSS,
        method="systematic",
        k=1,
        start=1,
        pool_ids=[post.pk],
        post_ids=[post.pk],
        created_by=team.supervisor,
    )
    job, _ = analysis_services.analysis_request(
        membership=Membership.objects.get(user=team.supervisor, project=project),
        kind="frequency",
        params={"scope": "project", "min_length": 1},
        user=team.supervisor,
        enqueue=False,
    )
    analysis_services.analysis_run(job_id=job.pk)
    return {"post": post, "code": code, "theme": theme, "batch": batch, "cora": cora, "cole": cole}


def _visit_all(page, live_server, urls):
    """Load each page, let its scripts draw it, and report what went wrong."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    problems = []
    for url, ready in urls:
        dialogs.clear()
        response = page.goto(f"{live_server.url}{url}")
        if response.status != 200:
            problems.append(f"{url}: status {response.status}")
            continue
        page.wait_for_load_state("networkidle")
        if ready:
            page.locator(ready).first.wait_for()
        page.wait_for_timeout(200)
        if page.evaluate("window.__xss !== undefined"):
            problems.append(f"{url}: a payload ran (window.__xss is set)")
        if dialogs:
            problems.append(f"{url}: a dialog opened: {dialogs}")
        if SHOWN not in page.locator("body").inner_text():
            problems.append(f"{url}: the payload is not shown as text")
    return problems


def test_coder_pages_show_payloads_as_text(page, live_server, login, team, hostile):
    login(hostile["cora"].username)
    post, code, theme = hostile["post"], hostile["code"], hostile["theme"]
    problems = _visit_all(
        page,
        live_server,
        [
            ("/p/study/", None),
            (f"/p/study/posts/{post.pk}/", "#post-text mark.hl"),
            (f"/p/study/codes/{code.pk}/", None),
            (f"/p/study/codes/{theme.pk}/", None),
            ("/p/study/codebook/", None),
            ("/p/study/analysis/", None),
            ("/p/study/imports/", None),
            ("/p/study/sampling/", None),
        ],
    )
    assert not problems, "\n".join(problems)
    # The post page drew the highlights and stripes over the payload's characters.
    page.goto(f"{live_server.url}/p/study/posts/{post.pk}/")
    page.locator("#post-text mark.hl").first.wait_for()
    assert page.locator("#stripes *").count() > 0
    assert SHOWN in page.locator("#post-text").inner_text()
    page.locator("#post-text mark.hl").last.click()  # the popover lists codings and memos
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss === undefined")


def test_supervisor_pages_show_payloads_as_text(page, live_server, login, team, hostile):
    login(team.supervisor.username)
    post, cora, cole = hostile["post"], hostile["cora"], hostile["cole"]
    problems = _visit_all(
        page,
        live_server,
        [
            (f"/p/study/posts/{post.pk}/", "#post-text mark.hl"),
            ("/p/study/codebook/", None),
            (f"/p/study/codes/{hostile['code'].pk}/", None),
            (f"/p/study/agreement/?coders={cora.pk}&coders={cole.pk}", "#heatmap rect"),
            (f"/p/study/agreement/posts/{post.pk}/?a={cora.pk}&b={cole.pk}", None),
            ("/p/study/analysis/", None),
        ],
    )
    assert not problems, "\n".join(problems)


def test_admin_pages_show_payloads_as_text(page, live_server, login, team, hostile):
    login(team.admin.username)
    problems = _visit_all(page, live_server, [("/p/study/imports/", None), ("/p/study/", None)])
    assert not problems, "\n".join(problems)


def test_post_source_link_is_only_ever_http(page, live_server, login, team, hostile):
    login(hostile["cora"].username)
    page.goto(f"{live_server.url}/p/study/posts/{hostile['post'].pk}/")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")], hrefs

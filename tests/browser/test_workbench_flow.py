"""The coding workbench in Chromium: an emoji span, the keyboard-only loop, another coder's
coding arriving live, blind mode hiding it, and highlights following a merge."""

import pytest

from coding_app import services
from coding_app.models import Assignment, Coding
from tests.browser.test_coding_flow import drag_select
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_WAIT_MS = 5000  # the promise: within 5 seconds, without a reload


@pytest.fixture
def codebook(team):
    theme = services.code_create(project=team.project, name="Skills", colour="#aec7e8")
    digital = services.code_create(
        project=team.project, name="Digital skills", parent=theme, colour="#98df8a"
    )
    soft = services.code_create(
        project=team.project, name="Soft skills", parent=theme, colour="#ff9896"
    )
    return {"theme": theme, "digital": digital, "soft": soft}


def rgb(hex_colour):
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_span_containing_an_emoji_is_coded_exactly(page, live_server, login, team, codebook):
    post = PostFactory(project=team.project, text="Proud 🎓🚀 of our team. Badges 🏅 help hiring.")
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    drag_select(page, "Badges 🏅 help")
    page.wait_for_selector("#code-menu:not([hidden])")
    page.locator(f'.code-option[data-code="{codebook["digital"].pk}"]').click()
    page.locator("mark.hl").first.wait_for()
    coding = Coding.objects.get()
    assert coding.quote == "Badges 🏅 help"
    assert post.text[coding.start : coding.end] == "Badges 🏅 help"
    assert page.locator("mark.hl").inner_text() == "Badges 🏅 help"
    # One stripe lane for the code, labelled with its name.
    assert page.locator("#stripes rect.stripe").count() == 1
    assert page.locator("#stripes .stripe-label").text_content() == "Digital skills"


def test_keyboard_only_loop_select_apply_pinned_mark_coded_next(
    page, live_server, login, team, codebook
):
    first = PostFactory(project=team.project, text="Employers ask for digital skills first.")
    second = PostFactory(project=team.project, text="Soft skills matter as much.")
    for position, post in enumerate([first, second]):
        Assignment.objects.create(post=post, coder=team.coder, position=position)
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{first.pk}/")
    assert "Post 1 of 2" in page.locator("#queue-position").inner_text()

    # Keyboard selection: caret to the start, then Shift+Ctrl+Right over two words.
    page.locator("#post-text").focus()
    page.keyboard.press("Control+Home")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_selector("#code-menu:not([hidden])")
    page.keyboard.type("soft")
    page.keyboard.press("Enter")
    page.locator("mark.hl").first.wait_for()
    coding = Coding.objects.get()
    assert coding.code_id == codebook["soft"].pk
    assert coding.quote.strip() == "Employers ask"

    # A pinned code by number: the first pinned code is the first leaf, Digital skills.
    page.locator("#post-text").focus()
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+Shift+ArrowLeft")
    page.keyboard.press("Control+Shift+ArrowLeft")
    page.keyboard.press("1")
    page.wait_for_function("document.querySelectorAll('#coding-list li').length === 2")
    pinned = Coding.objects.exclude(pk=coding.pk).get()
    assert pinned.code_id == codebook["digital"].pk

    page.keyboard.press("Alt+d")
    page.wait_for_selector("#mark-done[aria-pressed=true]")
    assert Assignment.objects.get(post=first).done_at is not None
    page.keyboard.press("Alt+ArrowRight")
    page.wait_for_url(f"{live_server.url}/p/{team.project.slug}/posts/{second.pk}/")
    assert "1 of 2 coded" in page.locator("#queue-done").inner_text()


def test_another_coders_coding_appears_live(page, live_server, login, team, codebook):
    post = PostFactory(project=team.project, text="Employers value digital skills over degrees.")
    login(team.coders[0].username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    page.wait_for_selector("#coding-empty:not([hidden])")
    services.coding_apply(
        post=post, code=codebook["digital"], coder=team.coders[1], start=16, end=30
    )
    page.locator("mark.hl").wait_for(timeout=LIVE_WAIT_MS)
    assert page.locator("mark.hl").inner_text() == "digital skills"
    assert team.coders[1].username in page.locator("#coding-list").inner_text()


def test_blind_mode_hides_another_coders_coding(page, live_server, login, team, codebook):
    team.project.blind_coding = True
    team.project.save()
    post = PostFactory(project=team.project, text="Employers value digital skills over degrees.")
    services.coding_apply(post=post, code=codebook["digital"], coder=team.coders[1], start=0, end=9)
    login(team.coders[0].username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    assert page.locator(".codings .tag").inner_text() == "yours only"
    services.coding_apply(post=post, code=codebook["soft"], coder=team.coders[1], start=16, end=30)
    # Wait past two polls: nothing of the other coder's may arrive.
    page.wait_for_timeout(LIVE_WAIT_MS + 500)
    assert page.locator("mark.hl").count() == 0
    assert page.locator("#coding-list li").count() == 0
    assert team.coders[1].username not in page.content()


def test_merging_two_codes_moves_the_highlights_live(page, live_server, login, team, codebook):
    post = PostFactory(project=team.project, text="Employers value digital skills over degrees.")
    services.coding_apply(post=post, code=codebook["soft"], coder=team.coders[0], start=16, end=30)
    login(team.coders[0].username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    mark = page.locator("mark.hl")
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") == rgb("#ff9896")
    services.code_merge(source=codebook["soft"], target=codebook["digital"], user=team.supervisor)
    page.wait_for_function(
        "c => getComputedStyle(document.querySelector('mark.hl')).backgroundColor === c",
        arg=rgb("#98df8a"),
        timeout=LIVE_WAIT_MS,
    )
    assert "Skills › Digital skills" in page.locator("#coding-list").inner_text()
    assert page.locator("#stripes .stripe-label").text_content() == "Digital skills"


def test_memos_on_a_coding_and_on_the_post(page, live_server, login, team, codebook):
    from coding_app.models import Memo

    post = PostFactory(project=team.project, text="Employers value digital skills over degrees.")
    coding, _ = services.coding_apply(
        post=post, code=codebook["digital"], coder=team.coder, start=16, end=30
    )
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    page.get_by_role("button", name="Add memo").click()
    page.get_by_label("Memo on this coding").fill("Hiring managers say this <b>often</b>")
    page.get_by_role("button", name="Save memo").first.click()
    page.locator("#coding-list .memo").wait_for()
    assert page.locator("#coding-list .memo").inner_text() == (
        "Memo: Hiring managers say this <b>often</b>"
    )
    coding.refresh_from_db()
    assert coding.memo == "Hiring managers say this <b>often</b>"
    page.fill("#memo-text", "Check the author's sector.")
    page.locator("#memo-form button").click()
    page.wait_for_selector("#status:has-text('memo on this post is saved')")
    assert Memo.objects.get(post=post, author=team.coder).text == "Check the author's sector."
    # A click on the highlight lists its codings with the memo.
    page.locator("mark.hl").click()
    assert "Hiring managers" in page.locator("#coding-popover").inner_text()


def test_codebook_change_reaches_an_open_post_page(page, live_server, login, team, codebook):
    post = PostFactory(project=team.project, text="Employers value digital skills over degrees.")
    services.coding_apply(post=post, code=codebook["soft"], coder=team.coder, start=16, end=30)
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    services.code_update(
        code=codebook["soft"], user=team.supervisor, version=None, name="People skills"
    )
    page.locator("aside.codebook >> text=People skills").wait_for(timeout=LIVE_WAIT_MS)
    assert "Skills › People skills" in page.locator("#coding-list").inner_text()

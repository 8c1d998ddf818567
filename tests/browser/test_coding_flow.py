"""Headless Chromium clicks through real pages: log in, select a span, apply a code, import."""

import re
import unicodedata

import pytest
from playwright.sync_api import expect

from coding_app import services
from coding_app.models import Coding
from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SELECT_WITH_MOUSE_POINTS = """
(passage) => {
  const el = document.getElementById('post-text');
  const text = el.textContent;
  const at = text.indexOf(passage);
  if (at < 0) throw new Error('passage not on the page');
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  function point(offset) {
    let node, left = offset;
    while ((node = walker.nextNode())) {
      if (left < node.data.length) return [node, left];
      left -= node.data.length;
    }
    throw new Error('offset past the text');
  }
  const rectOf = (offset, width) => {
    walker.currentNode = el;
    const [node, i] = point(offset);
    const r = document.createRange();
    r.setStart(node, i); r.setEnd(node, i + width);
    const rects = r.getClientRects();
    return rects[rects.length - 1];
  };
  const first = rectOf(at, 1);
  const lastWidth = /[\\uDC00-\\uDFFF]/.test(passage.at(-1)) ? 2 : 1;
  const last = rectOf(at + passage.length - lastWidth, lastWidth);
  // In right-to-left script a character's logical start is its right edge.
  const rtl = /[\u0590-\u08ff]/.test(passage);
  return {x1: rtl ? first.right - 1 : first.left + 1, y1: first.top + first.height / 2,
          x2: rtl ? last.left + 1 : last.right - 1, y2: last.top + last.height / 2};
}
"""


@pytest.fixture
def codebook(team):
    theme = services.code_create(project=team.project, name="Skills", colour="#aec7e8")
    sub = services.code_create(
        project=team.project, name="Skill gaps", parent=theme, colour="#ffbb78"
    )
    leaf = services.code_create(
        project=team.project, name="Digital skills", parent=sub, colour="#98df8a"
    )
    return {"theme": theme, "sub": sub, "leaf": leaf}


def drag_select(page, passage):
    p = page.evaluate(SELECT_WITH_MOUSE_POINTS, passage)
    page.mouse.move(p["x1"], p["y1"])
    page.mouse.down()
    page.mouse.move((p["x1"] + p["x2"]) / 2, (p["y1"] + p["y2"]) / 2, steps=3)
    page.mouse.move(p["x2"], p["y2"], steps=3)
    page.mouse.up()


def test_coder_selects_span_with_mouse_applies_code_and_it_persists(
    page, live_server, login, team, codebook
):
    post = PostFactory(
        project=team.project,
        text="Employers now ask for digital skills first.\nDegrees still open doors, but badges help.",
    )
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    drag_select(page, "digital skills")
    page.wait_for_selector("#code-menu:not([hidden])")
    page.keyboard.type("digital")
    page.keyboard.press("Enter")

    mark = page.locator("mark.hl")
    mark.wait_for()
    assert mark.inner_text() == "digital skills"
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") == "rgb(152, 223, 138)"
    coding = Coding.objects.get()
    assert (coding.quote, coding.code_id, coding.coder_id) == (
        "digital skills",
        codebook["leaf"].pk,
        team.coder.pk,
    )

    page.reload()
    assert page.locator("mark.hl").inner_text() == "digital skills"
    assert "Skills › Skill gaps › Digital skills" in page.locator("#coding-list").inner_text()

    # The quote is listed on the theme's page, with a link back to its post.
    page.goto(f"{live_server.url}/p/{team.project.slug}/codes/{codebook['theme'].pk}/")
    assert "digital skills" in page.locator(".quotes").inner_text()
    page.locator(".quotes a").first.click()
    page.wait_for_url(re.compile(rf"/posts/{post.pk}/#coding-{coding.pk}$"))
    page.locator("mark.hl").wait_for()


def test_the_queue_count_above_a_post_follows_the_coders_work(
    page, live_server, login, team, codebook
):
    from coding_app.models import Assignment

    posts = [
        PostFactory(project=team.project, text=f"Post {i}: employers ask for digital skills.")
        for i in range(3)
    ]
    for position, post in enumerate(posts):
        Assignment.objects.create(post=post, coder=team.coder, position=position)
    Assignment.objects.filter(post=posts[2]).update(done_at="2026-01-01T00:00:00Z")
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/queue/")
    page.click("#queue-next")  # the first post not coded yet
    page.wait_for_url(re.compile(rf"/posts/{posts[0].pk}/\?queue=1$"))
    done = page.locator("#queue-done")
    expect(done).to_have_text("1 of 3 coded")
    drag_select(page, "digital skills")
    page.wait_for_selector("#code-menu:not([hidden])")
    page.keyboard.type("digital")
    page.keyboard.press("Enter")
    expect(done).to_have_text("2 of 3 coded")  # as the queue page counts it
    assert page.locator("#queue-progress").evaluate("p => p.value") == 2
    page.locator("#coding-list .remove").click()
    expect(done).to_have_text("1 of 3 coded")
    page.click("#mark-done")
    expect(done).to_have_text("2 of 3 coded")
    page.goto(f"{live_server.url}/p/{team.project.slug}/queue/")
    assert "2 of 3" in page.locator(".lead").inner_text()


def test_a_post_coded_to_forty_codes_keeps_its_text_wide(page, live_server, login, team):
    """One stripe lane per code: forty lanes are wider than the card, so they scroll
    sideways instead of squeezing the text into a narrow column (NVivo's real export codes
    one long document to 43 codes)."""
    text = " ".join(f"Sentence {i} about skills and access." for i in range(60))
    post = PostFactory(project=team.project, text=text)
    for i in range(40):
        code = services.code_create(project=team.project, name=f"Code {i:02d}")
        services.coding_apply(post=post, code=code, coder=team.coder, start=i * 30, end=i * 30 + 20)
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    page.locator("#stripes rect.stripe").first.wait_for()
    assert page.locator("#stripes rect.stripe").count() == 40
    width = page.locator("#post-text").evaluate("el => el.getBoundingClientRect().width")
    assert width >= 30 * 16  # 30rem: before, the lanes left the text a third of the card
    assert page.locator("#stripes.many").count() == 1
    overflow = page.locator("#stripes").evaluate("el => getComputedStyle(el).overflowX")
    assert overflow == "auto"


UNICODE_CASES = {
    "after-emoji": (
        "Great news 🎓🚀 our micro-credential pilot starts today!",
        "our micro-credential",
    ),
    "combining-accents": (
        "Cafe\u0301 owners and Zoe\u0308 say the re\u0301sume\u0301 matters",
        "Zoë say the résumé",
    ),
    "right-to-left": (
        "Skills matter. المهارات الرقمية مهمة جدا للعمل. Access too.",
        "الرقمية مهمة",
    ),
    "math-bold": (
        "𝗪𝗛𝗔𝗧? A 10-day course. 𝗪𝗛𝗬? Skills for access 𝗡𝗢𝗪",
        "𝗪𝗛𝗬? Skills for access 𝗡𝗢𝗪",
    ),
}


@pytest.mark.parametrize("case", list(UNICODE_CASES))
def test_selected_unicode_text_is_saved_exactly(page, live_server, login, team, codebook, case):
    text, passage = (unicodedata.normalize("NFC", s) for s in UNICODE_CASES[case])
    post = PostFactory(project=team.project, text=text)
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/posts/{post.pk}/")
    drag_select(page, passage)
    page.wait_for_selector("#code-menu:not([hidden])")
    page.locator(f'.code-option[data-code="{codebook["leaf"].pk}"]').click()
    page.locator("mark.hl").first.wait_for()
    coding = Coding.objects.get()
    assert coding.quote == passage
    assert post.text[coding.start : coding.end] == passage
    assert page.locator("#coding-list .quote").inner_text() == passage


def test_wrong_password_in_browser_shows_error(page, live_server, team):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", team.coder.username)
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "didn't match" in page.locator("[role=alert]").inner_text()


@pytest.mark.integration
def test_admin_imports_csv_in_browser_and_sees_progress_then_counts(
    page, live_server, login, team, tmp_path, celery_worker
):
    path = tmp_path / "batch.csv"
    rows = ["id,text,author"] + [
        f"{i},Post {i}: learners want skills and access to credentials {i},A" for i in range(20000)
    ]
    rows.append("x,,nobody")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    login(team.admin.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.click("#import-form button[type=submit]")
    # The column mapping page previews the first rows with the detected columns chosen.
    assert page.locator("select[name=map_text]").input_value() == "text"
    assert "learners want skills" in page.locator("table.preview").inner_text()
    # The preview's header names the field each column is chosen for, as the choice changes.
    expect(page.locator("table.preview th[data-column=text] .as")).to_have_text("→ Post text")
    author = page.locator("table.preview th[data-column=author] .as")
    page.select_option("select[name=map_author]", "author")
    expect(author).to_have_text("→ Author")
    page.select_option("select[name=map_author]", "")
    expect(author).to_have_text("")
    expect(page.locator("table.preview td.mapped")).to_have_count(2 * 8)  # text and id, 8 rows
    page.click("#mapping-form button.primary")
    row = page.locator("tr[data-batch]").first
    row.wait_for()
    assert row.locator("progress").count() == 1  # drawn while the job is queued or running
    page.wait_for_function(
        "document.querySelector('tr[data-batch] .job-status')?.textContent.trim() === 'Succeeded'",
        timeout=120_000,
    )
    row = page.locator("tr[data-batch]").first
    assert row.locator('[data-field="imported_count"]').inner_text() == "20000"
    assert row.locator('[data-field="rejected_count"]').inner_text() == "1"
    row.locator("details summary").click()
    assert "Row 20002: text is empty" in row.locator("details").inner_text()

"""Chromium: run a word frequency query, see the cloud and table, open and re-root a word tree,
export figures, and draw a recorded sample from the criteria page."""

import pytest

from tests.factories import PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = [
    "Skills gaps are real. Employers want skills, not degrees.",
    "Micro-credentials widen access to learning. Access matters for adults!",
    "Skills gaps hurt workers. Closing skills gaps takes access to training.",
    "Employers say badges show skills quickly.",
]


def test_frequency_cloud_table_word_tree_reroot_and_svg_export(page, live_server, login, team):
    for text in TEXTS:
        PostFactory(project=team.project, text=text)
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/analysis/")
    page.click("#frequency-form button[type=submit]")
    page.locator("#cloud svg text.cloud-word").first.wait_for()
    words = page.locator("#cloud svg text.cloud-word").evaluate_all(
        "ts => ts.map(t => t.dataset.word)"
    )
    assert "skills" in words

    page.click(".tabs button[data-tab=table]")
    first_row = page.locator("#freq-table tbody tr").first
    assert first_row.locator(".word-link").inner_text() == "skills"
    assert first_row.locator("td").nth(2).inner_text() == "5"

    with page.expect_download() as download_info:
        page.click("[data-export=table-csv]")
    csv_text = open(download_info.value.path(), encoding="utf-8-sig").read()
    assert csv_text.splitlines()[1].startswith("1,skills,5,")

    first_row.locator(".word-link").click()
    page.locator("#tree svg text.root").wait_for()
    assert page.locator("#tree svg text.root").get_attribute("data-phrase") == "skills"
    assert page.locator("#kwic tbody tr").count() == 5

    page.locator('#tree svg text.branch.right[data-phrase^="gaps"]').first.click()
    page.locator("#branch-panel").wait_for()
    page.click("#reroot")
    page.wait_for_function(
        "document.querySelector('#tree svg text.root')?.dataset.phrase === 'skills gaps'"
    )
    assert page.locator("#word-root").inner_text() == "skills gaps"

    with page.expect_download() as download_info:
        page.click("[data-export=tree-svg]")
    svg = open(download_info.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and "skills gaps" in svg


OVERLAP_FREE = """
() => {
  const GAP = 4;
  const boxes = [...document.querySelectorAll('#tree svg text')].map((t) => {
    const b = t.getBBox();
    return { phrase: t.dataset.phrase, x0: b.x, x1: b.x + b.width, y0: b.y, y1: b.y + b.height };
  });
  const clashes = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      // Phrases that share columns keep at least GAP pixels between their lines.
      if (a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 + GAP && b.y0 < a.y1 + GAP) {
        clashes.push([a.phrase, b.phrase]);
      }
    }
  return { count: boxes.length, clashes };
}
"""


def test_word_tree_phrases_never_overlap(page, live_server, login, team):
    """A long phrase one word from the root sits next to a branch that goes on for more
    words: each keeps a line of its own (they were drawn half a line apart, overlapping)."""
    for text in [
        "I spoke about vibe coding at a school.",
        "Muscle to debug when vibe coding stalls.",
        "Switch modes deliberately vibe coding helps.",
        "And time is scarce ai-assisted coding wins.",
        "What is vibe coding anyway.",
        "Detailed coding rules matter.",
    ]:
        PostFactory(project=team.project, text=text)
    login(team.coder.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/analysis/")
    page.click("#frequency-form button[type=submit]")
    page.locator("#cloud svg text.cloud-word").first.wait_for()
    page.click(".tabs button[data-tab=table]")
    page.locator("#freq-table .word-link", has_text="coding").click()
    page.locator("#tree svg text.root").wait_for()
    layout = page.evaluate(OVERLAP_FREE)
    assert layout["count"] >= 10  # root, "vibe", its four phrases, and the rest
    assert layout["clashes"] == []


@pytest.fixture
def pool_of_50(team):
    """45 posts of 112 words, an hour apart, and 5 of 3 words."""
    from datetime import UTC, datetime, timedelta

    for i in range(45):
        PostFactory(
            project=team.project,
            text=f"Post {i} " + "skills " * 110,
            word_count=112,
            posted_at=datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=i),
        )
    for i in range(5):
        PostFactory(project=team.project, text=f"Short post {i}", word_count=3)


def test_supervisor_draws_sample_from_live_criteria(page, live_server, login, team, pool_of_50):
    login(team.supervisor.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/sampling/")
    assert page.locator("#pool-count").inner_text() == "50"
    page.fill("input[name=min_words]", "100")
    page.wait_for_function("document.getElementById('pool-count').textContent === '45'")
    page.click("#criteria-form button[type=submit]")
    page.fill("#sample-form input[name=name]", "Study sample")
    page.fill("#sample-form input[name=k]", "3")
    page.fill("#sample-form input[name=start]", "2")
    page.click("#sample-form button[type=submit]")
    assert "Sample “Study sample” recorded" in page.locator(".messages").inner_text()
    sentence = page.locator("#methods-sentence").inner_text()
    assert sentence.startswith("45 posts met the criteria (at least 100 words)")
    assert "15 posts" in sentence
    page.click("#assign-form button[type=submit]")
    assert "Assigned 15 posts to 3 coders" in page.locator(".messages").inner_text()


def test_a_sample_is_drawn_from_the_criteria_as_typed_with_a_seed_drawn_for_it(
    page, live_server, login, team, pool_of_50
):
    """Criteria typed (counted live) but not applied with "Show the posts" still decide the
    pool the sample comes from, and the heading of the draw form counts the same pool."""
    login(team.supervisor.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/sampling/")
    assert page.locator("#draw-count").inner_text() == "50"
    page.fill("input[name=min_words]", "100")
    page.wait_for_function("document.getElementById('draw-count').textContent === '45'")
    page.fill("#sample-form input[name=name]", "Typed criteria")
    page.fill("#sample-form input[name=k]", "3")
    page.click("#sample-form button[type=submit]")
    message = page.locator(".messages").inner_text()
    assert "Sample “Typed criteria” recorded" in message and "drawn for you" in message
    sentence = page.locator("#methods-sentence").inner_text()
    assert sentence.startswith("45 posts met the criteria (at least 100 words)")
    sample = team.project.samples.get()
    assert len(sample.pool_ids) == 45 and len(sample.post_ids) == 15
    assert sample.seed is not None and f"seed {sample.seed}" in message

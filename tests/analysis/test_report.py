"""The findings report: its content, the three exports (escaping in each) and the figures."""

import io
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from analysis import report as reports
from analysis.models import AnalysisJob
from coding_app.models import Membership
from coding_app.services import code_create, coding_apply, consensus_coder
from corpus.models import Sample
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

NASTY = "Badges <script>alert('x')</script> *matter* to _hiring_ [managers](http://evil) & # more"


@pytest.fixture
def study(team):
    p = team.project
    skills = code_create(project=p, name="Skills", definition="What people can do.")
    gaps = code_create(project=p, name="Skill gaps", parent=skills, definition="What they lack.")
    digital = code_create(project=p, name="Digital", parent=gaps)
    access = code_create(project=p, name="Access <b>bold</b>")
    post = PostFactory(project=p, text=NASTY, author="Ann <i>Author</i>", external_id="li-42")
    other = PostFactory(project=p, text="Fees are a barrier. Digital skills matter.", author="Bo")
    cora, cole = team.coders[0], team.coders[1]
    coding_apply(post=post, code=digital, coder=cora, start=0, end=len(NASTY))
    coding_apply(
        post=post, code=digital, coder=cole, start=0, end=len(NASTY)
    )  # same span: quoted once
    coding_apply(post=other, code=access, coder=cora, start=0, end=19)
    coding_apply(post=other, code=gaps, coder=cole, start=20, end=41)
    return {
        "skills": skills,
        "gaps": gaps,
        "digital": digital,
        "access": access,
        "post": post,
        "other": other,
    }


def build(team, **options):
    membership = Membership.objects.get(project=team.project, user=team.supervisor)
    return reports.report_build(membership=membership, **options)


def test_report_content_per_theme(team, study):
    report = build(team)
    assert [t["name"] for t in report["themes"]] == ["Skills", "Access <b>bold</b>"]
    skills = report["themes"][0]
    assert skills["definition"] == "What people can do."
    assert skills["counts"] == {"quotes": 3, "posts": 2, "coders": 2}
    assert [c["name"] for c in skills["children"]] == ["Skill gaps"]
    assert skills["children"][0]["children"][0]["counts"]["quotes"] == 2
    # A span two coders coded is quoted once; one quote per post before a second.
    assert [q["post"] for q in skills["quotes"]] == [study["post"].pk, study["other"].pk]
    quote = next(q for q in skills["quotes"] if q["post"] == study["post"].pk)
    assert (
        quote["text"] == NASTY
        and quote["external_id"] == "li-42"
        and quote["author"] == "Ann <i>Author</i>"
    )
    assert report["agreement"] is None and report["samples"] == []


def test_report_theme_choice_quote_limit_and_consensus_layer(team, study):
    only_access = build(team, theme_ids=[study["access"].pk], quote_limit=0)
    assert [t["name"] for t in only_access["themes"]] == ["Access <b>bold</b>"]
    assert only_access["themes"][0]["quotes"] == []
    assert build(team, theme_ids=[])["themes"] == []
    assert len(build(team, quote_limit=1)["themes"][0]["quotes"]) == 1
    consensus = consensus_coder(project=team.project)
    coding_apply(post=study["other"], code=study["gaps"], coder=consensus, start=20, end=34)
    layered = build(team, layer="consensus")
    skills = layered["themes"][0]
    assert [q["text"] for q in skills["quotes"]] == ["Digital skills"]
    assert skills["counts"] == {"quotes": 1, "posts": 1, "coders": 1}
    assert layered["themes"][1]["quotes"] == []
    # The coders' layer leaves the consensus copies out.
    assert build(team)["themes"][0]["counts"]["quotes"] == 3


def test_report_states_origin_word_tree_samples_and_agreement(team, study):
    study["skills"].origin = {
        "from": "word-frequency",
        "job": 12,
        "word": "skills",
        "count": 41,
        "rank": 3,
        "documents": 24,
        "grouped": ["skills", "skill"],
        "params": {"scope": "project", "top": 100, "grouping": "stem"},
    }
    study["skills"].save()
    AnalysisJob.objects.create(
        project=team.project,
        kind="wordtree",
        params={"root": "skills"},
        params_hash="t",
        corpus_version="v",
        status="succeeded",
        result={
            "tree": {
                "root": "skills",
                "right": {"children": [{"phrase": "gap", "count": 8}]},
                "left": {"children": [{"phrase": "digital", "count": 5}]},
            }
        },
    )
    Sample.objects.create(
        project=team.project,
        name="Study sample",
        method="systematic",
        k=3,
        start=2,
        description="45 posts met the criteria; every third post was kept: 15 posts.",
    )
    AnalysisJob.objects.create(
        project=team.project,
        kind="agreement",
        params={"coders": [team.coders[0].pk, team.coders[1].pk]},
        params_hash="a",
        corpus_version="v",
        status="succeeded",
        result={
            "unit": "character",
            "posts": 2,
            "overall": {"alpha": 0.71, "alpha_low": 0.6, "alpha_high": 0.8},
            "codes": [{"code": study["skills"].pk, "alpha": 0.71, "percent": 0.93, "kappa": 0.65}],
        },
    )
    report = build(team)
    skills = report["themes"][0]
    assert "“skills” ranked 3 with 41 occurrences in 24 documents" in skills["origin"]["summary"]
    assert skills["origin"]["word_tree"] == ["skills gap (8)", "digital skills (5)"]
    html = reports.report_html(report)
    assert "45 posts met the criteria; every third post was kept: 15 posts." in html
    assert "Two coders independently coded 2 posts; Krippendorff" in html
    assert "α = 0.71, 93.0% agreement, κ = 0.65" in html
    assert "skills gap (8)" in html


def test_html_report_escapes_every_user_text(team, study):
    html = reports.report_html(build(team))
    assert "<script>" not in html and "alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Access &lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "Ann &lt;i&gt;Author&lt;/i&gt;" in html
    assert html.startswith("<!doctype html>")
    assert 'src="data:image/png;base64,' in html  # figures are embedded


def test_docx_opens_with_theme_headings_quotes_and_figures(team, study):
    from docx import Document

    document = Document(io.BytesIO(reports.report_docx(build(team))))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Skills" in headings and "Access <b>bold</b>" in headings
    texts = [p.text for p in document.paragraphs]
    assert f"“{NASTY}”" in texts
    assert any("li-42" in t and "Ann <i>Author</i>" in t for t in texts)
    assert len(document.inline_shapes) == 2


def test_markdown_escapes_specials_in_user_text(team, study):
    markdown = reports.report_markdown(build(team))
    assert "\\*matter\\* to \\_hiring\\_ \\[managers\\](http://evil) \\& # more" in markdown
    assert "\\<script\\>" in markdown and "<script>" not in markdown
    assert "### Access \\<b\\>bold\\</b\\>" in markdown
    assert "![Quotes per theme](data:image/png;base64," in markdown


def test_md_escape_neutralises_block_markers_at_line_starts():
    assert reports.md_escape("# Title") == "\\# Title"
    assert (
        reports.md_escape("1. one\n- two\n> three\n+ four")
        == "1\\. one\n\\- two\n\\> three\n\\+ four"
    )
    assert reports.md_escape("    code block") == "code block"
    assert reports.md_escape("a `tick` | pipe ~ tilde") == "a \\`tick\\` \\| pipe \\~ tilde"
    assert reports.md_escape("C# and 3.5 stay") == "C# and 3.5 stay"


def test_figures_are_valid_svg_and_png(team, study):
    report = build(team)
    for key in reports.FIGURES:
        svg = reports.figure_svg(report, key)
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert reports.figure_png(svg).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Access &lt;b&gt;bold&lt;/b&gt;" in reports.figure_svg(report, "quotes-per-theme")


def test_report_pages_and_downloads_for_a_supervisor(team, study):
    client = Client()
    client.force_login(team.supervisor)
    page = client.get("/p/study/report/")
    assert page.status_code == 200
    assert (
        "&lt;script&gt;" in page.content.decode() and "<script>alert" not in page.content.decode()
    )
    for fmt, kind in [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("html", "text/html; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
    ]:
        response = client.get(f"/p/study/report/download/?format={fmt}&limit=2&layer=coders")
        assert response.status_code == 200 and response["Content-Type"] == kind
        assert response["Content-Disposition"].startswith('attachment; filename="findings-study-')
    assert client.get("/p/study/report/download/?format=pdf").status_code == 404
    svg = client.get("/p/study/report/figures/quotes-per-theme.svg")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
    png = client.get("/p/study/report/figures/saturation.png?download=1")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]
    assert client.get("/p/study/report/figures/nope.svg").status_code == 404


def test_a_quote_leaves_out_the_space_and_line_breaks_around_its_span(team):
    post = PostFactory(project=team.project, text="Intro.\n  tudatos hal, hatalmas árulás\n\nNext")
    theme = code_create(project=team.project, name="Árulás")
    coding_apply(post=post, code=theme, coder=team.coders[0], start=6, end=38)
    quote = build(team)["themes"][0]["quotes"][0]
    assert quote["text"] == "tudatos hal, hatalmas árulás"

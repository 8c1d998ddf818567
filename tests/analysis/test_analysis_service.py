"""Analysis jobs on PostgreSQL: reuse, out-of-date results, scopes, blind mode, themes, coding from trees."""

import io
import json
from collections import Counter

import pytest
from django.core.management import call_command

from analysis import services
from analysis.models import AnalysisJob
from analysis.text.tokenize import words
from coding_app.access import project_access
from coding_app.models import Code, Coding
from coding_app.services import code_create, coding_apply
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

TEXTS = [
    "Skills gaps are real. Employers want skills, not degrees.",
    "Micro-credentials widen access to learning. Access matters for adults!",
    "Skills gaps hurt workers. Closing skills gaps takes access to training.",
    "Employers say badges show skills quickly.",
]


@pytest.fixture
def corpus(team):
    return [PostFactory(project=team.project, text=t) for t in TEXTS]


def run(team, user, kind, params, django_capture_on_commit_callbacks):
    membership = project_access(user, team.project)
    with django_capture_on_commit_callbacks(execute=True):
        job, created = services.analysis_request(
            membership=membership, kind=kind, params=params, user=user
        )
    job.refresh_from_db()
    return job, created


def test_frequency_counts_match_independent_count(team, corpus, django_capture_on_commit_callbacks):
    job, created = run(
        team,
        team.coder,
        "frequency",
        {"min_length": 1, "stopwords": False, "top": 1000},
        django_capture_on_commit_callbacks,
    )
    assert created and job.status == "succeeded", job.message
    expected = Counter(w for t in TEXTS for w in words(t))
    got = {w["word"]: w["count"] for w in job.result["words"]}
    assert got == dict(expected)
    assert job.result["total_words"] == sum(expected.values())
    assert job.result["documents"] == 4


def test_identical_query_is_reused_until_posts_change(
    team, corpus, django_capture_on_commit_callbacks
):
    first, _ = run(team, team.coder, "frequency", {}, django_capture_on_commit_callbacks)
    again, created = run(team, team.supervisor, "frequency", {}, django_capture_on_commit_callbacks)
    assert not created and again.pk == first.pk
    membership = project_access(team.coder, team.project)
    assert services.analysis_is_current(job=first, membership=membership)
    PostFactory(project=team.project, text="A new post about skills")
    assert not services.analysis_is_current(job=first, membership=membership)
    fresh, created = run(team, team.coder, "frequency", {}, django_capture_on_commit_callbacks)
    assert created and fresh.pk != first.pk


def test_stop_words_and_min_length_filter(team, corpus, django_capture_on_commit_callbacks):
    job, _ = run(
        team, team.coder, "frequency", {"min_length": 3}, django_capture_on_commit_callbacks
    )
    ranked = [w["word"] for w in job.result["words"]]
    assert ranked[0] == "skills"
    assert "are" not in ranked and "to" not in ranked and "not" not in ranked
    services.stopword_add(project=team.project, word="Skills")
    job, created = run(
        team, team.coder, "frequency", {"min_length": 3}, django_capture_on_commit_callbacks
    )
    assert created and "skills" not in [w["word"] for w in job.result["words"]]


def test_quote_scope_respects_blind_mode(team, corpus, django_capture_on_commit_callbacks):
    code = code_create(project=team.project, name="Skills")
    coding_apply(post=corpus[0], code=code, coder=team.coders[0], start=0, end=11)  # "Skills gaps"
    coding_apply(
        post=corpus[1], code=code, coder=team.coders[1], start=0, end=17
    )  # "Micro-credentials"
    team.project.blind_coding = True
    team.project.save()
    params = {"scope": "code", "scope_id": code.pk, "min_length": 1, "stopwords": False}
    mine, _ = run(team, team.coders[0], "frequency", params, django_capture_on_commit_callbacks)
    assert {w["word"] for w in mine.result["words"]} == {"skills", "gaps"}
    everyone, created = run(
        team, team.supervisor, "frequency", params, django_capture_on_commit_callbacks
    )
    assert created  # the blind coder's result is not shared with the supervisor, nor vice versa
    assert "micro-credentials" in {w["word"] for w in everyone.result["words"]}


def test_word_tree_counts_and_kwic(team, corpus, django_capture_on_commit_callbacks):
    job, _ = run(
        team,
        team.coder,
        "wordtree",
        {"root": "skills", "depth": 3},
        django_capture_on_commit_callbacks,
    )
    tree = job.result["tree"]
    assert tree["count"] == 5

    def check(node):
        assert node["count"] >= sum(child["count"] for child in node["children"])
        for child in node["children"]:
            check(child)

    check(tree["right"])
    check(tree["left"])
    assert "gaps" in [child["phrase"].split()[0] for child in tree["right"]["children"]]
    assert job.result["kwic_total"] == 5
    assert {line["post"] for line in job.result["kwic"]} == {
        corpus[0].pk,
        corpus[2].pk,
        corpus[3].pk,
    }


def test_code_from_tree_codes_exactly_the_sentences(
    team, corpus, api_for, django_capture_on_commit_callbacks
):
    job, _ = run(
        team, team.coder, "wordtree", {"root": "skills"}, django_capture_on_commit_callbacks
    )
    code = code_create(project=team.project, name="Skill gaps")
    response = api_for(team.coder).post(
        f"/api/analyses/{job.pk}/code-branch/",
        {"code": code.pk, "phrase": "skills gaps"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    quotes = sorted(Coding.objects.filter(code=code).values_list("quote", flat=True))
    assert quotes == [
        "Closing skills gaps takes access to training.",
        "Skills gaps are real.",
        "Skills gaps hurt workers.",
    ]
    assert set(response.json()["created"]) == set(Coding.objects.values_list("id", flat=True))
    assert all(c.coder == team.coder for c in Coding.objects.all())


def test_make_theme_records_the_query(team, corpus, api_for, django_capture_on_commit_callbacks):
    job, _ = run(team, team.supervisor, "frequency", {}, django_capture_on_commit_callbacks)
    assert (
        api_for(team.coder)
        .post(f"/api/analyses/{job.pk}/theme/", {"word": "skills"}, format="json")
        .status_code
        == 403
    )
    response = api_for(team.supervisor).post(
        f"/api/analyses/{job.pk}/theme/", {"word": "skills"}, format="json"
    )
    assert response.status_code == 201
    theme = Code.objects.get(pk=response.json()["id"])
    assert theme.parent is None and theme.name == "skills"
    assert (
        theme.origin["job"] == job.pk and theme.origin["rank"] == 1 and theme.origin["count"] == 5
    )


def test_outsider_cannot_request_or_read_analyses(
    team, corpus, api_for, django_capture_on_commit_callbacks
):
    job, _ = run(team, team.coder, "frequency", {}, django_capture_on_commit_callbacks)
    client = api_for(team.outsider)
    assert (
        client.post(
            "/api/analyses/", {"project": team.project.slug, "kind": "frequency"}, format="json"
        ).status_code
        == 404
    )
    assert client.get(f"/api/analyses/{job.pk}/").status_code == 404


def test_bad_params_get_field_errors(team, api_for):
    response = api_for(team.coder).post(
        "/api/analyses/",
        {"project": team.project.slug, "kind": "wordtree", "params": {"root": "  "}},
        format="json",
    )
    assert response.status_code == 400 and "root" in response.json()["errors"]
    response = api_for(team.coder).post(
        "/api/analyses/",
        {"project": team.project.slug, "kind": "frequency", "params": {"top": 0}},
        format="json",
    )
    assert response.status_code == 400 and "top" in response.json()["errors"]


def test_duplicate_delivery_runs_once(team, corpus, django_capture_on_commit_callbacks):
    membership = project_access(team.coder, team.project)
    job, _ = services.analysis_request(
        membership=membership, kind="frequency", params={}, user=team.coder, enqueue=False
    )
    assert services.analysis_run(job_id=job.pk).status == "succeeded"
    assert services.analysis_run(job_id=job.pk) is None
    assert AnalysisJob.objects.get(pk=job.pk).attempts == 1


def test_cli_word_frequency_and_word_tree_json(team, corpus):
    out = io.StringIO()
    call_command(
        "word_frequency", "--project", team.project.slug, "--top", "5", "--json", stdout=out
    )
    payload = json.loads(out.getvalue())
    assert payload["words"][0] == {
        "word": "skills",
        "count": 5,
        "percent": payload["words"][0]["percent"],
        "grouped": ["skills"],
    }
    out = io.StringIO()
    call_command(
        "word_tree", "--project", team.project.slug, "--root", "skills gaps", "--json", stdout=out
    )
    tree = json.loads(out.getvalue())
    assert tree["count"] == 3 and set(tree) == {"root", "count", "right", "left"}


def test_word_tree_finds_bold_letters_and_curly_apostrophes(
    team, django_capture_on_commit_callbacks
):
    PostFactory(project=team.project, text="𝗦𝗞𝗜𝗟𝗟𝗦 matter. We don’t wait.")
    PostFactory(project=team.project, text="Skills grow. I don't know.")
    PostFactory(project=team.project, text="Nothing to see here.")
    job, _ = run(
        team, team.coder, "wordtree", {"root": "skills"}, django_capture_on_commit_callbacks
    )
    assert job.result["tree"]["count"] == 2
    job, _ = run(
        team, team.coder, "wordtree", {"root": "don't"}, django_capture_on_commit_callbacks
    )
    assert job.result["tree"]["count"] == 2


def test_attribute_scope_counts_only_matching_posts(team, django_capture_on_commit_callbacks):
    PostFactory(
        project=team.project, text="Nurses need digital skills", metadata={"sector": "health"}
    )
    PostFactory(
        project=team.project, text="Cashiers need digital skills", metadata={"sector": "retail"}
    )
    job, _ = run(
        team,
        team.coder,
        "frequency",
        {"scope": "attribute", "attribute": "sector=health"},
        django_capture_on_commit_callbacks,
    )
    words = {w["word"] for w in job.result["words"]}
    assert "nurses" in words and "cashiers" not in words and job.result["documents"] == 1


def test_attribute_scope_needs_name_and_value(team, api_for):
    response = api_for(team.coder).post(
        "/api/analyses/",
        {
            "project": team.project.slug,
            "kind": "frequency",
            "params": {"scope": "attribute", "attribute": "health"},
        },
        format="json",
    )
    assert response.status_code == 400 and "attribute" in response.json()["errors"]


def test_word_tree_finds_ligatures_and_full_width_letters_past_the_database_filter(
    team, django_capture_on_commit_callbacks
):
    PostFactory(project=team.project, text="Update your proﬁle today 🎉.")
    PostFactory(project=team.project, text="ＰＲＯＦＩＬＥ views went up.")
    PostFactory(project=team.project, text="A Profile matters. Café résumé 🎓.")
    PostFactory(project=team.project, text="Café résumé 🎓 with no such word.")
    job, _ = run(
        team, team.coder, "wordtree", {"root": "profile"}, django_capture_on_commit_callbacks
    )
    assert job.result["tree"]["count"] == 3
    assert job.result["kwic_total"] == 3


def test_ascii_lookalikes_hold_every_character_that_reads_as_ascii():
    """The word tree's database prefilter keeps texts with look-alikes of ASCII letters; its
    class is built from LOOKALIKE_PLANES only, which must miss no code point of Unicode."""
    import sys
    import unicodedata

    from analysis.services import _ascii_lookalikes

    every = set()
    for code in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char).casefold()
        if folded != char and any(c.isascii() and c.isalnum() for c in folded):
            every.add(code)
    body = _ascii_lookalikes()
    found = set()
    i = 0
    while i < len(body):  # "a-z" ranges and single characters, as the class is written
        if i + 2 < len(body) and body[i + 1] == "-":
            found.update(range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            found.add(ord(body[i]))
            i += 1
    assert found == every
    assert {ord("𝗦"), ord("ﬁ"), ord("Ｋ"), ord("²"), ord("ß")} <= found


def test_the_text_analysis_page_of_a_project_without_posts_says_to_import_first(client, team):
    client.force_login(team.admin)
    url = f"/p/{team.project.slug}/analysis/"
    html = client.get(url).content.decode()
    assert f'<a href="/p/{team.project.slug}/imports/">Import posts</a> first.' in html
    client.force_login(team.coder)
    assert "An admin of the project imports them." in client.get(url).content.decode()
    PostFactory(project=team.project)
    assert 'id="no-posts"' not in client.get(url).content.decode()

"""Coding comparison on PostgreSQL, checked against hand-worked tables and the krippendorff package."""

import csv
import io
import json
import math
import re

import krippendorff
import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from analysis.comparison import comparison_compute, methods_sentence
from analysis.models import AnalysisJob
from coding_app.models import Assignment, Code, Coding
from coding_app.services import code_create, coding_apply
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


def fetch(client, url, capture):
    """GET an agreement page: the first request queues the comparison job (run inline here,
    as tests run tasks eagerly) and shows its progress; the next shows the result."""
    with capture(execute=True):
        first = client.get(url)
    if first.status_code != 200 or "format=" in url:
        return first
    assert (
        'id="agreement-progress"' in first.content.decode()
        or "methods-sentence" in first.content.decode()
        or "nothing-compared" in first.content.decode()
    )
    return client.get(url)


def test_a_comparison_with_no_post_judged_by_every_coder_says_so(
    team, client, django_capture_on_commit_callbacks
):
    a, b = team.coders[0], team.coders[1]
    post = PostFactory(project=team.project, text="q" * 40)
    coding_apply(
        post=post, code=code_create(project=team.project, name="Q"), coder=a, start=0, end=9
    )
    Assignment.objects.create(post=post, coder=b)  # waiting in b's queue
    client.force_login(team.supervisor)
    url = f"/p/{team.project.slug}/agreement/?coders={a.pk}&coders={b.pk}"
    html = fetch(client, url, django_capture_on_commit_callbacks).content.decode()
    assert "No post is judged by every coder compared yet" in html
    assert 'id="agreement-table"' not in html and "methods-sentence" not in html


def row(result, name):
    return next(r for r in result["codes"] if r["name"] == name)


def test_character_level_two_coders_matches_hand_worked_table(team):
    post = PostFactory(project=team.project, text="x" * 100)
    theme = code_create(project=team.project, name="Skills")
    code = code_create(project=team.project, name="Gaps", parent=theme)
    a, b = team.coders[0], team.coders[1]
    coding_apply(post=post, code=code, coder=a, start=0, end=20)
    coding_apply(post=post, code=code, coder=b, start=10, end=30)
    result = comparison_compute(project=team.project, coder_ids=[a.pk, b.pk], unit="character")
    gaps = row(result, "Gaps")
    assert (gaps["both"], gaps["only_a"], gaps["only_b"], gaps["neither"]) == (10, 10, 10, 70)
    assert gaps["percent"] == pytest.approx(0.8)
    # Cohen's kappa from the 2x2 table: p_o = .8, p_e = .2*.2 + .8*.8 = .68
    assert gaps["kappa"] == pytest.approx((0.8 - 0.68) / (1 - 0.68), abs=1e-6)
    matrix = np.zeros((2, 100))
    matrix[0, 0:20] = 1
    matrix[1, 10:30] = 1
    assert gaps["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"), abs=1e-6
    )
    # The theme rolls up its codes.
    assert row(result, "Skills")["both"] == 10


def test_character_level_three_coders_alpha_matches_krippendorff(team):
    texts = ["a" * 50, "b" * 80]
    posts = [PostFactory(project=team.project, text=t) for t in texts]
    code = code_create(project=team.project, name="Access")
    spans = {0: [(0, 10, 0), (5, 30, 1)], 1: [(0, 12, 0), (40, 60, 1)], 2: [(2, 10, 0), (0, 80, 1)]}
    for coder_index, items in spans.items():
        for start, end, post_index in items:
            coding_apply(
                post=posts[post_index],
                code=code,
                coder=team.coders[coder_index],
                start=start,
                end=end,
            )
    result = comparison_compute(project=team.project, coder_ids=[c.pk for c in team.coders])
    matrix = np.zeros((3, 130))
    for coder_index, items in spans.items():
        for start, end, post_index in items:
            offset = 0 if post_index == 0 else 50
            matrix[coder_index, offset + start : offset + end] = 1
    assert row(result, "Access")["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"), abs=1e-6
    )
    assert result["characters"] == 130 and result["posts"] == 2


def test_post_level_treats_unjudged_posts_as_missing(team):
    posts = [PostFactory(project=team.project) for _ in range(4)]
    code = code_create(project=team.project, name="Cost")
    other = code_create(project=team.project, name="Other")
    a, b = team.coders[0], team.coders[1]
    coding_apply(post=posts[0], code=code, coder=a, start=0, end=4)
    coding_apply(post=posts[0], code=code, coder=b, start=0, end=4)
    coding_apply(post=posts[1], code=code, coder=a, start=0, end=4)
    coding_apply(post=posts[1], code=other, coder=b, start=0, end=4)
    coding_apply(post=posts[2], code=other, coder=a, start=0, end=4)  # b never judged post 2
    # Both marked post 3 coded in their queues and coded nothing in it: nothing applies.
    Assignment.objects.create(post=posts[3], coder=a, done_at=timezone.now())
    Assignment.objects.create(post=posts[3], coder=b, done_at=timezone.now())
    # Post 2 waits in b's queue, not marked: b has not judged it yet.
    Assignment.objects.create(post=posts[2], coder=b)
    result = comparison_compute(
        project=team.project, coder_ids=[a.pk, b.pk], unit="post", post_ids=[p.pk for p in posts]
    )
    cost = row(result, "Cost")
    data = [[1, 1, 0, 0], [1, 0, np.nan, 0]]
    assert cost["alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-6
    )
    assert (cost["both"], cost["only_a"], cost["only_b"], cost["neither"]) == (1, 1, 0, 1)


def test_comparison_needs_two_coders(team):
    with pytest.raises(ValueError, match="two coders"):
        comparison_compute(project=team.project, coder_ids=[team.coder.pk])


def test_real_annotators_alpha_matches_krippendorff(team, shared_data):
    """1,600 real LinkedIn posts, each labelled by 3 of 4 annotators: whole-post codings."""
    path = shared_data / "corpora" / "linkedin_influencers_1600.csv"
    call_command(
        "import_posts",
        str(path),
        "--project",
        team.project.slug,
        "--no-near-duplicates",
        "--json",
        stdout=io.StringIO(),
    )
    from corpus.models import Post

    posts = {p.external_id: p for p in Post.objects.filter(project=team.project)}
    coders = [*team.coders, team.supervisor]  # four annotators
    codes: dict[str, Code] = {}
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    matrix_rows = []
    for record in rows:
        post = posts.get(record["index"])
        if post is None:
            continue
        values = []
        for i, coder in enumerate(coders, start=1):
            label = record[f"label_{i}"].strip()
            values.append(label or None)
            if label:
                if label not in codes:
                    codes[label] = code_create(project=team.project, name=label)
                Coding.objects.create(
                    post=post,
                    code=codes[label],
                    coder=coder,
                    start=0,
                    end=len(post.text),
                    quote=post.text,
                )
        matrix_rows.append(values)
    result = comparison_compute(project=team.project, coder_ids=[c.pk for c in coders], unit="post")
    assert result["posts"] == len(matrix_rows)
    for label in codes:
        data = [
            [np.nan if v is None else float(v == label) for v in column]
            for column in zip(*matrix_rows, strict=True)
        ]
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        got = row(result, label)["alpha"]
        assert (got is None and math.isnan(expected)) or got == pytest.approx(expected, abs=1e-6), (
            label
        )


def test_agreement_command_prints_json_and_methods_sentence(team):
    post = PostFactory(project=team.project, text="y" * 40)
    code = code_create(project=team.project, name="Trust")
    coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=20)
    coding_apply(post=post, code=code, coder=team.coders[1], start=0, end=20)
    out = io.StringIO()
    call_command(
        "agreement",
        "--project",
        team.project.slug,
        "--coders",
        f"{team.coders[0].username},{team.coders[1].username}",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    assert payload["overall"]["alpha"] == pytest.approx(1.0)
    assert payload["methods"].startswith("Two coders independently coded 1 post;")


def test_agreement_page_is_for_supervisors_and_exports_csv(
    client, team, django_capture_on_commit_callbacks
):
    post = PostFactory(project=team.project, text="z" * 50)
    code = code_create(project=team.project, name="Value")
    coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=25)
    coding_apply(post=post, code=code, coder=team.coders[1], start=0, end=25)
    url = f"/p/{team.project.slug}/agreement/?coders={team.coders[0].pk}&coders={team.coders[1].pk}"
    client.force_login(team.coder)
    assert client.get(url).status_code == 403
    client.force_login(team.supervisor)
    html = fetch(client, url, django_capture_on_commit_callbacks).content.decode()
    assert "Two coders independently coded 1 post;" in html and "1.000" in html
    body = client.get(url + "&format=csv").content.decode("utf-8-sig")
    assert body.splitlines()[1].startswith("Value,theme,25,0,0,25,1.0,1.0,1.0")


def test_adjudication_builds_consensus_layer_with_history(
    client, team, django_capture_on_commit_callbacks
):
    from coding_app.models import Adjudication
    from coding_app.services import consensus_coder

    post = PostFactory(project=team.project, text="Employers want digital skills and fair access.")
    code = code_create(project=team.project, name="Skills")
    a, b = team.coders[0], team.coders[1]
    agreed_a, _ = coding_apply(post=post, code=code, coder=a, start=15, end=29)
    coding_apply(post=post, code=code, coder=b, start=15, end=29)
    only_a, _ = coding_apply(post=post, code=code, coder=a, start=34, end=45)
    url = f"/p/{team.project.slug}/agreement/posts/{post.pk}/?a={a.pk}&b={b.pk}"
    client.force_login(team.coder)
    assert client.get(url).status_code == 403
    client.force_login(team.supervisor)
    html = client.get(url).content.decode()
    assert "agreed" in html and "only A" in html

    # Accept the agreed coding, accept the other with an edited span, then undo it.
    client.post(
        url,
        {
            "code": code.pk,
            "codings": [agreed_a.pk],
            "start": 15,
            "end": 29,
            "original_start": 15,
            "original_end": 29,
            "decision": "accept",
        },
    )
    client.post(
        url,
        {
            "code": code.pk,
            "codings": [only_a.pk],
            "start": 39,
            "end": 45,
            "original_start": 34,
            "original_end": 45,
            "decision": "accept",
        },
    )
    consensus = consensus_coder(project=team.project)
    quotes = sorted(Coding.objects.filter(coder=consensus).values_list("quote", flat=True))
    assert quotes == ["access", "digital skills"]
    edited = Coding.objects.get(coder=consensus, quote="access")
    client.post(url, {"undo": edited.pk})
    assert list(Coding.objects.filter(coder=consensus).values_list("quote", flat=True)) == [
        "digital skills"
    ]
    decisions = list(Adjudication.objects.order_by("id").values_list("decision", flat=True))
    assert decisions == ["accept", "edit", "undo"]
    page = fetch(
        client,
        f"/p/{team.project.slug}/agreement/?coders={a.pk}&coders={b.pk}",
        django_capture_on_commit_callbacks,
    ).content.decode()
    assert f"/agreement/posts/{post.pk}/?a={a.pk}&amp;b={b.pk}" in page


def test_reject_records_decision_without_consensus_coding(team):
    from coding_app.models import Adjudication
    from coding_app.services import adjudication_decide

    post = PostFactory(project=team.project, text="Badges are credentials too.")
    code = code_create(project=team.project, name="Badges")
    coding, _ = coding_apply(post=post, code=code, coder=team.coder, start=0, end=6)
    adjudication_decide(
        post=post,
        code=code,
        start=0,
        end=6,
        decision="reject",
        source_codings=[coding.pk],
        user=team.supervisor,
    )
    decision = Adjudication.objects.get()
    assert decision.decision == "reject" and decision.consensus_coding is None
    assert decision.source_codings == [coding.pk]


def test_agreement_page_heatmap_scope_and_xlsx(client, team, django_capture_on_commit_callbacks):
    from io import BytesIO

    from openpyxl import load_workbook

    from corpus.models import Sample

    posts = [PostFactory(project=team.project, text=f"{i}" + "q" * 39) for i in range(3)]
    code = code_create(project=team.project, name="Trust")
    a, b = team.coders[0], team.coders[1]
    for post in posts:
        coding_apply(post=post, code=code, coder=a, start=0, end=20)
        coding_apply(post=post, code=code, coder=b, start=0, end=30)
    sample = Sample.objects.create(
        project=team.project, name="S", method="all", post_ids=[posts[0].pk]
    )
    client.force_login(team.supervisor)
    base = f"/p/{team.project.slug}/agreement/?coders={a.pk}&coders={b.pk}"
    html = fetch(client, base, django_capture_on_commit_callbacks).content.decode()
    assert "95% CI" in html and 'id="heatmap"' in html
    assert "Two coders independently coded 3 posts" in html
    scoped = fetch(
        client, base + f"&scope=sample:{sample.pk}", django_capture_on_commit_callbacks
    ).content.decode()
    assert "Two coders independently coded 1 post;" in scoped
    book = load_workbook(BytesIO(client.get(base + "&format=xlsx").content))
    rows = list(book["Agreement by code"].values)
    assert rows[1][0] == "Trust" and rows[1][2] == 60 and rows[1][4] == 30
    result = comparison_compute(project=team.project, coder_ids=[a.pk, b.pk])
    assert result["heatmap"]["values"] == [[0.75, 0.75, 0.75]]


def test_agreement_job_is_reused_until_codings_change(team, django_capture_on_commit_callbacks):
    from analysis.services import agreement_request
    from coding_app.access import project_access

    post = PostFactory(project=team.project, text="w" * 30)
    code = code_create(project=team.project, name="Cost")
    a, b = team.coders[0], team.coders[1]
    coding_apply(post=post, code=code, coder=a, start=0, end=10)
    membership = project_access(team.supervisor, team.project)
    kwargs = dict(
        membership=membership,
        coder_ids=[a.pk, b.pk],
        unit="character",
        scope="",
        post_ids=None,
        user=team.supervisor,
    )
    with django_capture_on_commit_callbacks(execute=True):
        first, created = agreement_request(**kwargs)
    assert created
    first.refresh_from_db()
    assert first.status == "succeeded" and first.result["posts"] == 0  # b has not coded it yet
    again, created = agreement_request(**kwargs)
    assert not created and again.pk == first.pk
    coding_apply(post=post, code=code, coder=b, start=0, end=10)
    with django_capture_on_commit_callbacks(execute=True):
        fresh, created = agreement_request(**kwargs)
    fresh.refresh_from_db()
    assert created and fresh.result["posts"] == 1 and fresh.result["overall"]["alpha"] == 1.0
    # A post marked coded without a coding is judged: the comparison is computed again.
    other = PostFactory(project=team.project, text="x" * 30)
    coding_apply(post=other, code=code, coder=a, start=0, end=10)
    Assignment.objects.create(post=other, coder=b)
    with django_capture_on_commit_callbacks(execute=True):
        waiting, created = agreement_request(**kwargs)
    waiting.refresh_from_db()
    assert created and waiting.result["posts"] == 1  # still in b's queue: not judged
    Assignment.objects.filter(post=other, coder=b).update(done_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        marked, created = agreement_request(**kwargs)
    marked.refresh_from_db()
    assert created and marked.result["posts"] == 2 and marked.result["overall"]["alpha"] < 1.0


def test_groups_compare_the_union_of_their_members(
    team, client, django_capture_on_commit_callbacks
):
    post = PostFactory(project=team.project, text="v" * 40)
    code = code_create(project=team.project, name="Fit")
    c0, c1, c2 = team.coders
    coding_apply(post=post, code=code, coder=c0, start=0, end=10)
    coding_apply(post=post, code=code, coder=c1, start=10, end=20)
    coding_apply(post=post, code=code, coder=c2, start=0, end=20)
    result = comparison_compute(
        project=team.project, coder_ids=[], groups=[[c0.pk, c1.pk], [c2.pk]]
    )
    assert row(result, "Fit")["both"] == 20 and row(result, "Fit")["alpha"] == 1.0
    with pytest.raises(ValueError, match="one group only"):
        comparison_compute(project=team.project, coder_ids=[], groups=[[c0.pk], [c0.pk, c2.pk]])
    client.force_login(team.supervisor)
    url = (
        f"/p/{team.project.slug}/agreement/?mode=groups&group_a={c0.pk}&group_a={c1.pk}"
        f"&group_b={c2.pk}"
    )
    html = fetch(client, url, django_capture_on_commit_callbacks).content.decode()
    assert "Two groups of coders independently coded 1 post;" in html


def test_assigned_scope_keeps_posts_assigned_to_every_coder(
    team, client, django_capture_on_commit_callbacks
):
    a, b = team.coders[0], team.coders[1]
    code = code_create(project=team.project, name="Pay")
    both, only_a = (
        PostFactory(project=team.project, text="1" + "p" * 30),
        PostFactory(project=team.project, text="2" + "p" * 30),
    )
    for post in (both, only_a):
        coding_apply(post=post, code=code, coder=a, start=0, end=5)
        coding_apply(post=post, code=code, coder=b, start=0, end=5)
    Assignment.objects.create(post=both, coder=a)
    Assignment.objects.create(post=both, coder=b)
    Assignment.objects.create(post=only_a, coder=a)
    client.force_login(team.supervisor)
    html = fetch(
        client,
        f"/p/{team.project.slug}/agreement/?coders={a.pk}&coders={b.pk}&scope=assigned",
        django_capture_on_commit_callbacks,
    ).content.decode()
    assert "Two coders independently coded 1 post;" in html


def test_row_intervals_and_per_post_csv(team, client, django_capture_on_commit_callbacks):
    code = code_create(project=team.project, name="Gap")
    a, b = team.coders[0], team.coders[1]
    for i in range(6):
        post = PostFactory(project=team.project, text=f"{i}" + "g" * 49)
        coding_apply(post=post, code=code, coder=a, start=0, end=20 + i)
        coding_apply(post=post, code=code, coder=b, start=5, end=25)
    result = comparison_compute(project=team.project, coder_ids=[a.pk, b.pk])
    gap = row(result, "Gap")
    assert gap["alpha_low"] <= gap["alpha"] <= gap["alpha_high"]
    again = comparison_compute(project=team.project, coder_ids=[a.pk, b.pk])
    assert (row(again, "Gap")["alpha_low"], row(again, "Gap")["alpha_high"]) == (
        gap["alpha_low"],
        gap["alpha_high"],
    )
    client.force_login(team.supervisor)
    url = f"/p/{team.project.slug}/agreement/?coders={a.pk}&coders={b.pk}"
    fetch(client, url, django_capture_on_commit_callbacks)
    body = client.get(url + "&format=posts-csv").content.decode("utf-8-sig").splitlines()
    assert body[0] == "post,agreed,overlapping,only_a,only_b" and len(body) == 7


def test_row_interval_is_krippendorffs_bootstrap_of_the_character_matrix(team):
    from analysis.comparison import BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED
    from analysis.stats.agreement import krippendorff_alpha_bootstrap

    code = code_create(project=team.project, name="Gap")
    a, b = team.coders[0], team.coders[1]
    post = PostFactory(project=team.project, text="x" * 50)
    coding_apply(post=post, code=code, coder=a, start=10, end=30)
    coding_apply(post=post, code=code, coder=b, start=15, end=35)
    result = comparison_compute(project=team.project, coder_ids=[a.pk, b.pk])
    gap = row(result, "Gap")
    # The same characters as a coders × units matrix (1 coded, 0 not), first value 0.
    matrix = [[int(10 <= i < 30) for i in range(50)], [int(15 <= i < 35) for i in range(50)]]
    expected = krippendorff_alpha_bootstrap(
        matrix, "nominal", n_boot=BOOTSTRAP_SAMPLES, seed=BOOTSTRAP_SEED, alpha_min=(0.8,)
    )
    assert gap["alpha"] == pytest.approx(expected["alpha"], abs=1e-12)
    assert (gap["alpha_low"], gap["alpha_high"]) == pytest.approx(
        (expected["low"], expected["high"]), abs=1e-12
    )
    assert gap["alpha_below_min"] == expected["below"][0.8]
    sentence = methods_sentence(result, coder_names=["a", "b"])
    assert "Krippendorff's bootstrap, 1,000 samples" in sentence


def test_three_coders_on_one_post_side_by_side_and_adjudicated(team, client):
    from coding_app.models import Coding

    code = code_create(project=team.project, name="Cost")
    post = PostFactory(project=team.project, text="Fees are too high for most learners today.")
    cora, cole, cleo = team.coders
    for coder in (cora, cole, cleo):
        coding_apply(post=post, code=code, coder=coder, start=0, end=4)  # all three
    coding_apply(post=post, code=code, coder=cora, start=9, end=17)  # cora only
    coding_apply(post=post, code=code, coder=cole, start=13, end=22)  # overlaps cora's
    client.force_login(team.supervisor)
    url = f"/p/study/agreement/posts/{post.pk}/?coders={cora.pk}&coders={cole.pk}&coders={cleo.pk}"
    response = client.get(url)
    assert response.status_code == 200
    items = {(i["start"], i["end"]): i for i in response.context["items"]}
    assert items[(0, 4)]["status"] == "agreed"
    assert items[(0, 4)]["coder_names"] == "cora, cole, cleo"
    assert items[(9, 17)]["status"] == "overlaps"
    assert [label for label, _ in response.context["columns"]] == ["cora", "cole", "cleo"]
    html = response.content.decode()
    assert "3 coders on this post" in html
    accepted = client.post(
        url,
        {
            "code": code.pk,
            "start": 9,
            "end": 17,
            "original_start": 9,
            "original_end": 17,
            "decision": "accept",
            "codings": items[(9, 17)]["codings"],
        },
    )
    assert accepted.status_code == 302 and "coders=" in accepted["Location"]
    assert Coding.objects.filter(post=post, coder__username="consensus@study").count() == 1


def test_per_post_list_for_three_coders(team):
    from analysis.comparison import disagreement_counts_many

    code = code_create(project=team.project, name="Cost")
    cora, cole, cleo = team.coders
    alike = PostFactory(project=team.project, text="All alike here.")
    mixed = PostFactory(project=team.project, text="Only some coded this one.")
    for coder in team.coders:
        coding_apply(post=alike, code=code, coder=coder, start=0, end=3)
    coding_apply(post=mixed, code=code, coder=cora, start=0, end=4)
    coding_apply(post=mixed, code=code, coder=cole, start=5, end=9)
    rows = disagreement_counts_many(project=team.project, coder_ids=[c.pk for c in team.coders])
    assert [(r["post"], r["agreed"], r["partly"]) for r in rows] == [
        (mixed.pk, 0, 2),
        (alike.pk, 1, 0),
    ]


def test_consensus_layer_is_offered_as_a_coder_except_to_blind_coders(team, client):
    from coding_app.services import adjudication_decide

    code = code_create(project=team.project, name="Cost")
    post = PostFactory(project=team.project, text="Fees are too high for most learners today.")
    coding, _ = coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=4)
    adjudication_decide(
        post=post,
        code=code,
        start=0,
        end=4,
        decision="accept",
        source_codings=[coding.pk],
        user=team.supervisor,
    )
    client.force_login(team.supervisor)
    for url in ("/p/study/analysis/", f"/p/study/codes/{code.pk}/", "/p/study/agreement/"):
        assert "consensus@study" in client.get(url).content.decode(), url
    team.project.blind_coding = True
    team.project.save()
    client.force_login(team.coders[1])
    assert "consensus@study" not in client.get(f"/p/study/codes/{code.pk}/").content.decode()
    assert "consensus@study" not in client.get("/p/study/analysis/").content.decode()


def test_post_rows_show_the_start_of_a_post_cut_at_a_word():
    from analysis.comparison import _excerpt

    assert _excerpt("Short post.") == "Short post."
    exact = "w" * 140
    assert _excerpt(exact) == exact
    long = "Employers read badges, " + "skills " * 30
    cut = _excerpt(long)
    assert cut.endswith("…") and len(cut) <= 141
    assert long.startswith(cut[:-1]) and long[len(cut) - 1] == " "  # a whole word ends it
    assert _excerpt("x" * 300) == "x" * 140 + "…"  # no space: cut where it must be


def test_the_agreement_page_says_how_to_get_two_coders(team, client):
    from coding_app.models import Membership

    Membership.objects.filter(project=team.project, role="coder").exclude(
        user=team.coders[0]
    ).delete()
    client.force_login(team.admin)
    html = client.get(f"/p/{team.project.slug}/agreement/").content.decode()
    assert "Only one coder is in the project" in html
    assert f'Add coders on the <a href="/p/{team.project.slug}/members/">Members</a>' in html
    assert not AnalysisJob.objects.filter(kind="agreement").exists()  # nothing was queued
    Membership.objects.filter(project=team.project, role="coder").delete()
    client.force_login(team.supervisor)
    html = client.get(f"/p/{team.project.slug}/agreement/").content.decode()
    assert "The project has no coders yet" in html and "none yet" in html
    assert "An admin adds coders on the Members page." in html


def test_supervisors_who_code_are_compared_and_coders_come_first(
    team, client, django_capture_on_commit_callbacks
):
    """Researchers who lead a study often code too: a supervisor with codings can be compared;
    one without codings is not offered, and the page picks two coders by default."""
    post = PostFactory(project=team.project, text="s" * 40)
    code = code_create(project=team.project, name="Lead")
    coding_apply(post=post, code=code, coder=team.supervisor, start=0, end=10)
    coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=10)
    client.force_login(team.admin)
    url = f"/p/{team.project.slug}/agreement/"
    html = client.get(url).content.decode()
    boxes = re.findall(r'name="coders" value="(\d+)"( checked)?', html)
    offered = [int(v) for v, _ in boxes]
    assert offered[:3] == [c.pk for c in sorted(team.coders, key=lambda u: u.username)]
    assert team.supervisor.pk in offered and team.admin.pk not in offered
    assert [int(v) for v, on in boxes if on] == offered[:2]  # two coders by default
    pair = f"{url}?coders={team.supervisor.pk}&coders={team.coders[0].pk}"
    html = fetch(client, pair, django_capture_on_commit_callbacks).content.decode()
    assert "Two coders independently coded 1 post;" in html
    # A blind coder is not told which supervisors have codings.
    team.project.blind_coding = True
    team.project.save()
    client.force_login(team.coders[1])
    html = client.get(f"/p/{team.project.slug}/analysis/").content.decode()
    assert f'value="coder:{team.coders[1].pk}"' in html
    assert f'value="coder:{team.supervisor.pk}"' not in html

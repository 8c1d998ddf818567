"""Review: the theme hierarchy, review status and comments, co-occurrence, saturation, and
who may see or change them."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from analysis import review
from analysis.models import AnalysisJob, CodeReview, ReviewComment
from coding_app.models import Coding, Membership
from coding_app.services import code_create, coding_apply, consensus_coder
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

TEXT = "Employers want digital skills, but the fees are a barrier for most workers."
#       0         1         2         3         4         5         6         7
#       0123456789012345678901234567890123456789012345678901234567890123456789012345


@pytest.fixture
def book(team):
    """Skills → Gaps → Digital; Access → Cost; three posts."""
    p = team.project
    skills = code_create(project=p, name="Skills", colour="#aec7e8", definition="About skills.")
    gaps = code_create(project=p, name="Gaps", parent=skills)
    digital = code_create(project=p, name="Digital", parent=gaps)
    access = code_create(project=p, name="Access", colour="#ffbb78")
    cost = code_create(project=p, name="Cost", parent=access)
    posts = [PostFactory(project=p, text=f"{TEXT} ({i})") for i in range(3)]
    return {
        "skills": skills,
        "gaps": gaps,
        "digital": digital,
        "access": access,
        "cost": cost,
        "posts": posts,
    }


def membership(team, user):
    return Membership.objects.get(project=team.project, user=user)


def node(tree, name):
    for n in review.hierarchy_flatten(tree):
        if n["name"] == name:
            return n
    raise KeyError(name)


def at(coding, minutes):
    """Give a coding a creation time, minutes after a fixed start."""
    start = timezone.make_aware(dt.datetime(2026, 1, 1, 9, 0))
    Coding.objects.filter(pk=coding.pk).update(created_at=start + dt.timedelta(minutes=minutes))


# ------------------------------------------------------------------ hierarchy


def test_hierarchy_counts_roll_up_to_sub_themes_and_themes(team, book):
    a, b = team.coders[0], team.coders[1]
    p0, p1 = book["posts"][0], book["posts"][1]
    coding_apply(post=p0, code=book["digital"], coder=a, start=15, end=29)
    coding_apply(post=p0, code=book["digital"], coder=b, start=15, end=29)
    coding_apply(post=p1, code=book["gaps"], coder=a, start=0, end=9)
    coding_apply(post=p1, code=book["cost"], coder=a, start=39, end=43)
    data = review.hierarchy_get(membership=membership(team, team.supervisor))
    digital, gaps, skills = (node(data["tree"], n) for n in ("Digital", "Gaps", "Skills"))
    assert (digital["own_quotes"], digital["quotes"], digital["posts"], digital["coders"]) == (
        2,
        2,
        1,
        2,
    )
    assert (gaps["own_quotes"], gaps["quotes"], gaps["posts"], gaps["coders"]) == (1, 3, 2, 2)
    assert (skills["own_quotes"], skills["quotes"], skills["posts"]) == (0, 3, 2)
    assert node(data["tree"], "Access")["quotes"] == 1
    assert (
        skills["level"] == "theme" and gaps["level"] == "sub-theme" and digital["level"] == "code"
    )
    assert skills["status"] == "draft" and skills["agreement"] is None
    assert data["agreement"] is None


def _agreement_job(team, codes, *, status="succeeded", finished_minutes=0, alpha=0.5):
    result = {
        "unit": "character",
        "posts": 3,
        "overall": {"alpha": alpha, "alpha_low": None, "alpha_high": None},
        "codes": [
            {"code": c.pk, "alpha": alpha, "percent": 0.9, "kappa": alpha - 0.1} for c in codes
        ],
    }
    return AnalysisJob.objects.create(
        project=team.project,
        kind="agreement",
        params={"coders": [team.coders[0].pk, team.coders[1].pk], "groups": None},
        params_hash="x",
        corpus_version="v",
        status=status,
        result=result if status == "succeeded" else None,
        finished_at=timezone.now() + dt.timedelta(minutes=finished_minutes),
    )


def test_hierarchy_agreement_comes_from_the_latest_succeeded_comparison(team, book):
    _agreement_job(team, [book["skills"]], finished_minutes=-10, alpha=0.2)
    _agreement_job(team, [book["skills"], book["digital"]], finished_minutes=-5, alpha=0.7)
    _agreement_job(team, [], status="failed", finished_minutes=0)
    data = review.hierarchy_get(membership=membership(team, team.supervisor))
    assert node(data["tree"], "Skills")["agreement"] == {
        "alpha": 0.7,
        "percent": 0.9,
        "kappa": pytest.approx(0.6),
    }
    assert node(data["tree"], "Access")["agreement"] is None
    assert data["agreement"]["coders"] == ["cora", "cole"]
    assert "Krippendorff" in data["agreement"]["methods"]
    # Agreement describes other coders' work: a coder's view leaves it out.
    coder_view = review.hierarchy_get(membership=membership(team, team.coder))
    assert (
        node(coder_view["tree"], "Skills")["agreement"] is None and coder_view["agreement"] is None
    )


def test_hierarchy_leaves_out_the_consensus_layer(team, book):
    coding_apply(post=book["posts"][0], code=book["digital"], coder=team.coder, start=15, end=29)
    coding_apply(
        post=book["posts"][0],
        code=book["digital"],
        coder=consensus_coder(project=team.project),
        start=15,
        end=29,
    )
    data = review.hierarchy_get(membership=membership(team, team.supervisor))
    assert node(data["tree"], "Digital")["quotes"] == 1


# ------------------------------------------------------------------ co-occurrence


def test_cooccurrence_same_post_against_overlapping_spans(team, book):
    a = team.coder
    p0, p1 = book["posts"][0], book["posts"][1]
    # Post 0: Digital [15, 29) overlaps Gaps [0, 20); Cost [39, 43) overlaps neither.
    coding_apply(post=p0, code=book["digital"], coder=a, start=15, end=29)
    coding_apply(post=p0, code=book["gaps"], coder=a, start=0, end=20)
    coding_apply(post=p0, code=book["cost"], coder=a, start=39, end=43)
    # Post 1: Digital and Cost, apart.
    coding_apply(post=p1, code=book["digital"], coder=a, start=15, end=29)
    coding_apply(post=p1, code=book["cost"], coder=a, start=39, end=43)
    m = membership(team, team.supervisor)

    def cell(data, x, y):
        ids = [c["id"] for c in data["codes"]]
        return data["values"][ids.index(book[x].pk)][ids.index(book[y].pk)]

    same_post = review.cooccurrence_get(membership=m, mode="post")
    assert cell(same_post, "digital", "cost") == 2
    assert cell(same_post, "digital", "gaps") == cell(same_post, "gaps", "digital") == 1
    assert cell(same_post, "digital", "digital") == 2  # the diagonal: posts with the code
    spans = review.cooccurrence_get(membership=m, mode="span")
    assert cell(spans, "digital", "cost") == 0
    assert cell(spans, "digital", "gaps") == 1
    assert [c["name"] for c in spans["codes"]] == ["Gaps", "Digital", "Cost"]  # codebook order
    # Touching spans ([0, 15) then [15, 29)) do not overlap.
    coding_apply(post=p1, code=book["gaps"], coder=a, start=0, end=15)
    spans = review.cooccurrence_get(membership=m, mode="span")
    assert cell(spans, "digital", "gaps") == 1
    posts = review.cooccurrence_posts(membership=m, a=book["digital"].pk, b=book["cost"].pk)
    assert [p["id"] for p in posts] == [p0.pk, p1.pk]
    assert (
        review.cooccurrence_posts(
            membership=m, a=book["digital"].pk, b=book["cost"].pk, mode="span"
        )
        == []
    )


def test_cooccurrence_by_theme_rolls_codes_up(team, book):
    a = team.coder
    coding_apply(post=book["posts"][0], code=book["digital"], coder=a, start=15, end=29)
    coding_apply(post=book["posts"][0], code=book["cost"], coder=a, start=20, end=43)
    data = review.cooccurrence_get(
        membership=membership(team, team.supervisor), mode="span", level="theme"
    )
    assert [c["name"] for c in data["codes"]] == ["Skills", "Access"]
    assert data["values"] == [[1, 1], [1, 1]]


def test_cooccurrence_api_rejects_an_unknown_mode(team, book, api_for):
    response = api_for(team.supervisor).get("/api/projects/study/review/cooccurrence/?mode=nope")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "errors"}


# ------------------------------------------------------------------ saturation


def test_saturation_hand_computed_per_coder_and_overall(team, book):
    """cora codes p0 (Digital, Cost) at 1', p1 (Digital) at 5', p2 (Gaps) at 9';
    cole codes p2 (Cost) at 2' and p1 (Access) at 3'.
    cora:    p0 +Digital +Cost → 2; p1 → 2; p2 +Gaps → 3.
    cole:    p2 +Cost → 1; p1 +Access → 2.
    overall (first coding by anyone): p0 (1'), p2 (2'), p1 (3'):
             p0 {Digital, Cost} → 2; p2 {Gaps, Cost} +Gaps → 3; p1 {Digital, Access} +Access → 4."""
    cora, cole = team.coders[0], team.coders[1]
    p0, p1, p2 = book["posts"]
    for post, code, coder, minute in [
        (p0, "digital", cora, 1),
        (p0, "cost", cora, 4),
        (p1, "digital", cora, 5),
        (p2, "gaps", cora, 9),
        (p2, "cost", cole, 2),
        (p1, "access", cole, 3),
    ]:
        coding, _ = coding_apply(post=post, code=book[code], coder=coder, start=0, end=5)
        at(coding, minute)
    data = review.saturation_get(membership=membership(team, team.supervisor), window=1)
    overall = data["overall"]["points"]
    assert [p["post"] for p in overall] == [p0.pk, p2.pk, p1.pk]
    assert [p["distinct"] for p in overall] == [2, 3, 4]
    assert [[c["name"] for c in p["new"]] for p in overall] == [
        ["Digital", "Cost"],
        ["Gaps"],
        ["Access"],
    ]
    by_coder = {s["label"]: s for s in data["coders"]}
    assert [p["post"] for p in by_coder["cora"]["points"]] == [p0.pk, p1.pk, p2.pk]
    assert [p["distinct"] for p in by_coder["cora"]["points"]] == [2, 2, 3]
    assert [p["distinct"] for p in by_coder["cole"]["points"]] == [1, 2]
    assert data["overall"]["verdict"] == {
        "saturated": False,
        "text": "Not yet: post 3 of 3 added “Access”.",
        "last_new": 3,
    }
    assert by_coder["cora"]["verdict"]["text"] == "Not yet: post 3 of 3 added “Gaps”."


def test_saturation_verdict_says_when_the_last_posts_added_nothing():
    def points(news):
        return [
            {"index": i, "new": [{"name": n} for n in new]} for i, new in enumerate(news, start=1)
        ]

    five_quiet = points([["A", "B"], ["C"], [], [], [], [], []])
    assert review.saturation_verdict(five_quiet, 5)["text"] == (
        "Saturation: the last 5 posts coded added no new code."
    )
    assert review.saturation_verdict(five_quiet, 5)["saturated"]
    assert not review.saturation_verdict(five_quiet, 6)["saturated"]
    assert review.saturation_verdict(five_quiet, 6)["text"] == "Not yet: post 2 of 7 added “C”."
    assert review.saturation_verdict(points([["A"], ["B", "C"]]), 5)["text"] == (
        "Not yet: post 2 of 2 added “B” and “C”."
    )
    assert review.saturation_verdict([], 5)["text"] == "No post has been coded yet."


def test_saturation_page_renders_the_verdict_and_the_window(team, book):
    coding_apply(post=book["posts"][0], code=book["digital"], coder=team.coder, start=0, end=5)
    client = Client()
    client.force_login(team.supervisor)
    response = client.get("/p/study/review/saturation/?window=3")
    assert response.status_code == 200
    assert "Not yet: post 1 of 1 added “Digital”." in response.content.decode()
    assert 'value="3"' in response.content.decode()


# ------------------------------------------------------------------ status and comments


def test_supervisor_sets_status_and_the_pending_list_follows(team, book, api_for):
    api = api_for(team.supervisor)
    response = api.post(
        f"/api/projects/study/review/codes/{book['digital'].pk}/status/",
        {"status": "approved"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    api.post(
        f"/api/projects/study/review/codes/{book['cost'].pk}/status/",
        {"status": "needs_work"},
        format="json",
    )
    assert CodeReview.objects.get(code=book["digital"]).updated_by == team.supervisor
    data = review.hierarchy_get(membership=membership(team, team.supervisor))
    pending = review.review_pending_list(hierarchy=data)
    assert pending[0]["name"] == "Cost"  # needing work comes first
    assert "Digital" not in [n["name"] for n in pending]
    bad = api.post(
        f"/api/projects/study/review/codes/{book['cost'].pk}/status/",
        {"status": "done"},
        format="json",
    )
    assert bad.status_code == 400


def test_comments_reach_their_addressee_or_all_coders(team, book, api_for):
    cora, cole = team.coders[0], team.coders[1]
    sam = api_for(team.supervisor)
    url = "/api/projects/study/review/comments/"
    to_cora = sam.post(
        url,
        {
            "code": book["digital"].pk,
            "text": "Only the skill, not the sentence.",
            "addressed_to": cora.pk,
        },
        format="json",
    )
    assert to_cora.status_code == 201, to_cora.json()
    to_all = sam.post(
        url, {"code": book["cost"].pk, "text": "Cost means money only."}, format="json"
    )
    assert to_all.status_code == 201
    mine = {c["text"] for c in api_for(cora).get(url).json()["results"]}
    assert mine == {"Only the skill, not the sentence.", "Cost means money only."}
    theirs = {c["text"] for c in api_for(cole).get(url + "?for=me").json()["results"]}
    assert theirs == {"Cost means money only."}
    assert len(sam.get(url).json()["results"]) == 2
    assert {c["text"] for c in sam.get(url + "?for=me").json()["results"]} == {
        "Cost means money only."
    }
    # The coder reads them on the review page too.
    client = Client()
    client.force_login(cole)
    page = client.get("/p/study/review/").content.decode()
    assert "Cost means money only." in page and "Only the skill" not in page
    resolved = sam.post(f"{url}{to_all.json()['id']}/resolve/", {"resolved": True}, format="json")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    assert api_for(cole).get(url + "?open=1").json()["results"] == []


def test_comment_must_address_a_member_and_name_a_code_of_the_project(team, book, api_for):
    sam = api_for(team.supervisor)
    url = "/api/projects/study/review/comments/"
    outsider = sam.post(
        url,
        {"code": book["cost"].pk, "text": "Hi", "addressed_to": team.outsider.pk},
        format="json",
    )
    assert outsider.status_code == 400
    assert sam.post(url, {"code": 999999, "text": "Hi"}, format="json").status_code == 400
    assert sam.post(url, {"code": book["cost"].pk, "text": "  "}, format="json").status_code == 400
    assert ReviewComment.objects.count() == 0


def test_quotes_endpoint_lists_the_code_and_its_sub_codes_with_links(team, book, api_for):
    post = book["posts"][0]
    coding, _ = coding_apply(post=post, code=book["digital"], coder=team.coder, start=15, end=29)
    coding_apply(post=post, code=book["cost"], coder=team.coder, start=39, end=43)
    data = (
        api_for(team.supervisor)
        .get(f"/api/projects/study/review/quotes/?code={book['skills'].pk}")
        .json()
    )
    assert data["total"] == 1
    quote = data["quotes"][0]
    assert (
        quote["quote"] == "digital skills"
        and quote["code"] == "Digital"
        and quote["coder"] == "cora"
    )
    assert quote["url"] == f"/p/study/posts/{post.pk}/#coding-{coding.pk}"
    assert quote["author"] == post.author


# ------------------------------------------------------------------ roles and blind mode


def test_coder_cannot_set_status_comment_resolve_or_open_the_report(team, book, api_for):
    sam = api_for(team.supervisor)
    comment = sam.post(
        "/api/projects/study/review/comments/",
        {"code": book["cost"].pk, "text": "Check."},
        format="json",
    ).json()
    coder = api_for(team.coder)
    status = coder.post(
        f"/api/projects/study/review/codes/{book['cost'].pk}/status/",
        {"status": "approved"},
        format="json",
    )
    assert status.status_code == 403
    assert set(status.json()) >= {"detail", "errors"}
    add = coder.post(
        "/api/projects/study/review/comments/",
        {"code": book["cost"].pk, "text": "Mine"},
        format="json",
    )
    assert add.status_code == 403
    resolve = coder.post(
        f"/api/projects/study/review/comments/{comment['id']}/resolve/", {}, format="json"
    )
    assert resolve.status_code == 403
    assert not CodeReview.objects.exists()
    assert ReviewComment.objects.get().resolved_at is None
    client = Client()
    client.force_login(team.coder)
    assert client.get("/p/study/report/").status_code == 403
    assert client.get("/p/study/report/download/?format=docx").status_code == 403
    assert client.get("/p/study/report/figures/saturation.svg").status_code == 403
    # The review and saturation pages are open to coders, read-only.
    page = client.get("/p/study/review/")
    assert page.status_code == 200
    assert page.context["page_data"]["can_review"] is False
    assert client.get("/p/study/review/saturation/").status_code == 200


def test_non_members_get_404_and_anonymous_users_the_login_page(team, book, api_for):
    olga = api_for(team.outsider)
    for url in [
        "/api/projects/study/review/hierarchy/",
        f"/api/projects/study/review/quotes/?code={book['cost'].pk}",
        "/api/projects/study/review/comments/",
        "/api/projects/study/review/cooccurrence/",
        f"/api/projects/study/review/cooccurrence/posts/?a={book['cost'].pk}&b={book['cost'].pk}",
    ]:
        assert olga.get(url).status_code == 404, url
    assert (
        olga.post(
            f"/api/projects/study/review/codes/{book['cost'].pk}/status/",
            {"status": "approved"},
            format="json",
        ).status_code
        == 404
    )
    client = Client()
    client.force_login(team.outsider)
    for url in [
        "/p/study/review/",
        "/p/study/review/saturation/",
        "/p/study/report/",
        "/p/study/report/download/",
    ]:
        assert client.get(url).status_code == 404, url
    anonymous = Client()
    response = anonymous.get("/p/study/review/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert api_for(None).get("/api/projects/study/review/hierarchy/").status_code in (401, 403)


def test_a_code_of_another_project_is_not_found(team, book, api_for):
    from tests.factories import CodeFactory

    elsewhere = CodeFactory()
    sam = api_for(team.admin)
    assert (
        sam.post(
            f"/api/projects/study/review/codes/{elsewhere.pk}/status/",
            {"status": "approved"},
            format="json",
        ).status_code
        == 404
    )
    assert sam.get(f"/api/projects/study/review/quotes/?code={elsewhere.pk}").status_code == 404


def test_blind_coder_sees_only_their_own_codings(team, book, api_for):
    team.project.blind_coding = True
    team.project.save()
    cora, cole = team.coders[0], team.coders[1]
    p0 = book["posts"][0]
    coding_apply(post=p0, code=book["digital"], coder=cora, start=15, end=29)
    coding_apply(post=p0, code=book["cost"], coder=cole, start=39, end=43)
    coding_apply(post=book["posts"][1], code=book["gaps"], coder=cole, start=0, end=9)
    api = api_for(cora)
    tree = api.get("/api/projects/study/review/hierarchy/").json()
    assert tree["blind"] is True
    assert node(tree["tree"], "Skills")["quotes"] == 1
    assert node(tree["tree"], "Access")["quotes"] == 0
    quotes = api.get(f"/api/projects/study/review/quotes/?code={book['skills'].pk}").json()
    assert [q["coder"] for q in quotes["quotes"]] == ["cora"]
    matrix = api.get("/api/projects/study/review/cooccurrence/").json()
    assert [c["name"] for c in matrix["codes"]] == ["Digital"]
    assert (
        api.get(
            f"/api/projects/study/review/cooccurrence/posts/?a={book['cost'].pk}&b={book['cost'].pk}"
        ).json()["results"]
        == []
    )
    saturation = review.saturation_get(membership=membership(team, cora))
    assert [s["label"] for s in saturation["coders"]] == ["cora"]
    assert saturation["overall"]["points"][-1]["distinct"] == 1
    # The supervisor still sees everyone's.
    sam = api_for(team.supervisor).get("/api/projects/study/review/hierarchy/").json()
    assert node(sam["tree"], "Skills")["quotes"] == 2 and sam["blind"] is False


def test_hierarchy_reflects_a_move_through_the_codebook_api(team, book, api_for):
    sam = api_for(team.supervisor)
    moved = sam.post(
        f"/api/codes/{book['cost'].pk}/move/", {"parent": book["skills"].pk}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    tree = sam.get("/api/projects/study/review/hierarchy/").json()["tree"]
    assert [c["name"] for c in tree[0]["children"]] == ["Gaps", "Cost"]
    assert (
        sam.post(f"/api/codes/{book['cost'].pk}/move/", {"parent": None}, format="json").status_code
        == 200
    )
    tree = sam.get("/api/projects/study/review/hierarchy/").json()["tree"]
    assert [t["name"] for t in tree] == ["Skills", "Access", "Cost"]

"""Criteria, theoretical marks, recorded samples and assignments, on PostgreSQL."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from coding_app.models import Assignment
from corpus import services
from corpus.sampling import Criteria
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

REFERENCE = date(2026, 11, 28)


def criteria(**kwargs) -> Criteria:
    base = dict(
        min_words=None,
        max_words=None,
        date_from=None,
        date_to=None,
        months_before=None,
        reference_date=None,
        keywords=[],
        exclude_keywords=[],
        authors=[],
        metadata={},
    )
    return Criteria(**(base | kwargs))


@pytest.fixture
def study_corpus(team):
    """60 posts: every other one long enough; dates spread over ten months."""
    posts = []
    for i in range(60):
        words = 120 if i % 2 == 0 else 40
        text = f"Post {i} " + " ".join(["skills"] * (words - 2))
        posted = datetime(2026, 11, 27, tzinfo=UTC) - timedelta(days=5 * i)
        posts.append(
            PostFactory(project=team.project, text=text, word_count=words, posted_at=posted)
        )
    return posts


def test_pool_applies_min_words_and_months_window(team, study_corpus):
    c = criteria(min_words=100, months_before=5, reference_date=REFERENCE)
    pool = list(services.pool_list(project=team.project, criteria=c))
    start = datetime(2026, 6, 28, tzinfo=UTC)
    expected = [p for p in study_corpus if p.word_count >= 100 and p.posted_at >= start]
    assert {p.pk for p in pool} == {p.pk for p in expected}
    assert [p.posted_at for p in pool] == sorted(p.posted_at for p in pool)  # sampling order


def test_keywords_match_whole_words_case_insensitively(team):
    a = PostFactory(project=team.project, text="Access to learning matters")
    PostFactory(project=team.project, text="Accessibility is different")
    b = PostFactory(project=team.project, text="Open ACCESS and skills")
    pool = services.pool_list(project=team.project, criteria=criteria(keywords=["access"]))
    assert {p.pk for p in pool} == {a.pk, b.pk}
    excluded = services.pool_list(
        project=team.project, criteria=criteria(keywords=["access"], exclude_keywords=["skills"])
    )
    assert {p.pk for p in excluded} == {a.pk}


def test_metadata_attribute_filters_pool(team):
    a = PostFactory(project=team.project, metadata={"sector": "health"})
    PostFactory(project=team.project, metadata={"sector": "retail"})
    pool = services.pool_list(
        project=team.project, criteria=criteria(metadata={"sector": "health"})
    )
    assert [p.pk for p in pool] == [a.pk]


def test_marked_not_relevant_leaves_pool_and_is_recorded_in_sample(team, study_corpus):
    c = criteria(min_words=100)
    first = services.pool_list(project=team.project, criteria=c).first()
    services.post_mark_set(post=first, relevant=False, note="advert", user=team.supervisor)
    assert first not in services.pool_list(project=team.project, criteria=c)
    sample = services.sample_create(
        project=team.project, name="S", criteria=c, method="all", user=team.supervisor
    )
    assert first.pk not in sample.pool_ids
    assert sample.marks[str(first.pk)] == {"relevant": False, "note": "advert"}


def test_systematic_sample_of_45_keeps_15_from_position_2(team):
    for i in range(45):
        PostFactory(
            project=team.project, posted_at=datetime(2026, 7, 1, tzinfo=UTC) + timedelta(hours=i)
        )
    sample = services.sample_create(
        project=team.project,
        name="Study",
        criteria=criteria(),
        method="systematic",
        k=3,
        start=2,
        user=team.supervisor,
    )
    assert len(sample.pool_ids) == 45
    assert sample.post_ids == sample.pool_ids[1::3]
    assert len(sample.post_ids) == 15
    assert "45 posts" in sample.description and "15 posts" in sample.description
    assert "every third" in sample.description


def test_rerun_of_recipe_gives_same_sample_until_corpus_changes(team, study_corpus):
    c = criteria(min_words=100, months_before=5, reference_date=REFERENCE)
    sample = services.sample_create(
        project=team.project,
        name="Seeded",
        criteria=c,
        method="systematic",
        k=3,
        seed=11,
    )
    again = services.sample_rerun(sample=sample)
    assert again["same_pool"] and again["same_sample"]
    PostFactory(
        project=team.project,
        text="new " * 130,
        word_count=130,
        posted_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert not services.sample_rerun(sample=sample)["same_pool"]


def test_random_sample_is_seeded(team, study_corpus):
    a = services.sample_create(
        project=team.project, name="A", criteria=criteria(), method="random", n=10, seed=5
    )
    b = services.sample_create(
        project=team.project, name="B", criteria=criteria(), method="random", n=10, seed=5
    )
    assert a.post_ids == b.post_ids and len(a.post_ids) == 10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "systematic", "k": 3, "start": 5}, "start"),
        ({"method": "systematic", "k": 3}, "start"),
        ({"method": "random", "n": 1000, "seed": 1}, "n"),
        ({"method": "random", "n": 3}, "seed"),
    ],
)
def test_sample_create_rejects_incomplete_recipe(team, study_corpus, kwargs, field):
    with pytest.raises(ValidationError) as info:
        services.sample_create(project=team.project, name="X", criteria=criteria(), **kwargs)
    assert field in info.value.message_dict


def test_sample_with_empty_pool_is_refused(team, study_corpus):
    with pytest.raises(ValidationError) as info:
        services.sample_create(
            project=team.project, name="X", criteria=criteria(min_words=10_000), method="all"
        )
    assert "No post meets" in info.value.message_dict["criteria"][0]


def test_assignment_gives_each_post_to_two_coders_balanced(team, study_corpus):
    sample = services.sample_create(
        project=team.project, name="S", criteria=criteria(), method="all"
    )
    coder_ids = [c.pk for c in team.coders]
    services.assignment_bulk_create(
        project=team.project,
        post_ids=sample.post_ids,
        coder_ids=coder_ids,
        per_post=2,
        seed=3,
        user=team.supervisor,
        sample=sample,
    )
    for post_id in sample.post_ids:
        assert Assignment.objects.filter(post_id=post_id).count() == 2
    loads = [Assignment.objects.filter(coder_id=c).count() for c in coder_ids]
    assert max(loads) - min(loads) <= 1 and sum(loads) == 120
    # Assigning again adds nothing twice.
    services.assignment_bulk_create(
        project=team.project,
        post_ids=sample.post_ids,
        coder_ids=coder_ids,
        per_post=2,
        seed=3,
    )
    assert Assignment.objects.count() == 120


def test_assignment_refuses_non_member_coder(team, study_corpus):
    with pytest.raises(ValidationError):
        services.assignment_bulk_create(
            project=team.project,
            post_ids=[study_corpus[0].pk],
            coder_ids=[team.outsider.pk],
            per_post=1,
            seed=1,
        )


def test_sample_command_prints_recipe(team):
    for i in range(45):
        PostFactory(
            project=team.project,
            text=f"Post {i} " + "skills " * 110,
            word_count=112,
            posted_at=datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=i),
        )
    out = io.StringIO()
    call_command(
        "sample",
        "--project",
        team.project.slug,
        "--min-words",
        "100",
        "--months",
        "5",
        "--reference-date",
        "2026-11-28",
        "--every",
        "3",
        "--start",
        "2",
        "--name",
        "Study",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    assert payload["pool_size"] == 45 and len(payload["post_ids"]) == 15
    assert payload["description"].startswith("45 posts met the criteria")


def test_pool_api_counts_and_marks_need_supervisor(team, api_for, study_corpus):
    client = api_for(team.coder)
    body = client.get(f"/api/pool/?project={team.project.slug}&min_words=100").json()
    assert body["count"] == 30
    url = f"/api/posts/{study_corpus[0].pk}/mark/"
    assert client.post(url, {"relevant": False}, format="json").status_code == 403
    assert (
        api_for(team.supervisor)
        .post(url, {"relevant": False, "note": "ad"}, format="json")
        .status_code
        == 200
    )
    assert client.get(f"/api/pool/?project={team.project.slug}&min_words=100").json()["count"] == 29
    assert api_for(team.outsider).get(f"/api/pool/?project={team.project.slug}").status_code == 404


def test_sampling_pages_render_and_draw_sample(client, team, study_corpus):
    client.force_login(team.supervisor)
    html = client.get(f"/p/{team.project.slug}/sampling/?min_words=100").content.decode()
    assert "30</strong> of 60 posts" in html
    response = client.post(
        f"/p/{team.project.slug}/sampling/",
        {"min_words": "100", "name": "Study", "method": "systematic", "k": "3", "start": "2"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "30 posts met the criteria" in page and "10 posts" in page
    client.force_login(team.coder)
    response = client.post(f"/p/{team.project.slug}/sampling/", {"name": "No", "method": "all"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "recipe",
    [{"method": "systematic", "k": "3"}, {"method": "random", "n": "5"}],
)
def test_the_page_draws_and_records_a_seed_left_out(client, team, study_corpus, recipe):
    client.force_login(team.supervisor)
    url = f"/p/{team.project.slug}/sampling/"
    response = client.post(url, {"min_words": "100", "name": "Seedless", **recipe}, follow=True)
    sample = team.project.samples.get(name="Seedless")
    assert sample.seed is not None
    assert f"(seed {sample.seed}, drawn for you)" in response.content.decode()
    rerun = services.sample_rerun(sample=sample)  # the recorded recipe draws it again
    assert rerun["same_sample"] is True
    # A seed or start position given is used as given, and none is drawn.
    client.post(url, {"name": "Given", "method": "systematic", "k": "3", "start": "2"})
    given = team.project.samples.get(name="Given")
    assert (given.start, given.seed) == (2, None)
    client.post(url, {"name": "Seeded", "method": "random", "n": "5", "seed": "7"})
    assert team.project.samples.get(name="Seeded").seed == 7


def test_near_duplicate_review_keeps_or_excludes_later_post(client, team):
    from corpus.models import NearDuplicate

    a = PostFactory(project=team.project)
    b = PostFactory(project=team.project)
    pair = NearDuplicate.objects.create(project=team.project, post=b, similar_to=a, similarity=0.9)
    client.force_login(team.coder)
    assert (
        client.post(
            f"/p/{team.project.slug}/near-duplicates/{pair.pk}/", {"action": "exclude"}
        ).status_code
        == 403
    )
    client.force_login(team.supervisor)
    client.post(f"/p/{team.project.slug}/near-duplicates/{pair.pk}/", {"action": "exclude"})
    pair.refresh_from_db()
    assert pair.status == "excluded"
    assert b not in services.pool_list(project=team.project, criteria=criteria())
    assert "Near-duplicate of post" in b.mark.note


def test_metadata_filter_takes_odd_keys_literally(team):
    a = PostFactory(project=team.project, metadata={"sector__x": "health", "n": 12})
    PostFactory(project=team.project, metadata={"sector": "health"})
    pool = services.pool_list(
        project=team.project, criteria=criteria(metadata={"sector__x": "health"})
    )
    assert [p.pk for p in pool] == [a.pk]
    assert [
        p.pk
        for p in services.pool_list(project=team.project, criteria=criteria(metadata={"n": "12"}))
    ] == [a.pk]


def test_a_sample_page_without_coders_sends_an_admin_to_the_members_page(
    client, team, study_corpus
):
    from coding_app.models import Membership

    client.force_login(team.supervisor)
    url = f"/p/{team.project.slug}/sampling/"
    response = client.post(url, {"name": "Early", "method": "systematic", "k": "3", "start": "1"})
    sample_url = response["Location"]
    assert 'id="no-coders"' not in client.get(sample_url).content.decode()
    Membership.objects.filter(project=team.project, role="coder").delete()
    page = client.get(sample_url).content.decode()
    assert "The project has no coders yet. An admin of the project adds them" in page
    client.force_login(team.admin)
    page = client.get(sample_url).content.decode()
    assert f'Add them on the <a href="/p/{team.project.slug}/members/">Members</a> page' in page


def test_the_sampling_page_of_a_project_without_posts_says_to_import_first(client, team):
    client.force_login(team.admin)
    html = client.get(f"/p/{team.project.slug}/sampling/").content.decode()
    assert f'<a href="/p/{team.project.slug}/imports/">Import posts</a>, then choose' in html
    assert "Loosen a criterion" not in html

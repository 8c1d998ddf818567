"""Large frequency jobs counted in chunks by any free worker: the same counts as one pass,
each chunk counted once, and a chunk whose helper died taken back."""

from collections import Counter

import pytest
from django.utils import timezone

from analysis import parallel, services
from analysis.models import AnalysisChunk, AnalysisJob
from analysis.text.tokenize import words
from coding_app.access import project_access
from corpus.models import JobStatus
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

TEXTS = [
    f"Post {i}: employers weigh micro-credentials, badges and skills; learners ask about cost {i}."
    for i in range(23)
]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(parallel, "CHUNK_DOCS", 4)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_DOCS", 8)


def job_over_texts(team, status=JobStatus.RUNNING):
    """TEXTS as the team's posts, a frequency job in `status`, and its documents."""
    for text in TEXTS:
        PostFactory(project=team.project, text=text)
    job = AnalysisJob.objects.create(
        project=team.project, kind="frequency", params={}, status=status
    )
    return job, team.project.posts.order_by("id").values_list("id", "text")


def never():
    raise AssertionError("the job was not cancelled")


def frequency(team, django_capture_on_commit_callbacks):
    membership = project_access(team.coder, team.project)
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = services.analysis_request(
            membership=membership,
            kind="frequency",
            params={"min_length": 1, "stopwords": False, "top": 1000},
            user=team.coder,
        )
    job.refresh_from_db()
    return job


def test_chunked_counting_gives_the_single_pass_counts(
    team, small_chunks, django_capture_on_commit_callbacks, monkeypatch
):
    for text in TEXTS:
        PostFactory(project=team.project, text=text)
    claimed = []
    original = parallel.chunk_count
    monkeypatch.setattr(
        parallel,
        "chunk_count",
        lambda chunk, rows, **kw: (claimed.append(chunk.index), original(chunk, rows, **kw))[1],
    )
    job = frequency(team, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.SUCCEEDED, job.message
    expected = Counter(w for text in TEXTS for w in words(text))
    assert {w["word"]: w["count"] for w in job.result["words"]} == dict(expected)
    assert sorted(claimed) == list(range(6))  # 23 posts in chunks of 4: each counted once
    assert not AnalysisChunk.objects.filter(job=job).exists()


def test_a_chunk_whose_helper_died_is_taken_back(team, small_chunks):
    job, rows = job_over_texts(team)

    def helper_that_dies(job_id):
        chunk = parallel.chunk_claim(job_id)
        if chunk is not None:  # claimed, then the worker was killed before counting
            AnalysisChunk.objects.filter(pk=chunk.pk).update(
                claimed_at=timezone.now() - timezone.timedelta(hours=1)
            )

    counts = parallel.count_in_chunks(
        job, rows, len(TEXTS), enqueue=helper_that_dies, cancelled=never
    )
    assert counts == Counter(w for text in TEXTS for w in words(text))


def test_helpers_stop_when_the_job_is_no_longer_running(team, small_chunks):
    job, rows = job_over_texts(team, JobStatus.CANCELLED)
    parallel.chunks_plan(job, rows, rows.count())
    assert parallel.chunks_help(job.pk, rows) == 0
    assert services.analysis_chunks_help(job_id=job.pk) == 0


def test_helpers_chunks_are_merged_once_each(team, small_chunks, monkeypatch):
    """Helpers keep their counts on the chunk (packed); the job merges them with its own,
    once each. Here every helper finds work, so each sends the next."""
    job, rows = job_over_texts(team)
    counted, sent = [], []
    original = parallel.chunk_count
    monkeypatch.setattr(
        parallel,
        "chunk_count",
        lambda chunk, rows, **kw: (counted.append(chunk.index), original(chunk, rows, **kw))[1],
    )

    def helper(job_id):  # a helper task, run at once (as by a free worker)
        sent.append(job_id)
        parallel.chunks_help(job_id, rows, enqueue=helper)

    counts = parallel.count_in_chunks(job, rows, len(TEXTS), enqueue=helper, cancelled=never)
    assert sorted(counted) == list(range(6))  # 23 posts in chunks of 4, each counted once
    assert len(sent) == 6  # the job sent one helper; five helpers each sent one more
    assert counts == Counter(w for text in TEXTS for w in words(text))


def test_the_job_sends_one_helper_and_a_helper_with_nothing_left_sends_none(team, small_chunks):
    job, rows = job_over_texts(team)
    sent = []

    counts = parallel.count_in_chunks(job, rows, len(TEXTS), enqueue=sent.append, cancelled=never)
    assert sent == [job.pk]  # not one per chunk: the helpers found nothing left
    assert counts == Counter(w for text in TEXTS for w in words(text))
    assert parallel.chunks_help(job.pk, rows, enqueue=sent.append) == 0
    assert sent == [job.pk]
    # The last chunk: a helper that takes it while no other waits sends no one.
    last = parallel.chunks_plan(job, rows, rows.count())[-1]
    AnalysisChunk.objects.filter(job=job).exclude(pk=last.pk).update(status=JobStatus.SUCCEEDED)
    assert parallel.chunks_help(job.pk, rows, enqueue=sent.append) == 1
    assert sent == [job.pk]


@pytest.mark.parametrize("documents", [0, 1, 4, 5, 8, 23])
def test_chunks_plan_cuts_the_scope_in_id_order(team, small_chunks, documents):
    """Chunk edges come from the database's numbering of the scope alone: other projects'
    posts between the scope's ids, and deleted ids, change nothing."""
    from corpus.models import Post
    from tests.factories import ProjectFactory

    elsewhere = ProjectFactory()
    for i in range(documents + 6):
        PostFactory(project=team.project, text=f"post {i}")
        PostFactory(project=elsewhere, text=f"elsewhere {i}")
    deleted = list(team.project.posts.order_by("id").values_list("id", flat=True)[1:12:2])
    Post.objects.filter(pk__in=deleted).delete()
    job = AnalysisJob.objects.create(
        project=team.project, kind="frequency", params={}, status=JobStatus.RUNNING
    )
    rows = team.project.posts.order_by("id").values_list("id", "text")
    ids = list(rows.values_list("id", flat=True))[:documents]
    rows = rows.filter(id__in=ids) if documents else rows.none()
    chunks = parallel.chunks_plan(job, rows, len(ids))
    starts = ids[::4]
    assert [c.first_id for c in chunks] == starts
    # Each chunk ends where the next starts; the last is open (posts that became visible
    # since are not left out).
    assert [c.last_id for c in chunks] == [i - 1 for i in starts[1:]] + [parallel.OPEN_END] * bool(
        starts
    )
    texts = dict(Post.objects.values_list("id", "text"))
    assert [parallel.chunk_texts(c, rows) for c in chunks] == [
        [texts[i] for i in ids[n : n + 4]] for n in range(0, len(ids), 4)
    ]
    assert [c.documents for c in chunks] == [len(ids[i : i + 4]) for i in range(0, len(ids), 4)]
    assert [c.index for c in chunks] == list(range(len(starts)))
    assert AnalysisChunk.objects.filter(job=job).count() == len(starts)

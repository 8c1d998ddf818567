"""A large frequency job counted by two real Celery workers on Redis: the job's task sends one
helper, helpers send one another through the broker, and the merged counts are the
single-pass counts."""

import time
import uuid
from collections import Counter

import pytest

from analysis import services
from analysis.models import AnalysisChunk, AnalysisJob
from analysis.tasks import analysis_run_task
from analysis.text.tokenize import words
from coding_app.access import project_access
from corpus.models import Post
from tests.conftest import start_celery_worker, stop_celery_worker, tasks_to_workers

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TEXTS = [
    f"Post {i}: employers weigh micro-credentials and skills; learners ask about access {i % 7}."
    for i in range(60)
]


def test_two_workers_count_a_large_job_in_chunks(team, tmp_path):
    Post.objects.bulk_create(
        Post(project=team.project, text=text, content_hash=f"h{i}", word_count=12)
        for i, text in enumerate(TEXTS)
    )
    queue = f"grounded-parallel-{uuid.uuid4().hex[:8]}"
    # Chunks of 5 documents from 10 documents up: 12 chunks for the two workers.
    small = {"GROUNDED_CHUNK_DOCS": "5", "GROUNDED_PARALLEL_MIN_DOCS": "10"}
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [start_celery_worker(queue, log, small) for log in logs]
    try:
        with tasks_to_workers():
            job, _ = services.analysis_request(
                membership=project_access(team.coder, team.project),
                kind="frequency",
                params={"min_length": 1, "stopwords": False, "top": 1000},
                user=team.coder,
                enqueue=False,
            )
            analysis_run_task.apply_async((job.pk,), queue=queue)
            deadline = time.monotonic() + 60
            while (job := AnalysisJob.objects.get(pk=job.pk)).status not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in logs]
                time.sleep(0.1)
            assert job.status == "succeeded", job.message
            expected = Counter(w for text in TEXTS for w in words(text))
            assert {w["word"]: w["count"] for w in job.result["words"]} == dict(expected)
            assert not AnalysisChunk.objects.filter(job=job).exists()
            # The helpers went through the broker: at least one was received and finished.
            received = sum(log.read_text().count("analysis.analysis_chunks[") for log in logs)
            assert received >= 2  # each helper logs "received" and "succeeded"
    finally:
        for worker in workers:
            stop_celery_worker(worker)

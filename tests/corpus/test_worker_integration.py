"""Imports through a real Celery worker on Redis, reading the real (committed) test database."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from corpus.models import ImportBatch, JobStatus, Post
from corpus.tasks import import_batch_run_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(batch_id, statuses=("succeeded", "failed", "cancelled"), timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ImportBatch.objects.get(pk=batch_id)
        if batch.status in statuses:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} still {batch.status} after {timeout}s")


def make_csv(rows: int) -> bytes:
    lines = ["id,text,author"]
    lines += [
        f"{i},Post {i} says skills and access matter for learners number {i},A{i % 7}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_api_upload_runs_on_real_worker(team, api_for, celery_worker):
    upload = SimpleUploadedFile("posts.csv", make_csv(2500), content_type="text/csv")
    response = api_for(team.admin).post(
        "/api/import-batches/", {"project": team.project.slug, "file": upload}, format="multipart"
    )
    assert response.status_code == 202
    batch = wait_for(response.json()["id"])
    assert batch.status == JobStatus.SUCCEEDED, (
        batch.message,
        celery_worker["log"].read_text()[-2000:],
    )
    assert (batch.imported_count, batch.duplicate_count, batch.rejected_count) == (2500, 0, 0)
    assert Post.objects.filter(batch=batch).count() == 2500
    poll = api_for(team.coder).get(f"/api/import-batches/{batch.pk}/").json()
    assert poll["status"] == "succeeded" and poll["progress"] == 1.0


def test_same_job_delivered_twice_is_done_once(team, celery_worker):
    from corpus import services

    batch = services.import_batch_create(
        project=team.project,
        user=team.admin,
        file_name="twice.csv",
        fileobj=SimpleUploadedFile("twice.csv", make_csv(300)),
        enqueue=False,
    )
    import_batch_run_task.delay(batch.pk)
    import_batch_run_task.delay(batch.pk)
    batch = wait_for(batch.pk)
    assert batch.status == JobStatus.SUCCEEDED
    # Wait for the second delivery to be consumed too, then check it changed nothing.
    deadline = time.monotonic() + 30
    while "already claimed" not in celery_worker["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "already claimed" in celery_worker["log"].read_text()
    batch.refresh_from_db()
    assert batch.attempts == 1
    assert Post.objects.filter(project=team.project).count() == 300

"""read_ahead: a query's rows read on a second connection while the caller works."""

import threading

import pytest
from django.db import connection, transaction

from analysis.readahead import read_ahead
from corpus.models import Post
from tests.factories import PostFactory, ProjectFactory


@pytest.fixture
def posts(transactional_db):
    """Committed rows (a second connection sees only committed data)."""
    project = ProjectFactory()
    PostFactory.create_batch(250, project=project)
    return Post.objects.filter(project=project).order_by("id").values_list("id", "text")


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_read_ahead_gives_every_row_in_order_across_chunks(posts):
    assert connection.vendor == "postgresql"
    rows = list(read_ahead(posts, chunk_size=7, max_chunks=2))  # the queue fills up on the way
    assert rows == list(posts)
    assert len(rows) == 250
    assert not _read_ahead_threads()


def test_read_ahead_reads_on_another_connection(posts, monkeypatch):
    seen = []
    original = Post.objects.none().__class__.iterator

    def spy(self, chunk_size=None):
        seen.append(threading.current_thread().name)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(type(posts), "iterator", spy)
    assert len(list(read_ahead(posts))) == 250
    assert seen == ["read-ahead"]


def test_read_ahead_stops_its_reader_when_the_caller_stops_early(posts):
    rows = read_ahead(posts, chunk_size=5, max_chunks=1)
    first = [next(rows) for _ in range(3)]
    assert first == list(posts[:3])
    rows.close()  # the caller gives up (an exception, a break)
    assert not _read_ahead_threads()


def test_read_ahead_raises_the_readers_error_in_the_caller(posts):
    broken = posts.extra(where=["1/0 = 1"])  # fails in PostgreSQL, on the second connection
    with pytest.raises(Exception, match="division by zero"):
        list(read_ahead(broken))
    assert not _read_ahead_threads()


def test_read_ahead_inside_a_transaction_reads_on_this_connection(posts):
    with transaction.atomic():
        project = ProjectFactory()
        PostFactory(project=project, text="not committed yet")
        rows = Post.objects.filter(project=project).values_list("text", flat=True)
        assert list(read_ahead(rows)) == ["not committed yet"]

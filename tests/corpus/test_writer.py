"""The post writer on PostgreSQL: COPY text keeps every character, and the unique indexes
find duplicates across chunks, inside a transaction (inline) and in the background thread."""

import json
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection

from corpus import services
from corpus.importers import PostRecord
from corpus.importers.normalize import content_hash
from corpus.models import ImportBatch, Post
from corpus.near_duplicates import RECORD_SIZE, lsh_record
from corpus.writer import BackgroundWriter, PostWriter, copy_text

AWKWARD = "tab\there, back\\slash, \\N and \\t as typed,\nnew line, cr\rend, emoji 👩🏽‍🔬, NFC é"


def record(n: int, text: str, **fields) -> PostRecord:
    values = {
        "row": n,
        "text": text,
        "author": "",
        "author_headline": "",
        "posted_at": None,
        "url": "",
        "external_id": "",
        "metadata": {},
        "word_count": len(text.split()),
        "content_hash": content_hash(text),
    }
    values.update(fields)
    return PostRecord(**values)


def make_writer(team) -> PostWriter:
    batch = ImportBatch.objects.create(project=team.project, file_name="x.jsonl")
    return PostWriter(project_id=team.project.pk, batch_id=batch.pk)


def test_copy_text_escapes_what_ends_a_field_or_row():
    payload = copy_text([record(1, "a\tb\\c\nd\re")]).decode()
    assert payload.endswith("\n") and payload.count("\n") == 1
    fields = payload[:-1].split("\t")
    assert len(fields) == 10  # the metadata go as one JSON array per chunk
    assert fields[6] == "a\\tb\\\\c\\nd\\re"
    assert fields[4] == "\\N"  # no date: NULL, not the text "None"
    assert fields[9] == "\\N"  # too short for an LSH record


@pytest.mark.django_db
def test_every_character_survives_the_copy(team):
    assert connection.vendor == "postgresql"  # COPY is PostgreSQL's
    when = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    metadata = {'quote "x"': "back\\slash\ttab\r\n", "n": 3, "ok": True, "none": None}
    writer = make_writer(team)
    inserted, duplicates = writer.write(
        [
            record(
                1,
                AWKWARD,
                author="O'Brien \\ Tab\there",
                author_headline="Head\\line",
                posted_at=when,
                url="https://example.org/a?b=c\\d",
                external_id="id\t1",
                metadata=metadata,
            )
        ]
    )
    assert (inserted, duplicates) == (1, 0)
    post = Post.objects.get(project=team.project)
    assert post.text == AWKWARD
    assert post.author == "O'Brien \\ Tab\there"
    assert post.author_headline == "Head\\line"
    assert post.posted_at == when
    assert post.url == "https://example.org/a?b=c\\d"
    assert post.external_id == "id\t1"
    assert post.metadata == json.loads(json.dumps(metadata))
    assert post.batch_id == writer.batch_id


@pytest.mark.django_db
def test_duplicates_by_hash_id_and_url_within_and_across_chunks(team):
    writer = make_writer(team)
    first = [
        record(1, "one"),
        record(2, "two", external_id="x2"),
        record(3, "three", url="https://example.org/3"),
        record(4, "one"),  # same text as row 1, same chunk
    ]
    assert writer.write(first) == (3, 1)
    second = [
        record(5, "other text", external_id="x2"),  # id seen in the first chunk
        record(6, "more text", url="https://example.org/3"),  # URL seen
        record(7, "  two  "),  # same text once whitespace is collapsed
        record(8, "new"),
    ]
    assert writer.write(second) == (1, 3)
    # The first of two rows with the same text is the one kept.
    assert sorted(Post.objects.values_list("text", flat=True)) == ["new", "one", "three", "two"]


@pytest.mark.django_db
def test_inside_a_transaction_the_writer_leaves_its_commit_setting_alone(team):
    """A chunk that is its own transaction commits without waiting for the WAL flush; inside
    an enclosing transaction (this test's) that setting would outlive the chunk."""
    assert connection.in_atomic_block
    assert make_writer(team).write([record(1, "one")]) == (1, 0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db
def test_each_post_gets_its_own_rows_metadata_when_rows_are_skipped(team):
    """The metadata travel as one JSON array per chunk, picked by row position."""
    writer = make_writer(team)
    writer.write([record(1, "kept before", metadata={"n": 0})])
    rows = [
        record(n, "kept before" if n % 3 == 0 else f"text {n}", metadata={"n": n, "s": f"r{n}"})
        for n in range(1, 40)
    ]
    assert writer.write(rows) == (26, 13)
    stored = dict(Post.objects.values_list("text", "metadata"))
    assert stored.pop("kept before") == {"n": 0}
    assert stored == {f"text {n}": {"n": n, "s": f"r{n}"} for n in range(1, 40) if n % 3}


@pytest.mark.django_db(transaction=True)
def test_background_writer_counts_across_many_chunks(team):
    """The thread writes on its own connection and commits each chunk."""
    writer = make_writer(team)
    before = sys.getswitchinterval()
    sink = BackgroundWriter(writer)
    for start in range(0, 5000, 1000):
        # Each chunk repeats the last 100 texts of the one before.
        sink.submit(
            [
                record(n, f"post number {n - 100 if start and n % 1000 < 100 else n}")
                for n in range(start, start + 1000)
            ]
        )
    assert sys.getswitchinterval() == pytest.approx(BackgroundWriter.SWITCH_INTERVAL_S)
    sink.close()
    assert sys.getswitchinterval() == pytest.approx(before)
    assert Post.objects.filter(project=team.project).count() == sink.inserted
    assert sink.inserted + sink.duplicates == 5000
    assert sink.duplicates == 400


@pytest.mark.django_db(transaction=True)
def test_a_failing_chunk_is_reported_to_the_producer(team):
    writer = make_writer(team)
    writer.batch_id = 10**12  # no such batch: the foreign key refuses the chunk
    before = sys.getswitchinterval()
    sink = BackgroundWriter(writer)
    sink.submit([record(1, "a")])
    with pytest.raises(Exception, match="foreign key|violates"):
        sink.close()
    assert sys.getswitchinterval() == pytest.approx(before)  # restored on failure too
    assert not Post.objects.filter(project=team.project).exists()


@pytest.mark.django_db
def test_import_of_a_file_with_awkward_text_reads_back_exactly(team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    line = json.dumps({"id": "a1", "text": AWKWARD, "source": "back\\slash"})
    batch = services.import_batch_create(
        project=team.project,
        user=team.admin,
        file_name="p.jsonl",
        fileobj=SimpleUploadedFile("p.jsonl", (line + "\n").encode()),
        enqueue=False,
    )
    batch = services.import_batch_run(batch_id=batch.pk)
    post = Post.objects.get(project=team.project)
    # Line breaks are normalised to \n on import; everything else is kept.
    assert post.text == AWKWARD.replace("\r", "\n")
    assert post.metadata == {"source": "back\\slash"}


@pytest.mark.django_db
def test_posts_long_enough_carry_their_lsh_record(team):
    long_text = " ".join(f"word{i}" for i in range(30)) + " 👩🏽‍🔬 \\ end"
    writer = make_writer(team)
    assert writer.write([record(1, long_text), record(2, "too short to compare")]) == (2, 0)
    stored = dict(Post.objects.values_list("text", "lsh"))
    assert bytes(stored[long_text]) == lsh_record(long_text)
    assert len(lsh_record(long_text)) == RECORD_SIZE
    assert stored["too short to compare"] is None


@pytest.mark.django_db(transaction=True)
def test_a_large_import_leaves_the_posts_table_vacuumed_and_analysed(team, monkeypatch, tmp_path):
    """After a large import the new pages are all-visible (so a project's posts are counted
    from the (project, id) index alone) and the planner knows the table's size."""
    from corpus.services import imports

    monkeypatch.setattr(imports, "ANALYZE_AFTER_ROWS", 50)
    path = tmp_path / "posts.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"post {n} about skills"}) + "\n" for n in range(400))
    )
    batch = ImportBatch.objects.create(project=team.project, file_name=path.name)
    batch = services.import_batch_run(batch_id=batch.pk, path=str(path))
    assert batch.imported_count == 400
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, relallvisible, reltuples FROM pg_class WHERE relname = %s",
            [Post._meta.db_table],
        )
        pages, all_visible, tuples = cursor.fetchone()
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = %s", [Post._meta.db_table])
        analysed = {row[0] for row in cursor.fetchall()}
    assert pages > 0 and all_visible == pages
    assert tuples >= 400
    assert {"project_id", "batch_id", "posted_at", "word_count"} <= analysed

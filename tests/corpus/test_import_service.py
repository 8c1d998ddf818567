"""Import jobs on PostgreSQL: counts, duplicates, bad files, claims, the stale sweep, the CLI."""

import io
import json
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from corpus import services
from corpus.models import ImportBatch, JobStatus, Post
from corpus.selectors import post_list

pytestmark = pytest.mark.django_db

CSV = (
    "id,content,name,date,link\n"
    "1,Employers ask for skills not degrees,Ana,2026-05-01,https://example.org/1\n"
    '2,"Micro-credentials widen access,\nespecially for adults",Ben,01/06/2026,https://example.org/2\n'
    "3,,Cy,2026-05-03,https://example.org/3\n"
    "4,Stackable badges build a pathway,Di,not a date,https://example.org/4\n"
)


def run_import(team, content: bytes, name="posts.csv", **kwargs):
    batch = services.import_batch_create(
        project=team.project,
        user=team.admin,
        file_name=name,
        fileobj=SimpleUploadedFile(name, content),
        enqueue=False,
        **kwargs,
    )
    return services.import_batch_run(batch_id=batch.pk)


def test_import_csv_counts_rows_and_names_rejected_row(team):
    batch = run_import(team, CSV.encode())
    assert batch.status == JobStatus.SUCCEEDED
    assert (
        batch.total_rows,
        batch.imported_count,
        batch.duplicate_count,
        batch.rejected_count,
    ) == (4, 3, 0, 1)
    assert batch.row_errors == [{"row": 4, "message": "text is empty"}]
    assert any(w["row"] == 5 and "not a date" in w["message"] for w in batch.row_warnings)
    assert batch.progress == 1.0
    post = Post.objects.get(project=team.project, external_id="2")
    assert post.text == "Micro-credentials widen access,\nespecially for adults"
    assert post.author == "Ben"
    assert post.posted_at.year == 2026 and post.posted_at.tzinfo is not None
    assert post.url == "https://example.org/2"
    assert post.word_count == 6
    assert post.metadata == {}


def test_reimport_same_file_adds_nothing_and_reports_duplicates(team):
    run_import(team, CSV.encode())
    again = run_import(team, CSV.encode())
    assert again.status == JobStatus.SUCCEEDED
    assert (again.imported_count, again.duplicate_count, again.rejected_count) == (0, 3, 1)
    assert Post.objects.filter(project=team.project).count() == 3


def test_duplicates_within_one_file_are_counted_once(team):
    content = "text\nSame words here\nSame   words here\nOther words\n"
    batch = run_import(team, content.encode())
    assert (batch.imported_count, batch.duplicate_count) == (2, 1)


def test_import_without_text_column_fails_naming_columns_and_imports_nothing(team):
    batch = run_import(team, b"id,followers,views\n1,20,300\n")
    assert batch.status == JobStatus.FAILED
    assert "id, followers, views" in batch.message
    assert "text" in batch.message and "content" in batch.message
    assert not Post.objects.exists()


def test_import_jsonl_with_explicit_mapping(team):
    lines = [
        {"tweet_id": "a1", "body": "Skills first hiring", "who": "Eve"},
        {"tweet_id": "a2", "body": "Access to learning matters", "who": "Fay"},
    ]
    content = "\n".join(json.dumps(line) for line in lines).encode()
    batch = run_import(team, content, name="posts.jsonl", mapping={"text": "body", "author": "who"})
    assert batch.status == JobStatus.SUCCEEDED, batch.message
    assert sorted(Post.objects.values_list("author", flat=True)) == ["Eve", "Fay"]
    assert Post.objects.get(author="Eve").external_id == "a1"


@pytest.mark.parametrize(
    "status",
    [JobStatus.DRAFT, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED],
)
def test_posts_of_unfinished_batch_are_not_listed(team, status):
    from tests.factories import PostFactory

    batch = run_import(team, CSV.encode())
    loose = PostFactory(project=team.project, batch=None, text="A post from no batch")
    assert post_list(project=team.project).count() == 4
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    assert list(post_list(project=team.project)) == [loose]


def test_second_delivery_of_same_job_does_nothing(team):
    batch = services.import_batch_create(
        project=team.project,
        user=team.admin,
        file_name="p.csv",
        fileobj=SimpleUploadedFile("p.csv", CSV.encode()),
        enqueue=False,
    )
    assert services.import_batch_run(batch_id=batch.pk).status == JobStatus.SUCCEEDED
    assert services.import_batch_run(batch_id=batch.pk) is None  # already claimed
    batch.refresh_from_db()
    assert batch.attempts == 1
    assert Post.objects.count() == 3


def test_sweep_requeues_stale_job_and_rerun_leaves_each_post_once(
    team, django_capture_on_commit_callbacks
):
    batch = services.import_batch_create(
        project=team.project,
        user=team.admin,
        file_name="p.csv",
        fileobj=SimpleUploadedFile("p.csv", CSV.encode()),
        enqueue=False,
    )
    # Simulate a worker killed mid-import: RUNNING, an old heartbeat, some posts written.
    stale = timezone.now() - timezone.timedelta(hours=1)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=stale, attempts=1
    )
    Post.objects.create(
        project=team.project,
        batch=batch,
        text="Employers ask for skills not degrees",
        content_hash="partial",
        external_id="1",
    )
    assert services.import_batch_sweep_stale() == 1  # re-queued; the eager task re-runs it
    batch.refresh_from_db()
    assert batch.status == JobStatus.SUCCEEDED
    assert batch.attempts == 2
    assert Post.objects.filter(batch=batch).count() == 3
    assert Post.objects.filter(external_id="1").count() == 1


def test_sweep_gives_up_after_three_attempts(team):
    batch = ImportBatch.objects.create(
        project=team.project,
        file_name="x.csv",
        status=JobStatus.RUNNING,
        attempts=3,
        heartbeat_at=timezone.now() - timezone.timedelta(hours=1),
    )
    services.import_batch_sweep_stale()
    batch.refresh_from_db()
    assert batch.status == JobStatus.FAILED
    assert "interrupted" in batch.message


def test_cancel_removes_posts_and_stops_job(team):
    batch = run_import(team, CSV.encode())
    ImportBatch.objects.filter(pk=batch.pk).update(status=JobStatus.RUNNING)
    services.import_batch_cancel(batch=batch)
    batch.refresh_from_db()
    assert batch.status == JobStatus.CANCELLED
    assert not Post.objects.filter(batch=batch).exists()


def test_upload_over_limit_is_refused_with_message(team, settings):
    settings.GROUNDED_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.csv", b"text\n" + b"x" * (1024 * 1024 + 10))
    with pytest.raises(services.UploadTooLarge, match="limit is 1 MB"):
        services.import_batch_create(
            project=team.project, user=team.admin, file_name="big.csv", fileobj=big
        )
    assert not ImportBatch.objects.exists()


def test_api_upload_queues_job_and_eager_task_completes_it(
    team, api_for, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("posts.csv", CSV.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(team.admin).post(
            "/api/import-batches/",
            {"project": team.project.slug, "file": upload},
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert batch.status == JobStatus.SUCCEEDED
    assert batch.imported_count == 3


@pytest.mark.parametrize("who", ["supervisor", "coder", "outsider"])
def test_api_upload_denied_below_admin(team, api_for, who):
    user = {"supervisor": team.supervisor, "coder": team.coder, "outsider": team.outsider}[who]
    upload = SimpleUploadedFile("posts.csv", CSV.encode())
    response = api_for(user).post(
        "/api/import-batches/", {"project": team.project.slug, "file": upload}, format="multipart"
    )
    assert response.status_code == (404 if who == "outsider" else 403)
    assert not ImportBatch.objects.exists()


def test_cli_import_prints_json_and_exits_zero(team, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(CSV, encoding="utf-8")
    out = io.StringIO()
    call_command("import_posts", str(path), "--project", team.project.slug, "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["imported"] == 3 and payload["duplicates"] == 0 and payload["rejected"] == 1
    assert payload["errors"] == [{"row": 4, "message": "text is empty"}]
    assert ImportBatch.objects.get(pk=payload["batch"]).status == JobStatus.SUCCEEDED
    out = io.StringIO()
    call_command("import_posts", str(path), "--project", team.project.slug, "--json", stdout=out)
    assert json.loads(out.getvalue())["duplicates"] == 3


def test_cli_import_without_text_column_exits_one(team, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,views\n1,2\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "import_posts", str(path), "--project", team.project.slug, "--json", stdout=out
        )
    assert exit_info.value.code == 1
    payload = json.loads(out.getvalue())
    assert payload["imported"] == 0
    assert "id, views" in payload["message"]


def test_cli_import_real_linkedin_corpus_in_a_subprocess(team, shared_data, transactional_db):
    """The command as a user types it, on 1,600 real posts (the test database is committed)."""
    import os

    from django.db import connection

    db = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "coding_app.settings.test",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_posts",
            str(shared_data / "corpora" / "linkedin_influencers_1600.csv"),
            "--project",
            team.project.slug,
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    payload = json.loads(result.stdout)
    assert payload["imported"] + payload["duplicates"] + payload["rejected"] == 1600
    assert payload["imported"] > 1400
    assert Post.objects.filter(project=team.project).count() == payload["imported"]


# --- bad input: each leaves the project as it was, apart from rows reported as imported -----


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("posts.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "does not look like"),
        ("posts.json", b"PK\x03\x04" + b"\x00" * 100, "does not look like"),
        ("empty.csv", b"", "empty"),
        ("posts.csv", b"views,likes\n1,2\n", "No text column"),
    ],
    ids=["png-named-csv", "zip-named-json", "empty-file", "no-text-column"],
)
def test_bad_file_fails_with_clear_message_and_imports_nothing(team, name, content, expected):
    batch = run_import(team, content, name=name)
    assert batch.status == JobStatus.FAILED
    assert expected in batch.message
    assert not Post.objects.exists()


def test_jsonl_broken_line_rejects_that_row_or_everything_when_strict(team):
    lines = b'{"text": "Skills first"}\n{"text": broken\n{"text": "Access matters"}\n'
    batch = run_import(team, lines, name="p.jsonl")
    assert batch.imported_count == 2 and batch.rejected_count == 1
    assert batch.row_errors[0]["row"] == 2 and "not valid JSON" in batch.row_errors[0]["message"]
    Post.objects.all().delete()
    strict = run_import(team, lines, name="q.jsonl", strict=True)
    assert strict.status == JobStatus.FAILED and "Row 2" in strict.message
    assert not Post.objects.exists()


def test_cp1252_file_keeps_its_accents(team):
    batch = run_import(team, "text\nCafé skills for José\n".encode("cp1252"))
    assert batch.status == JobStatus.SUCCEEDED
    assert Post.objects.get().text == "Café skills for José"


def test_declared_encoding_wins_and_unknown_encoding_is_refused(team):
    batch = run_import(team, "text\nZoë\n".encode("latin-1"), encoding="latin-1")
    assert Post.objects.get(batch=batch).text == "Zoë"
    with pytest.raises(Exception, match="Unknown text encoding"):
        run_import(team, b"text\nx\n", encoding="klingon")


def test_xlsx_zip_bomb_is_refused_before_parsing(team):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))
    batch = run_import(team, buffer.getvalue(), name="bomb.xlsx")
    assert batch.status == JobStatus.FAILED
    assert (
        "bomb.xlsx" in batch.message or "compress" in batch.message or "expand" in batch.message
    ), batch.message
    assert not Post.objects.exists()


def test_linkedin_export_imports_with_repaired_line_breaks(team, shared_data):
    path = shared_data / "corpora" / "linkedin_member_export_Shares.csv"
    batch = run_import(team, path.read_bytes(), name="Shares.csv")
    assert batch.status == JobStatus.SUCCEEDED, batch.message
    assert batch.format == "auto" and batch.mapping["text"] == "ShareCommentary"
    first = Post.objects.order_by("posted_at").last()
    assert '"\n"' not in "".join(Post.objects.values_list("text", flat=True))
    assert first.external_id.startswith("urn:li:")
    assert batch.imported_count + batch.duplicate_count + batch.rejected_count == 202


def test_future_date_is_kept_and_duplicate_in_same_file_counted(team):
    content = "text,date\nSkills ahead,2031-01-01\nSkills ahead,2031-01-01\n"
    batch = run_import(team, content.encode())
    assert (batch.imported_count, batch.duplicate_count) == (1, 1)
    assert Post.objects.get().posted_at.year == 2031
    assert batch.row_warnings[0] == {
        "row": 2,
        "message": "posted_at: 2031-01-01 is in the future; kept as given",
    }


def test_near_duplicate_repost_is_flagged_not_deleted(team, tmp_path):
    from corpus.models import NearDuplicate

    words = (
        "Micro-credentials give adults a way back into learning when a full degree is out "
        "of reach because of money time or caring duties and employers are starting to notice "
        "that a short verified course can show real skills. We hired three people this year "
        "on the strength of their badges and portfolios and all three are doing well in the "
        "roles we gave them"
    )
    edited = words.replace("starting to notice", "beginning to notice")
    first = run_import(team, f"text\n{words}\n".encode(), name="a.csv")
    path = tmp_path / "b.csv"
    path.write_text(f"text\n{edited}\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_posts", str(path), "--project", team.project.slug, "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["imported"] == 1 and payload["near_duplicates"] == 1
    pair = NearDuplicate.objects.get()
    assert pair.similar_to.batch_id == first.pk and pair.similarity >= 0.8
    assert Post.objects.count() == 2


def test_near_duplicate_scan_fills_records_of_posts_that_came_another_way(team):
    """Posts from REFI-QDA, a backup or an older version have no LSH record: the scan
    computes it once, and flags a repost of them."""
    from corpus.models import NearDuplicate
    from corpus.near_duplicates import lsh_record
    from tests.factories import PostFactory

    text = (
        "Employers now read a short verified course as evidence of skills and several of "
        "our recent hires came in on the strength of their badges and portfolios alone. "
        "Micro-credentials give adults a way back into learning when a full degree is out "
        "of reach because of money, time or caring duties, and the people we hired this "
        "way are doing well in the roles we gave them"
    )
    old = PostFactory(project=team.project, text=text, word_count=len(text.split()))
    assert Post.objects.get(pk=old.pk).lsh is None
    batch = run_import(team, f"text\n{text.replace('several', 'a few')}\n".encode())
    assert services.near_duplicates_scan(batch_id=batch.pk) == 1  # the worker's follow-up task
    assert bytes(Post.objects.get(pk=old.pk).lsh) == lsh_record(text)
    pair = NearDuplicate.objects.get()
    assert (pair.similar_to_id, pair.post.batch_id) == (old.pk, batch.pk)


def test_cli_imports_a_folder_of_text_files(team, tmp_path):
    folder = tmp_path / "posts"
    folder.mkdir()
    (folder / "a.txt").write_text("Skills matter for access", encoding="utf-8")
    (folder / "b.txt").write_text("Badges are credentials", encoding="utf-16")
    out = io.StringIO()
    call_command("import_posts", str(folder), "--project", team.project.slug, "--json", stdout=out)
    assert json.loads(out.getvalue())["imported"] == 2
    assert sorted(Post.objects.values_list("external_id", flat=True)) == ["a.txt", "b.txt"]


def test_delete_batch_with_codings_needs_confirmation(team):
    from coding_app.services import code_create, coding_apply

    batch = run_import(team, CSV.encode())
    post = Post.objects.filter(batch=batch).first()
    coding_apply(
        post=post,
        code=code_create(project=team.project, name="Skills"),
        coder=team.coder,
        start=0,
        end=4,
    )
    with pytest.raises(services.BatchHasCodings, match="carry 1 coding"):
        services.import_batch_delete(batch=batch)
    assert Post.objects.filter(batch=batch).count() == 3
    assert services.import_batch_delete(batch=batch, confirm=True) == 1
    assert not Post.objects.exists() and not ImportBatch.objects.exists()


def test_rejected_rows_csv_download(client, team):
    batch = run_import(team, CSV.encode())
    client.force_login(team.coder)
    response = client.get(f"/p/{team.project.slug}/imports/{batch.pk}/rejected.csv")
    body = response.content.decode("utf-8-sig")
    assert body.splitlines()[0] == "row,problem,level"
    assert "4,text is empty,rejected" in body


def test_a_large_import_refreshes_the_planners_statistics(team, transactional_db):
    """After 10,000 posts PostgreSQL's row estimate for the posts table is current (ANALYZE),
    not the empty table's: queries right after an import are planned for its size."""
    from django.db import connection

    rows = "".join(f"Post {i} about micro-credentials and skills.\n" for i in range(10_000))
    batch = services.import_batch_create(
        project=team.project,
        user=team.admin,
        file_name="many.csv",
        fileobj=SimpleUploadedFile("many.csv", ("text\n" + rows).encode()),
        enqueue=False,
    )
    batch = services.import_batch_run(batch_id=batch.pk, scan_near_duplicates=False)
    assert batch.status == JobStatus.SUCCEEDED and batch.imported_count == 10_000
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'corpus_post'")
        (estimate,) = cursor.fetchone()
    assert estimate >= 10_000


@pytest.mark.parametrize("block", [1, 3, 10_000])
def test_record_blocks_read_every_whole_record_in_id_order(team, monkeypatch, block):
    """The scan's reader (a binary COPY on PostgreSQL, rows elsewhere) gives each post with a
    whole LSH record once, in id order, one queryset after the other, however the records
    fall across blocks; empty records (texts without words) and missing ones are left out."""
    import numpy as np

    from corpus import near_duplicates
    from corpus.near_duplicates import RECORD_SIZE, lsh_record
    from corpus.services.imports import _record_blocks
    from tests.factories import PostFactory

    monkeypatch.setattr(near_duplicates, "_RECORD_BLOCK", block)
    texts = [f"post {n} " + " ".join(f"word{n}x{i}" for i in range(25)) for n in range(7)]
    posts = [PostFactory(project=team.project, text=t, lsh=lsh_record(t)) for t in texts]
    PostFactory(project=team.project, text="🚀 https://x.org", lsh=b"")  # no words
    PostFactory(project=team.project, text="no record yet", lsh=None)
    first, second = posts[:4], posts[4:]
    all_posts = Post.objects.filter(project=team.project)
    blocks = list(
        _record_blocks(
            all_posts.filter(pk__in=[p.pk for p in first]),
            all_posts.exclude(pk__in=[p.pk for p in first]),
        )
    )
    ids = np.concatenate([ids for ids, _ in blocks]).tolist()
    records = np.concatenate([records for _, records in blocks])
    assert ids == [p.pk for p in first] + [p.pk for p in second]
    assert [r.tobytes() for r in records] == [lsh_record(t) for t in texts]
    assert all(len(r.tobytes()) == RECORD_SIZE for r in records)
    assert all(len(ids) <= block for ids, _ in blocks)


def _related_rows(team):
    """Every row that refers to a post, as comparable tuples."""
    from coding_app.models import Adjudication, Assignment, Coding, Memo
    from corpus.models import NearDuplicate, PostMark

    return {
        "posts": sorted(Post.objects.values_list("pk", flat=True)),
        "codings": sorted(Coding.all_objects.values_list("pk", "post_id")),
        "assignments": sorted(Assignment.objects.values_list("pk", "post_id")),
        "adjudications": sorted(Adjudication.objects.values_list("pk", "consensus_coding_id")),
        "memos": sorted(Memo.objects.values_list("pk", "post_id")),
        "marks": sorted(PostMark.objects.values_list("pk", "post_id")),
        "flags": sorted(NearDuplicate.objects.values_list("pk", "post_id", "similar_to_id")),
    }


def test_deleting_a_batch_set_based_leaves_what_djangos_collector_leaves(team):
    """Every kind of row that refers to a post, for posts of the batch and of another; the
    set-based delete must leave exactly what Django's own cascade leaves."""
    from django.db import transaction

    from coding_app.models import Adjudication, Assignment, Memo
    from corpus.models import NearDuplicate, PostMark
    from corpus.services import imports
    from tests.factories import CodeFactory, CodingFactory, PostFactory

    batch = run_import(team, CSV.encode())
    inside = list(Post.objects.filter(batch=batch))
    outside = [PostFactory(project=team.project) for _ in range(2)]
    code = CodeFactory(project=team.project)
    for post in [*inside[:2], *outside]:
        coding = CodingFactory(post=post, code=code, coder=team.coder, start=0, end=3)
        CodingFactory(post=post, code=code, coder=team.coders[1], start=0, end=2)
        Assignment.objects.create(post=post, coder=team.coder)
        Memo.objects.create(post=post, author=team.coder, text="memo")
        PostMark.objects.create(post=post, relevant=True)
        Adjudication.objects.create(
            project=team.project,
            post=post,
            code=code,
            start=0,
            end=3,
            decision="accept",
            source_codings=[coding.pk],
            consensus_coding=coding,
        )
    # A consensus decision on an outside post that points at a coding of a batch post.
    Adjudication.objects.create(
        project=team.project,
        post=outside[0],
        code=code,
        start=0,
        end=3,
        decision="accept",
        source_codings=[],
        consensus_coding=inside[0].codings.first(),
    )
    for a, b in [(inside[1], inside[0]), (outside[0], inside[1]), (inside[2], outside[1])]:
        NearDuplicate.objects.create(project=team.project, post=a, similar_to=b, similarity=0.9)
    with transaction.atomic():
        Post.objects.filter(batch=batch).delete()  # Django's collector
        expected = _related_rows(team)
        transaction.set_rollback(True)
    before = _related_rows(team)
    imports._posts_delete(Post.objects.filter(batch=batch))
    after = _related_rows(team)
    assert after == expected
    assert after != before and after["adjudications"] and after["flags"] == []


def test_a_relation_the_set_based_delete_cannot_follow_falls_back_to_django(team, monkeypatch):
    """When a relation needs Django's own handling, what the set-based pass did is rolled
    back and the collector deletes instead, with the same result."""
    from coding_app.models import Coding
    from corpus.services import imports
    from tests.factories import CodeFactory, CodingFactory

    batch = run_import(team, CSV.encode())
    post = Post.objects.filter(batch=batch).first()
    CodingFactory(post=post, code=CodeFactory(project=team.project), coder=team.coder)
    real = imports._cascade_delete
    calls = []

    def deletes_then_gives_up(model, rows, path=()):
        real(model, rows, path)
        calls.append(model)
        raise imports._NotSetBased

    monkeypatch.setattr(imports, "_cascade_delete", deletes_then_gives_up)
    from django.db.models import QuerySet

    collected = []
    collector_delete = QuerySet.delete

    def delete(self):
        collected.append(self.model)
        return collector_delete(self)

    monkeypatch.setattr(QuerySet, "delete", delete)
    imports._posts_delete(Post.objects.filter(batch=batch))
    assert calls and collected == [Post]  # set-based work was done, then undone
    assert not Post.objects.filter(batch=batch).exists()
    assert not Coding.all_objects.filter(post__batch=batch).exists()

"""Project backup and restore: a round trip gives the same project (under a new slug, or in
an instance the project was deleted from); refused files leave nothing behind; the commands
and the web routes."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings

from analysis.models import CodeReview, ReviewComment, StopWord, SynonymGroup
from coding_app import services
from coding_app.models import (
    Adjudication,
    Assignment,
    Change,
    Code,
    Coding,
    Membership,
    Memo,
    Project,
)
from coding_app.services.backup import (
    FORMAT_VERSION,
    BackupError,
    project_backup_write,
    project_restore,
)
from corpus.models import ImportBatch, NearDuplicate, Post, PostMark, Sample
from corpus.sampling import Criteria
from corpus.selectors import post_visible_q
from corpus.services import assignment_bulk_create, post_mark_set, sample_create
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Employers value digital skills 🎓 über alles, says the post."


@pytest.fixture
def rich(team):
    """A project with something in every table a backup holds."""
    project = team.project
    project.description = "A study of micro-credentials."
    project.blind_coding = True
    project.save()
    ada, sam, cora, cole = team.admin, team.supervisor, team.coders[0], team.coders[1]
    batch = ImportBatch.objects.create(
        project=project,
        created_by=ada,
        file_name="posts.csv",
        name="First batch",
        status="succeeded",
        imported_count=3,
        row_errors=[{"row": 4, "message": "no text"}],
    )
    running = ImportBatch.objects.create(project=project, file_name="later.csv", status="running")
    posts = [
        PostFactory(
            project=project,
            batch=batch,
            text=TEXT,
            external_id="urn:1",
            author="Ann",
            author_headline="Recruiter",
            posted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            url="https://example.org/1",
            metadata={"sector": "health", "likes": 3},
        ),
        PostFactory(project=project, batch=batch, text="Badges matter to hiring managers."),
        PostFactory(project=project, text="No batch: pasted in by hand, about skills."),
    ]
    PostFactory(project=project, batch=running, text="Still importing: not in a backup.")
    theme = services.code_create(project=project, name="Skills", user=sam, colour="#112233")
    sub = services.code_create(project=project, name="Digital skills", parent=theme, user=sam)
    code = services.code_create(
        project=project,
        name="Coding",
        parent=sub,
        definition="Writing software.",
        inclusion="Programming.",
        exclusion="Talk of code-switching.",
        example="I learnt Python.",
        memo="Grew out of the first posts.",
        user=cora,
    )
    badges = services.code_create(project=project, name="Badges", parent=theme, user=sam)
    old = services.code_create(project=project, name="Credentials", parent=theme, user=sam)
    gone = services.code_create(project=project, name="Gone")
    services.code_update(code=code, user=sam, version=code.version, colour="#445566")
    emoji = TEXT.index("🎓")
    first, _ = services.coding_apply(
        post=posts[0], code=code, coder=cora, start=16, end=30, memo="Cora's memo 🎓"
    )
    services.coding_apply(post=posts[0], code=code, coder=cole, start=emoji, end=emoji + 7)
    services.coding_apply(post=posts[1], code=old, coder=cole, start=0, end=6)
    services.coding_apply(post=posts[1], code=gone, coder=cora, start=7, end=13)
    services.coding_apply(post=posts[2], code=badges, coder=cora, start=0, end=8)
    services.code_merge(source=old, target=badges, user=sam)
    services.code_delete(code=gone, user=sam)
    services.memo_set(post=posts[0], user=cora, text="A memo on the post.")
    services.memo_set(post=posts[1], user=sam, text="Supervisor's memo.")
    sample = sample_create(
        project=project, name="Study sample", criteria=Criteria(min_words=1), method="all", user=sam
    )
    assignment_bulk_create(
        project=project,
        post_ids=sample.post_ids,
        coder_ids=[cora.pk, cole.pk],
        per_post=2,
        seed=7,
        user=ada,
        sample=sample,
    )
    services.assignment_done_set(post=posts[0], user=cora, done=True)
    post_mark_set(post=posts[2], relevant=False, note="Off topic", user=sam)
    NearDuplicate.objects.create(
        project=project, post=posts[1], similar_to=posts[0], similarity=0.91
    )
    services.adjudication_decide(
        post=posts[0],
        code=code,
        start=16,
        end=30,
        decision="accept",
        source_codings=[first.pk],
        user=sam,
    )
    CodeReview.objects.create(code=code, status="approved", updated_by=sam)
    ReviewComment.objects.create(code=code, author=sam, addressed_to=cora, text="Check this.")
    ReviewComment.objects.create(code=theme, author=sam, text="For everyone.")
    StopWord.objects.create(project=project, word="linkedin")
    SynonymGroup.objects.create(
        project=project, label="microcredential", members=["micro-credential"]
    )
    return project


def _paths(project) -> dict[int, str]:
    codes = {c.pk: c for c in Code.all_objects.filter(project=project)}

    def path(code):
        names = []
        while code is not None:
            names.insert(0, code.name)
            code = codes.get(code.parent_id)
        return " > ".join(names)

    return {pk: path(code) for pk, code in codes.items()}


def snapshot(project) -> dict:
    """Everything of a project that a backup must carry, without ids."""
    project = Project.objects.get(pk=project.pk)
    paths = _paths(project)
    posts = Post.objects.filter(project=project).filter(post_visible_q())  # as backed up
    ext = dict(posts.values_list("pk", "external_id"))
    consensus = f"consensus@{project.slug}"  # the consensus coder is named after the slug
    names = {
        pk: "(consensus)" if name == consensus else name
        for pk, name in get_user_model().objects.values_list("pk", "username")
    }

    def rows(queryset, *fields, **convert):
        out = []
        for row in queryset.values(*fields):
            for key, how in convert.items():
                row[key] = how(row[key])
            out.append(row)
        return sorted(out, key=repr)

    user, code, post = names.get, paths.get, ext.get
    codings = Coding.all_objects.filter(post__project=project)
    return {
        "project": rows(
            Project.objects.filter(pk=project.pk),
            "name",
            "description",
            "blind_coding",
            "coders_create_codes",
            "created_at",
        ),
        "members": rows(Membership.objects.filter(project=project), "user", "role", user=user),
        "batches": rows(
            ImportBatch.objects.filter(project=project).exclude(status="running"),
            *("file_name", "name", "status", "imported_count", "row_errors", "created_at"),
            *("created_by",),
            created_by=user,
        ),
        "posts": rows(
            posts,
            *("external_id", "author", "author_headline", "posted_at", "url", "text"),
            *("word_count", "content_hash", "metadata", "created_at", "batch__name"),
        ),
        "codes": rows(
            Code.all_objects.filter(project=project),
            *("pk", "name", "colour", "definition", "inclusion", "exclusion", "example"),
            *("memo", "position", "version", "deleted_at", "merged_into", "origin"),
            *("created_by", "created_at", "updated_at"),
            pk=code,
            merged_into=code,
            created_by=user,
        ),
        "codings": rows(
            codings,
            *("post", "code", "coder", "start", "end", "quote", "memo", "deleted_at"),
            *("created_at", "updated_at"),
            post=post,
            code=code,
            coder=user,
        ),
        "memos": rows(
            Memo.objects.filter(post__project=project),
            *("post", "author", "text", "created_at", "updated_at"),
            post=post,
            author=user,
        ),
        "assignments": rows(
            Assignment.objects.filter(post__project=project),
            *("post", "coder", "assigned_by", "sample__name", "position", "done_at"),
            post=post,
            coder=user,
            assigned_by=user,
        ),
        "samples": rows(
            Sample.objects.filter(project=project),
            *("name", "criteria", "method", "k", "start", "seed", "n", "description"),
            *("pool_ids", "post_ids", "marks", "created_by", "created_at"),
            pool_ids=lambda ids: [ext[i] for i in ids],
            post_ids=lambda ids: [ext[i] for i in ids],
            marks=lambda marks: {ext[int(k)]: v for k, v in marks.items()},
            created_by=user,
        ),
        "marks": rows(
            PostMark.objects.filter(post__project=project),
            *("post", "relevant", "note", "marked_by", "marked_at"),
            post=post,
            marked_by=user,
        ),
        "near_duplicates": rows(
            NearDuplicate.objects.filter(project=project),
            *("post", "similar_to", "similarity", "status"),
            post=post,
            similar_to=post,
        ),
        "adjudications": rows(
            Adjudication.objects.filter(project=project),
            *("post", "code", "start", "end", "decision", "decided_by", "decided_at"),
            *("consensus_coding__coder", "consensus_coding__quote", "source_codings"),
            post=post,
            code=code,
            decided_by=user,
            consensus_coding__coder=user,
            source_codings=lambda ids: sorted(
                Coding.all_objects.filter(pk__in=ids).values_list("coder__username", "quote")
            ),
        ),
        "changes": [
            (c.kind, user(c.user_id), code(c.code_id), post(c.post_id), user(c.coder_id), c.at)
            for c in Change.objects.filter(project=project).order_by("id")
        ],
        "reviews": rows(
            CodeReview.objects.filter(code__project=project),
            *("code", "status", "updated_by", "updated_at"),
            code=code,
            updated_by=user,
        ),
        "comments": rows(
            ReviewComment.objects.filter(code__project=project),
            *("code", "author", "addressed_to", "text", "created_at", "resolved_at"),
            code=code,
            author=user,
            addressed_to=user,
        ),
        "stop_words": rows(StopWord.objects.filter(project=project), "word", "excluded"),
        "synonyms": rows(SynonymGroup.objects.filter(project=project), "label", "members"),
    }


def _backup(project) -> io.BytesIO:
    out = io.BytesIO()
    project_backup_write(project=project, out=out)
    out.seek(0)
    return out


def _rewrite(data: io.BytesIO, **members) -> io.BytesIO:
    """A copy of a backup with some members replaced (None drops one)."""
    source = zipfile.ZipFile(data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in members:
                target.writestr(info.filename, source.read(info))
        for name, content in members.items():
            if content is not None:
                target.writestr(name, content)
    out.seek(0)
    return out


def _state():
    return (Project.objects.count(), get_user_model().objects.count(), Post.objects.count())


# ----------------------------------------------------------------------- round trips


def test_restore_under_a_new_slug_gives_the_same_project(rich, team):
    before = snapshot(rich)
    summary = project_restore(fileobj=_backup(rich), slug="study-copy")
    copy = Project.objects.get(slug="study-copy")
    assert summary["project"] == "study-copy" and summary["users_created"] == [
        "consensus@study-copy"
    ]
    assert snapshot(copy) == before
    assert snapshot(rich) == before  # the original is untouched
    assert summary["counts"]["posts"] == 3  # the running batch's post is left out
    # Ids point into the copy: revert a history entry, and the change feed's coding ids.
    edit = Change.objects.filter(project=copy, kind="code.update").latest("id")
    assert Code.objects.get(pk=edit.before["id"]).project == copy
    services.code_change_revert(change=edit, user=team.supervisor)
    assert Code.objects.get(project=copy, name="Coding").colour != "#445566"
    added = Change.objects.filter(project=copy, kind="coding.add")
    codings = Coding.all_objects.filter(post__project=copy).in_bulk()
    assert added.count() == 6
    for change in added:
        coding = codings[change.coding_id]
        assert change.after["id"] == coding.pk and change.post_id == coding.post_id
        assert change.coder_id == change.after["coder"]["id"] == coding.coder_id
    sample = Sample.objects.get(project=copy)
    assert sample.post_ids == list(
        Post.objects.filter(project=copy).order_by("pk").values_list("pk", flat=True)
    )


def test_restore_into_an_instance_without_the_project_or_its_coders(rich, team):
    data = _backup(rich)
    before = snapshot(rich)
    rich.delete()
    User = get_user_model()
    User.objects.filter(username__in=["cole", "cleo", "consensus@study"]).delete()
    summary = project_restore(fileobj=data)
    restored = Project.objects.get(slug="study")
    assert snapshot(restored) == before
    assert sorted(summary["users_created"]) == ["cleo", "cole", "consensus@study"]
    cole = User.objects.get(username="cole")
    assert not cole.is_active and not cole.has_usable_password()
    assert User.objects.get(username="cora").is_active  # an existing account is used as it is
    roles = dict(Membership.objects.filter(project=restored).values_list("user__username", "role"))
    assert roles == {
        "ada": "admin",
        "sam": "supervisor",
        "cora": "coder",
        "cole": "coder",
        "cleo": "coder",
    }


def test_the_restoring_user_becomes_an_admin(rich, team):
    olga = team.outsider
    project_restore(fileobj=_backup(rich), slug="olgas-copy", admin=olga)
    assert Membership.objects.get(project__slug="olgas-copy", user=olga).role == "admin"


def test_backup_manifest_is_versioned_and_says_what_is_left_out(rich):
    archive = zipfile.ZipFile(_backup(rich))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "grounded-project-backup"
    assert manifest["version"] == FORMAT_VERSION
    assert manifest["tables"]["codings"] == 6 and manifest["tables"]["posts"] == 3
    assert any("analysis" in line for line in manifest["not_included"])
    first = json.loads(archive.read("posts.jsonl").splitlines()[0])
    assert first["text"] == TEXT and first["metadata"] == {"sector": "health", "likes": 3}


# ----------------------------------------------------------------------- refusals


def _refused(data, *phrases, **kwargs):
    state = _state()
    with pytest.raises(BackupError) as caught:
        project_restore(fileobj=data, **kwargs)
    for phrase in phrases:
        assert phrase in str(caught.value), str(caught.value)
    assert _state() == state  # nothing left behind, no user either
    return str(caught.value)


def test_restore_refuses_an_existing_slug(rich):
    _refused(_backup(rich), "“study” already exists")


def test_restore_refuses_files_that_are_not_backups(rich):
    _refused(io.BytesIO(b""), "empty")
    _refused(io.BytesIO(b"text,author\nhello,Ann\n"), "not a ZIP archive")
    _refused(io.BytesIO(b"PK\x03\x04 broken"), "not a valid Grounded project backup")
    qdpx = io.BytesIO()
    with zipfile.ZipFile(qdpx, "w") as archive:
        archive.writestr("project.qde", "<Project/>")
    qdpx.seek(0)
    _refused(qdpx, "holds no manifest.json")


def test_restore_refuses_another_format_version(rich):
    data = _backup(rich)
    manifest = json.loads(zipfile.ZipFile(data).read("manifest.json"))
    newer = _rewrite(data, **{"manifest.json": json.dumps(manifest | {"version": 99})})
    _refused(newer, "newer Grounded (format version 99", "Upgrade", slug="x")
    _refused(_rewrite(data, **{"manifest.json": json.dumps(manifest | {"version": "1"})}), "'1'")
    _refused(_rewrite(data, **{"manifest.json": "{"}), "not valid JSON")
    other = json.dumps(manifest | {"format": "something-else"})
    _refused(_rewrite(data, **{"manifest.json": other}), "not a Grounded project backup")


def test_restore_refuses_damaged_rows_and_rolls_everything_back(rich):
    data = _backup(rich)
    archive = zipfile.ZipFile(data)
    codings = archive.read("codings.jsonl").decode().splitlines()
    broken = json.loads(codings[-1]) | {"post": 999999}
    message = _refused(
        _rewrite(data, **{"codings.jsonl": "\n".join([*codings[:-1], json.dumps(broken)])}),
        "codings.jsonl, row 6",
        "post 999999",
        slug="copy",
    )
    assert "not in the backup" in message
    outside = json.loads(codings[0]) | {"end": 10_000}
    _refused(
        _rewrite(data, **{"codings.jsonl": "\n".join([json.dumps(outside), *codings[1:]])}),
        "codings.jsonl, row 1",
        "not inside its post",
        slug="copy",
    )
    memberships = archive.read("memberships.jsonl").decode().splitlines()
    odd = json.loads(memberships[0]) | {"role": "owner"}
    _refused(
        _rewrite(data, **{"memberships.jsonl": "\n".join([json.dumps(odd), *memberships[1:]])}),
        "memberships.jsonl, row 1",
        "role",
        slug="copy",
    )
    _refused(
        _rewrite(data, **{"codings.jsonl": "\n".join(codings[:-1])}), "incomplete", slug="copy"
    )
    batch = json.loads(archive.read("import_batches.jsonl")) | {"status": "running"}
    _refused(
        _rewrite(data, **{"import_batches.jsonl": json.dumps(batch)}),
        "import_batches.jsonl, row 1",
        "has not finished",
        slug="copy",
    )
    _refused(_rewrite(data, **{"posts.jsonl": "{not json"}), "posts.jsonl, row 1", slug="copy")
    _refused(_rewrite(data, **{"memos.jsonl": None}), "holds no memos.jsonl", slug="copy")


def test_restore_refuses_a_zip_bomb_and_unsafe_paths(rich):
    data = _backup(rich)
    bomb = _rewrite(data, **{"padding.txt": b" " * (3 * 1024 * 1024)})
    _refused(bomb, "ZIP bomb", slug="copy")
    _refused(_backup(rich), "more than", slug="copy", max_total_bytes=1000)
    _refused(_rewrite(data, **{"../evil.txt": "x"}), "outside the archive", slug="copy")


# ----------------------------------------------------------------------- commands


def test_commands_back_up_and_restore_with_json(rich, tmp_path, capsys):
    out = tmp_path / "study.zip"
    call_command("backup_project", "--project", "study", "--out", str(out), "--json")
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["file"] == str(out) and manifest["tables"]["codings"] == 6
    call_command("restore_project", str(out), "--slug", "restored", "--admin", "olga", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["project"] == "restored" and summary["counts"]["codings"] == 6
    assert Membership.objects.get(project__slug="restored", user__username="olga").role == "admin"
    assert snapshot(Project.objects.get(slug="restored"))["codings"] == snapshot(rich)["codings"]


def test_restore_command_refusal_exits_1_with_message(rich, tmp_path, capsys):
    out = tmp_path / "study.zip"
    call_command("backup_project", "--project", "study", "--out", str(out))
    assert "Wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        call_command("restore_project", str(out), "--json")
    assert exit_.value.code == 1
    assert "already exists" in json.loads(capsys.readouterr().out)["error"]
    with pytest.raises(SystemExit):
        call_command("restore_project", str(tmp_path / "missing.zip"))
    assert "No such file" in capsys.readouterr().err


# ----------------------------------------------------------------------- web


def test_admin_downloads_a_backup_others_may_not(client, rich, team):
    client.force_login(team.admin)
    response = client.get("/p/study/backup.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "study-backup-" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "manifest.json" in archive.namelist()
    client.force_login(team.supervisor)
    assert client.get("/p/study/backup.zip").status_code == 403
    client.force_login(team.outsider)
    assert client.get("/p/study/backup.zip").status_code == 404


def _upload(data, name="study.zip"):
    return SimpleUploadedFile(name, data.getvalue(), content_type="application/zip")


def test_staff_restore_an_upload_and_become_its_admin(client, rich, team):
    staff = UserFactory(username="root", is_staff=True)
    client.force_login(staff)
    assert "Restore a project from a backup" in client.get("/").content.decode()
    response = client.post("/restore/", {"file": _upload(_backup(rich)), "slug": "from-web"})
    assert response.status_code == 302 and response["Location"] == "/p/from-web/"
    assert Membership.objects.get(project__slug="from-web", user=staff).role == "admin"
    page = client.get("/p/from-web/").content.decode()
    assert "Restored “Micro-credentials study”: 3 posts" in page
    response = client.post("/restore/", {"file": _upload(_backup(rich)), "slug": "from-web"})
    assert "Nothing was restored" in client.get(response["Location"]).content.decode()


def test_non_staff_may_not_restore(client, rich, team):
    client.force_login(team.admin)
    assert "Restore a project" not in client.get("/").content.decode()
    state = _state()
    response = client.post("/restore/", {"file": _upload(_backup(rich)), "slug": "mine"})
    assert response.status_code == 403 and _state() == state


@override_settings(GROUNDED_MAX_UPLOAD_MB=1)
def test_restore_upload_past_the_limit_is_refused(client, rich, team):
    client.force_login(UserFactory(username="root", is_staff=True))
    state = _state()
    big = io.BytesIO(b"PK\x03\x04" + b"x" * (1024 * 1024 + 200 * 1024))
    response = client.post("/restore/", {"file": _upload(big), "slug": "big"}, follow=True)
    assert "the upload limit is 1 MB" in response.content.decode()
    assert _state() == state

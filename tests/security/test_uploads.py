"""Uploads: size limits, content checks, ZIP bombs, path traversal and XML entity expansion.

The import API refuses what it can see at once (size, content contradicting the name) with a
400 in the one error shape; what needs the whole file (a ZIP bomb) fails the background job
with a message and keeps nothing. Files are never unpacked to disk, so a member's path is
only ever a label.
"""

import io
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from corpus.importers import ImportFileError, open_rows, open_text_zip
from corpus.models import ImportBatch, Post

pytestmark = pytest.mark.django_db

CSV = b"text,author\nSkills beat degrees in hiring,Ann\n"


def upload(name, content):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _api_import(api_for, world, name, content, **extra):
    return api_for(world.team.admin).post(
        "/api/import-batches/", {"project": "study", "file": upload(name, content), **extra}
    )


def _refused(response, *phrases):
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"} and "file" in body["errors"], body
    for phrase in phrases:
        assert phrase in body["detail"], body["detail"]


# ----------------------------------------------------------------------- size


@override_settings(GROUNDED_MAX_UPLOAD_MB=1)
def test_import_api_refuses_a_file_past_the_upload_limit(world, api_for):
    batches = ImportBatch.objects.count()
    big = CSV + b"x" * (1024 * 1024 + 200 * 1024)
    response = _api_import(api_for, world, "big.csv", big)
    _refused(response, "the upload limit is 1 MB")
    assert ImportBatch.objects.count() == batches
    assert not [p for p in _media_files() if p.name.startswith("big")]


@override_settings(GROUNDED_MAX_UPLOAD_MB=1)
def test_import_api_checks_the_size_of_the_file_itself(world, api_for):
    """Below the request's declared-length check (64 KB of slack), the file's own size."""
    response = _api_import(api_for, world, "edge.csv", CSV + b"x" * (1024 * 1024 + 10))
    _refused(response, "the upload limit is 1 MB")


@override_settings(GROUNDED_MAX_UPLOAD_MB=1)
def test_imports_page_refuses_a_file_past_the_upload_limit(world, client):
    client.force_login(world.team.admin)
    batches = ImportBatch.objects.count()
    big = upload("big.csv", CSV + b"x" * (1024 * 1024 + 200 * 1024))
    response = client.post("/p/study/imports/", {"file": big}, follow=True)
    assert "the upload limit is 1 MB" in response.content.decode()
    assert ImportBatch.objects.count() == batches


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096)
def test_api_refuses_oversized_request_bodies_in_the_one_error_shape(world, api_for):
    ada = api_for(world.team.admin)
    ours = world.ours
    body = {"post": ours.post.pk, "code": ours.code.pk, "start": 0, "end": 3, "memo": "x" * 9000}
    as_json = ada.post("/api/codings/", body, format="json")
    as_form = ada.post("/api/stopwords/", {"project": "study", "word": "x" * 9000})
    for response in (as_json, as_form):
        assert response.status_code == 413
        assert set(response.json()) == {"detail", "errors"}
        assert "larger than" in response.json()["detail"]
    assert not ours.post.codings.filter(memo__startswith="xxx").exists()


# ----------------------------------------------------------------------- content


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("posts.csv", bytes(range(256)) * 64, "binary data"),
        ("posts.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "a PNG image"),
        ("posts.json", b"%PDF-1.7\n" + b"\x00\x01" * 64, "a PDF document"),
        ("dump.bin", b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8, "binary data"),
        ("posts.xlsx", CSV, "does not look like an Excel"),
    ],
    ids=["random-bytes-as-csv", "png-as-csv", "pdf-as-json", "executable", "csv-as-xlsx"],
)
def test_import_api_refuses_content_that_contradicts_the_name(
    world, api_for, name, content, phrase
):
    batches = ImportBatch.objects.count()
    _refused(_api_import(api_for, world, name, content), phrase)
    assert ImportBatch.objects.count() == batches


def test_import_api_accepts_a_real_csv(world, api_for):
    assert _api_import(api_for, world, "posts.csv", CSV).status_code == 202


def test_upload_name_cannot_climb_out_of_the_media_folder(world, api_for, tmp_path):
    response = _api_import(api_for, world, "../../../../etc/cron.d/evil.csv", CSV)
    assert response.status_code == 202
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert batch.file_name == "evil.csv"
    stored = Path(batch.file.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert stored.parent.name != "cron.d"


# ----------------------------------------------------------------------- ZIP archives


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def _run_import(api_for, world, name, content, django_capture_on_commit_callbacks):
    """Upload through the API and run the job inline; returns the finished batch."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _api_import(api_for, world, name, content)
    assert response.status_code == 202, response.content
    return ImportBatch.objects.get(pk=response.json()["id"])


def test_zip_bomb_fails_the_import_without_expanding(
    world, api_for, django_capture_on_commit_callbacks
):
    bomb = _zip({"a.txt": b"Skills matter.", "b.txt": b" " * (20 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 20 MB in a few KB
    started = time.monotonic()
    batch = _run_import(api_for, world, "posts.zip", bomb, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 5
    assert batch.status == "failed"
    assert "ZIP bomb" in batch.message
    assert not Post.objects.filter(batch=batch).exists()


def test_zip_past_the_total_size_limit_is_refused_before_reading():
    archive = _zip({f"{n}.txt": b"Skills and degrees. " * 60 for n in range(10)})
    with pytest.raises(ImportFileError, match="ZIP bomb"):
        open_text_zip(io.BytesIO(archive), max_total_bytes=10_000)


def test_zip_inside_a_zip_is_not_unpacked():
    inner = _zip({"deep.txt": b" " * (5 * 1024 * 1024)})
    _, rows = open_text_zip(io.BytesIO(_zip({"inner.txt": inner}, zipfile.ZIP_STORED)))
    (row,) = list(rows)
    assert row.error and "not a text file" in row.error


TRAVERSAL = {
    "../../evil-up.txt": b"climbing out",
    "..\\..\\evil-windows.txt": b"climbing out, Windows style",
    "notes/../../evil-middle.txt": b"climbing out from inside",
    "ok.txt": b"A plain post about skills.",
}


def test_zip_members_with_parent_paths_are_not_imported_and_nothing_is_written(
    world, api_for, django_capture_on_commit_callbacks, tmp_path
):
    before = set(_media_files())
    batch = _run_import(
        api_for, world, "posts.zip", _zip(TRAVERSAL), django_capture_on_commit_callbacks
    )
    assert batch.status == "succeeded", batch.message
    imported = set(Post.objects.filter(batch=batch).values_list("external_id", flat=True))
    assert imported == {"ok.txt"}
    # Nothing was unpacked anywhere: the only new file is the upload itself.
    assert {p.name for p in set(_media_files()) - before} == {"posts.zip"}
    media_parent = Path(settings.MEDIA_ROOT).resolve().parent
    assert not list(media_parent.rglob("evil-*"))


def test_zip_member_with_an_absolute_path_is_refused():
    _, rows = open_text_zip(io.BytesIO(_zip({"/etc/evil-abs.txt": b"x", "ok.txt": b"fine"})))
    assert [r.fields.get("external_id") for r in rows if not r.error] == ["ok.txt"]


# ----------------------------------------------------------------------- XML


def _lol_dtd(depth: int) -> str:
    """Nested entities: &lol{depth}; expands to 10**depth copies of "lol"."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, depth + 1)
    ]
    return "<!DOCTYPE lolz [" + "".join(entities) + "]>"


def _workbook_with_entities(part: str, depth: int = 5) -> bytes:
    """An .xlsx whose `part` declares nested entities and uses them (10**depth "lol"s:
    small enough that an unprotected parser would simply read them, so the test fails)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["text", "author"])
    book.active.append(["PLACEHOLDER", "Ann"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                text = data.decode()
                text = text.replace("PLACEHOLDER", f"&lol{depth};")
                text = text.replace("<sheets>", f"<sheets>&lol{depth};")
                data = (_lol_dtd(depth) + text).encode()
            archive.writestr(info.filename, data)
    return out.getvalue()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_xlsx_with_xml_entities_is_refused_not_expanded(part):
    workbook = _workbook_with_entities(part)
    with pytest.raises(ImportFileError, match="could not be read"):
        _, rows = open_rows(io.BytesIO(workbook), "xlsx")
        list(rows)


def _qde_with(dtd: str, use: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{dtd}'
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="{use}" origin="x"/>'
    ).encode()


BILLION_LAUGHS = _qde_with(_lol_dtd(9), "&lol9;")
XXE = _qde_with('<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;")


@pytest.mark.parametrize("document", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_refi_qda_project_and_codebook_with_xml_entities_are_refused(document):
    qdpx = pytest.importorskip("corpus.importers.qdpx")
    started = time.monotonic()
    archive = _zip({"project.qde": document})
    with pytest.raises(ImportFileError, match="billion laughs"):
        qdpx.qdpx_read(io.BytesIO(archive))
    with pytest.raises(ImportFileError, match="billion laughs"):
        qdpx.qdpx_read(io.BytesIO(document))  # a bare project XML
    codebook = document.replace(b"<Project ", b"<CodeBook ").replace(
        b"project:1.0", b"codebook:1.0"
    )
    with pytest.raises(ImportFileError, match="billion laughs"):
        qdpx.codebook_read(codebook)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a/../../evil.txt"]
)
def test_refi_qda_archive_with_a_member_leaving_its_folder_is_refused(member):
    qdpx = pytest.importorskip("corpus.importers.qdpx")
    archive = _zip({"project.qde": _qde_with("", "P"), member: b"text"})
    with pytest.raises(ImportFileError, match="outside the archive"):
        qdpx.qdpx_read(io.BytesIO(archive))


def test_exchange_page_refuses_a_billion_laughs_project_and_imports_nothing(world, client):
    pytest.importorskip("corpus.importers.qdpx")
    from coding_app.models import Code

    client.force_login(world.team.admin)
    codes = Code.all_objects.count()
    posts = Post.objects.count()
    project = upload("project.qdpx", _zip({"project.qde": BILLION_LAUGHS}))
    response = client.post("/p/study/exchange/", {"file": project}, follow=True)
    assert "billion laughs" in response.content.decode()
    assert (Code.all_objects.count(), Post.objects.count()) == (codes, posts)

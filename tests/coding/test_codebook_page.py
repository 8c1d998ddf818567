"""The codebook page: who sees which controls, CSV export and import, upload limits."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coding_app import services
from coding_app.models import Code

pytestmark = pytest.mark.django_db


@pytest.fixture
def codebook(team):
    theme = services.code_create(project=team.project, name="Skills", colour="#aec7e8")
    sub = services.code_create(project=team.project, name="Skill gaps", parent=theme)
    leaf = services.code_create(
        project=team.project, name="Digital skills", parent=sub, definition="Tech literacy."
    )
    return {"theme": theme, "sub": sub, "leaf": leaf}


def page_url(team, tail="codebook/"):
    return f"/p/{team.project.slug}/{tail}"


def page_data(response) -> dict:
    html = response.content.decode()
    start = html.index('id="page-data" type="application/json">') + len(
        'id="page-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def upload(text: str, name="codebook.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_page_renders_read_only_for_coder(client, team, codebook):
    client.force_login(team.coder)
    response = client.get(page_url(team))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="code-view"' in html and "Export CSV" in html
    for control in ['id="code-form"', "Import CSV", 'id="delete-open"', 'id="setting-blind"']:
        assert control not in html, control
    data = page_data(response)
    assert data["may_edit"] is False
    assert data["tree"][0]["name"] == "Skills"
    assert data["tree"][0]["children"][0]["children"][0]["path"] == [
        "Skills",
        "Skill gaps",
        "Digital skills",
    ]


def test_coder_sees_add_code_only_when_project_allows_it(client, team, codebook):
    client.force_login(team.coder)
    assert 'id="add-form"' in client.get(page_url(team)).content.decode()
    team.project.coders_create_codes = False
    team.project.save()
    response = client.get(page_url(team))
    assert 'id="add-form"' not in response.content.decode()
    assert page_data(response)["may_create"] is False


def test_page_renders_edit_controls_for_supervisor(client, team, codebook):
    client.force_login(team.supervisor)
    response = client.get(page_url(team))
    html = response.content.decode()
    for control in [
        'id="code-form"',
        'id="merge-dialog"',
        'id="split-dialog"',
        'id="delete-dialog"',
        'id="setting-coders-create"',
        'id="setting-blind"',
        'action="/p/study/codebook/import/"',
        'href="/p/study/codebook.csv"',
    ]:
        assert control in html, control
    data = page_data(response)
    assert data["may_edit"] is True and data["api"]["revert"] == "/api/changes/0/revert/"
    assert 'href="/p/study/codebook/">Codebook</a>' in html  # the nav link


def test_empty_codebook_explains_and_offers_the_add_form(client, team):
    client.force_login(team.supervisor)
    html = client.get(page_url(team)).content.decode()
    assert "No codes yet" in html and 'id="add-form"' in html


def test_code_names_are_escaped_in_page(client, team):
    services.code_create(project=team.project, name="<script>alert(1)</script>")
    client.force_login(team.supervisor)
    html = client.get(page_url(team)).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_non_member_gets_404(client, team, codebook):
    client.force_login(team.outsider)
    for tail in ["codebook/", "codebook.csv"]:
        assert client.get(page_url(team, tail)).status_code == 404, tail
    response = client.post(page_url(team, "codebook/import/"), {"file": upload("path\nX\n")})
    assert response.status_code == 404


def test_csv_export_has_path_column_and_filename(client, team, codebook):
    client.force_login(team.coder)
    response = client.get(page_url(team, "codebook.csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="codebook-study.csv"'
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["path"] for r in rows] == [
        "Skills",
        "Skills > Skill gaps",
        "Skills > Skill gaps > Digital skills",
    ]
    assert rows[2]["level"] == "code" and rows[2]["definition"] == "Tech literacy."
    assert rows[0]["colour"] == "#aec7e8"


def test_csv_import_creates_and_updates(client, team, codebook):
    client.force_login(team.supervisor)
    text = (
        "\ufeffpath,colour,definition\n"
        "Skills > Skill gaps > Digital skills,,Can use digital tools.\n"
        "Skills > Skill gaps > Soft skills,#ff7f0e,Communication and teamwork.\n"
        "Access > Cost,,\n"
    )
    response = client.post(page_url(team, "codebook/import/"), {"file": upload(text)}, follow=True)
    assert response.redirect_chain[-1][0] == page_url(team)
    assert any("3 codes created, 1 updated" in m for m in messages_of(response))
    codebook["leaf"].refresh_from_db()
    assert codebook["leaf"].definition == "Can use digital tools."
    soft = Code.objects.get(project=team.project, name="Soft skills")
    assert soft.parent == codebook["sub"] and soft.colour == "#ff7f0e"
    assert Code.objects.get(project=team.project, name="Cost").parent.name == "Access"


def test_csv_import_bad_colour_names_the_row_and_imports_nothing(client, team, codebook):
    client.force_login(team.supervisor)
    before = Code.objects.count()
    text = "path,colour\nNew theme,#00ff00\nNew theme > Child,red\n"
    response = client.post(page_url(team, "codebook/import/"), {"file": upload(text)}, follow=True)
    found = messages_of(response)
    assert any("Nothing was imported" in m for m in found)
    assert any(m.startswith("Row 3:") and "red" in m for m in found), found
    assert Code.objects.count() == before
    html = response.content.decode()
    assert "Row 3:" in html


def test_csv_import_without_path_column_says_so(client, team):
    client.force_login(team.supervisor)
    response = client.post(
        page_url(team, "codebook/import/"), {"file": upload("name\nSkills\n")}, follow=True
    )
    assert any("“path” column" in m for m in messages_of(response))


def test_csv_import_refuses_non_utf8(client, team):
    client.force_login(team.supervisor)
    response = client.post(
        page_url(team, "codebook/import/"),
        {"file": upload("path\nCompétences\n", encoding="cp1252")},
        follow=True,
    )
    assert any("not UTF-8" in m for m in messages_of(response))
    assert not Code.objects.filter(project=team.project).exists()


def test_coder_import_is_403(client, team, codebook):
    client.force_login(team.coder)
    response = client.post(page_url(team, "codebook/import/"), {"file": upload("path\nNew\n")})
    assert response.status_code == 403
    assert not Code.objects.filter(name="New").exists()


def test_too_large_upload_gets_a_clear_message(client, team):
    client.force_login(team.supervisor)
    big = "path\n" + "x" * (2 * 1024 * 1024 + 10) + "\n"
    response = client.post(page_url(team, "codebook/import/"), {"file": upload(big)}, follow=True)
    assert any("larger than 2 MB" in m for m in messages_of(response))
    assert not Code.objects.filter(project=team.project).exists()


def test_import_without_file_asks_for_one(client, team):
    client.force_login(team.supervisor)
    response = client.post(page_url(team, "codebook/import/"), {}, follow=True)
    assert any("Choose a CSV file" in m for m in messages_of(response))


def test_import_page_is_post_only(client, team):
    client.force_login(team.supervisor)
    assert client.get(page_url(team, "codebook/import/")).status_code == 405

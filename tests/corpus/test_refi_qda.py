"""REFI-QDA exchange on PostgreSQL: the real NVivo export, round trips, repairs, refusals,
the commands and the exchange page."""

import io
import json
import zipfile

import pytest
import xmlschema
from defusedxml import ElementTree as SafeET
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from coding_app.models import Code, Coding, Membership, Memo, Project, Role
from coding_app.services import code_create, coding_apply, memo_set, project_create
from corpus.importers import ImportFileError, content_hash
from corpus.models import ImportBatch, JobStatus, Post
from corpus.services import exchange
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

Q = "{urn:QDA-XML:project:1.0}"


@pytest.fixture
def refi(shared_data):
    return shared_data / "refi-qda"


@pytest.fixture
def nvivo(refi):
    return refi / "samples" / "nvivo12_windows_oltas.qdpx"


def _import(team, path, project=None, user=None):
    with open(path, "rb") as handle:
        return exchange.project_import_qdpx(
            project=project or team.project,
            fileobj=handle,
            file_name=path.name,
            user=user or team.admin,
        )


def _counts(project):
    return (
        Post.objects.filter(project=project).count(),
        Code.all_objects.filter(project=project).count(),
        Coding.all_objects.filter(post__project=project).count(),
        ImportBatch.objects.filter(project=project).count(),
        get_user_model().objects.count(),
    )


def _path(code: Code) -> str:
    names = []
    while code is not None:
        names.append(code.name)
        code = code.parent
    return " > ".join(reversed(names))


# --- The real NVivo 12 export ----------------------------------------------------------------


def test_import_nvivo_sample_keeps_every_code_and_coding(team, nvivo):
    with zipfile.ZipFile(nvivo) as archive:
        root = SafeET.fromstring(archive.read("project.qde"))
    xml_codes = list(root.iter(f"{Q}Code"))
    xml_codings = list(root.iter(f"{Q}Coding"))

    summary = _import(team, nvivo)

    codes = Code.objects.filter(project=team.project)
    assert codes.count() == len(xml_codes) == 60
    assert Coding.objects.filter(post__project=team.project).count() == len(xml_codings) == 97
    assert (summary["codes"], summary["codings"], summary["codings_in_file"]) == (60, 97, 97)
    assert (summary["sources"], summary["posts_created"], summary["codings_skipped"]) == (1, 1, 0)
    # The hierarchy: each XML code sits under the code its XML parent names.
    parents = {child: parent for parent in xml_codes for child in parent.findall(f"{Q}Code")}
    by_origin = {code.origin["guid"]: code for code in codes.select_related("parent")}
    for element in xml_codes:
        code = by_origin[element.get("guid")]
        assert code.name == element.get("name")
        parent = parents.get(element)
        assert (code.parent.origin["guid"] if code.parent else None) == (
            parent.get("guid") if parent is not None else None
        )
    severity = by_origin["40e4aacc-0c89-4814-a42d-296c24e486e4"]
    assert severity.definition.startswith("Az észlelt egészségkárosodás súlyossága")
    assert _path(by_origin["4dc45cd9-8f88-4265-b8b0-5e0e41faa16a"]) == (
        "2. Perceived Severity – Észlelt súlyosság > Oltás kockázatai > méreg"
    )


def test_import_nvivo_sample_spans_read_as_quotes(team, nvivo):
    summary = _import(team, nvivo)
    offsets = summary["offsets"]
    assert offsets["interpretation"] == (
        "UTF-16 units, byte-order mark not counted, CRLF line ends counted as two"
    )
    assert (offsets["sources"][0]["word_boundaries"], offsets["sources"][0]["of"]) == (194, 194)

    post = Post.objects.get(project=team.project)
    assert post.external_id == "videos_selection"
    assert post.metadata["refi_guid"] == "56a79789-d535-4fb8-bedd-a915504c54ba"
    assert "\r" not in post.text and not post.text.startswith("\ufeff")
    assert post.text.startswith("video_id\nvideo_title\n")
    codings = list(Coding.objects.filter(post=post).select_related("code"))
    for coding in codings:
        assert coding.quote == post.text[coding.start : coding.end]
        # Each selection is one whole comment line of the export.
        assert coding.start == 0 or post.text[coding.start - 1] == "\n"
        assert post.text[coding.end - 1] == "\n" or post.text[coding.end] == "\n"
    quotes = {coding.quote.strip() for coding in codings}
    assert any(q.startswith("Na mi van? Nem mertétek kötelezővé tenni?") for q in quotes)
    assert "köszönjük 3 tanárt vesztünk el december 15 től igy érdekes lesz éretségizni jövőre" in (
        quotes
    )
    assert "tudatos hal äl reklám, hatalmas árulás" in quotes
    # A selection after several emoji (astral characters, two UTF-16 units each).
    last = max(codings, key=lambda c: c.start)
    before = post.text[: last.start]
    assert sum(ch > "\uffff" for ch in before) >= 5
    assert last.quote.startswith("Természetesen a transzhumanista ügynök")


def test_import_nvivo_sample_makes_the_coder_an_account(team, nvivo):
    summary = _import(team, nvivo)
    coder = get_user_model().objects.get(username="floriansipos")
    assert not coder.has_usable_password()
    assert Membership.objects.get(project=team.project, user=coder).role == Role.CODER
    assert set(
        Coding.objects.filter(post__project=team.project).values_list("coder__username", flat=True)
    ) == {"floriansipos"}
    assert summary["users"] == [
        {"name": "floriansipos", "username": "floriansipos", "created": True}
    ]
    batch = ImportBatch.objects.get(pk=summary["batch"])
    assert (batch.format, batch.status, batch.imported_count) == ("qdpx", JobStatus.SUCCEEDED, 1)


def test_import_nvivo_sample_twice_adds_nothing(team, nvivo):
    _import(team, nvivo)
    before = _counts(team.project)
    summary = _import(team, nvivo)
    assert _counts(team.project)[:3] == before[:3]
    assert (summary["posts_existing"], summary["codes_existing"], summary["codings_existing"]) == (
        1,
        60,
        97,
    )
    assert summary["users"][0]["created"] is False


def test_import_reuses_a_post_whose_text_differs_only_in_whitespace(team, nvivo):
    _import(team, nvivo)
    post = Post.objects.get(project=team.project)
    first = Coding.objects.filter(post=post).order_by("start").first()
    quote = first.quote.strip()
    spaced = post.text.replace("\n", "\n\n")
    assert content_hash(spaced) == post.content_hash
    other = project_create(slug="other", name="Other", admin=team.admin)
    PostFactory(project=other, text=spaced, external_id="mine")
    summary = _import(team, nvivo, project=other)
    assert summary["posts_existing"] == 1
    coding = Coding.objects.filter(post__project=other).order_by("start").first()
    assert coding.quote.strip() == quote


# --- Round trip -------------------------------------------------------------------------------


@pytest.fixture
def coded_project(team):
    project = team.project
    access = code_create(
        project=project,
        name="Access",
        colour="#1f77b4",
        definition="Who can take part.",
        inclusion="Any barrier or opening",
        memo="Central theme so far.",
        user=team.supervisor,
    )
    cost = code_create(project=project, name="Cost", parent=access, colour="#d62728")
    time = code_create(project=project, name="Time", parent=access, colour="#2ca02c")
    skills = code_create(project=project, name="Skills", colour="#ff7f0e", example="“I learnt”")
    texts = [
        "Micro-credentials widen access 🎉🎉 for adults who work full time.",
        "Cafe\u0301 owners 𝐥𝐨𝐯𝐞 stackable badges,\nbut the fees are high.",
        "Plain post without codings.",
    ]
    posts = [
        PostFactory(project=project, text=text, external_id=f"p{i}", author=f"Author {i}", url="")
        for i, text in enumerate(texts)
    ]
    posts[1].text = "Café owners 𝐥𝐨𝐯𝐞 stackable badges,\nbut the fees are high."
    posts[1].save()
    cora, cole = team.coders[0], team.coders[1]

    def span(post, words):
        start = post.text.index(words)
        return start, start + len(words)

    coding_apply(post=posts[0], code=access, coder=cora, start=0, end=30, memo="Key claim")
    coding_apply(
        post=posts[0],
        code=time,
        coder=cole,
        start=span(posts[0], "full time")[0],
        end=span(posts[0], "full time")[1],
    )
    coding_apply(
        post=posts[1],
        code=cost,
        coder=cora,
        start=span(posts[1], "fees are high")[0],
        end=span(posts[1], "fees are high")[1],
    )
    coding_apply(
        post=posts[1],
        code=skills,
        coder=cole,
        start=span(posts[1], "𝐥𝐨𝐯𝐞")[0],
        end=span(posts[1], "𝐥𝐨𝐯𝐞")[1],
    )
    memo_set(post=posts[1], user=cora, text="Check the fees claim.")
    return project


def _snapshot(project):
    codes = {
        _path(c): (c.colour.lower(), c.definition, c.inclusion, c.example)
        for c in Code.objects.filter(project=project).select_related("parent")
    }
    codings = sorted(
        (c.post.text, _path(c.code), c.coder.username, c.quote, c.memo)
        for c in Coding.objects.filter(post__project=project).select_related(
            "post", "code__parent", "coder"
        )
    )
    posts = sorted((p.text, p.external_id, p.author) for p in Post.objects.filter(project=project))
    memos = sorted(
        (m.post.text, m.author.username, m.text)
        for m in Memo.objects.filter(post__project=project).select_related("post", "author")
    )
    return codes, codings, posts, memos


def test_round_trip_keeps_posts_codes_and_coded_text(team, coded_project, refi):
    out = io.BytesIO()
    counts = exchange.project_export_qdpx(project=coded_project, out=out)
    assert (counts["sources"], counts["codes"], counts["codings"]) == (3, 4, 4)
    out.seek(0)
    with zipfile.ZipFile(out) as archive:
        schema = xmlschema.XMLSchema(str(refi / "schemas" / "Project-mrt2019.xsd"))
        schema.validate(io.BytesIO(archive.read("project.qde")))
    out.seek(0)
    copy = project_create(slug="copy", name="Copy", admin=team.admin)
    summary = exchange.project_import_qdpx(
        project=copy, fileobj=out, file_name="study.qdpx", user=team.admin
    )
    assert summary["offsets"]["interpretation"] == "code points, line ends as stored"
    assert summary["warnings"] == []
    assert _snapshot(copy) == _snapshot(coded_project)
    assert Code.objects.get(project=copy, name="Access").memo == "Central theme so far."
    users = {u["username"]: u["created"] for u in summary["users"]}
    assert users == {"cora": False, "cole": False}
    assert Membership.objects.get(project=copy, user=team.coders[0]).role == Role.CODER


def test_export_qdc_validates_and_imports_into_another_project(team, coded_project, refi):
    data = exchange.codebook_export_qdc(project=coded_project)
    xmlschema.XMLSchema(str(refi / "schemas" / "Codebook-mrt2019.xsd")).validate(data)
    other = project_create(slug="other", name="Other", admin=team.admin)
    summary = exchange.codebook_import_qdc(
        project=other, data=data, file_name="codebook.qdc", user=team.admin
    )
    assert (summary["codes"], summary["codes_created"], summary["warnings"]) == (4, 4, [])
    assert _snapshot(other)[0] == _snapshot(coded_project)[0]


def test_export_qdc_of_an_empty_codebook_is_refused(team):
    with pytest.raises(ImportFileError, match="empty"):
        exchange.codebook_export_qdc(project=team.project)


# --- Codebooks with real-world deviations -------------------------------------------------------


def test_import_qdc_spec_example_repairs_and_warns(team, refi):
    path = refi / "samples" / "refi_qda_1_5_spec_example.qdc"
    summary = exchange.codebook_import_qdc(
        project=team.project, data=path.read_bytes(), file_name=path.name, user=team.supervisor
    )
    assert summary["codes_created"] == 6
    assert summary["warnings"] == ["Repaired: empty <Sets/> removed."]
    economy = Code.objects.get(project=team.project, name="Economy")
    assert (economy.colour, economy.definition, economy.parent) == (
        "#ffff00",
        "Anything about jobs or taxes or business",
        None,
    )


def test_import_qdc_old_namespace_and_project_named_archive(team):
    qdc = (
        b'<CodeBook xmlns="urn:QDA-XML:codebook:0:4" origin="MAXQDA"><Codes>'
        b'<Code guid="d7aa29da-519b-4946-9b90-253b6db8fd0a" name="Economy" isCodable="true" '
        b'color="#FFFF00"/></Codes><Sets/></CodeBook>'
    )
    summary = exchange.exchange_import(
        project=team.project, fileobj=io.BytesIO(qdc), file_name="old.qdc", user=team.admin
    )
    assert summary["format"] == "qdc"
    assert summary["repairs"] == [
        "namespace “urn:QDA-XML:codebook:0:4” read as “urn:QDA-XML:codebook:1.0”",
        "empty <Sets/> removed",
    ]
    assert summary["warnings"][0].startswith("Repaired: namespace “urn:QDA-XML:codebook:0:4”")

    xml = (
        '<Project xmlns="urn:QDA-XML:project:1.0" name="Study" origin="ATLAS.ti"><Sources>'
        '<TextSource guid="56a79789-d535-4fb8-bedd-a915504c54ba" name="Interview 1">'
        "<PlainTextContent>We want skills, not degrees.</PlainTextContent>"
        '<PlainTextSelection guid="fd960901-8191-4db1-a3dd-a91626d56c4b" startPosition="8" '
        'endPosition="14"><Coding guid="f0700850-5e65-4b33-ae59-83d36a021670">'
        '<CodeRef targetGUID="d7aa29da-519b-4946-9b90-253b6db8fd0a"/></Coding>'
        "</PlainTextSelection></TextSource></Sources><Sets/></Project>"
    )
    xml = xml.replace(
        "<Sources>",
        '<CodeBook><Codes><Code guid="d7aa29da-519b-4946-9b90-253b6db8fd0a" name="Economy" '
        'isCodable="true"/></Codes></CodeBook><Sources>',
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Study.qde", xml)
    archive.seek(0)
    summary = exchange.exchange_import(
        project=team.project, fileobj=archive, file_name="study.qdpx", user=team.admin
    )
    assert "the project XML is named “Study.qde” instead of project.qde" in summary["warnings"][0]
    assert "empty <Sets/> removed" in summary["warnings"][0]
    coding = Coding.objects.get(post__project=team.project)
    assert (coding.quote, coding.code.name, coding.coder) == ("skills", "Economy", team.admin)


def test_import_foreign_project_notes_users_and_skipped_sources(team):
    """A MAXQDA-like file: inline text, notes on a source, a code and a coding, a user with
    an accented name, and sources that are not plain text."""
    g = "0000000{}-0000-4000-8000-000000000000".format
    xml = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="Interviews" origin="MAXQDA 2022">
  <Users><User guid="{g(1)}" name="Gergő Kis"/></Users>
  <CodeBook><Codes>
    <Code guid="{g(2)}" name="Trust" isCodable="true" color="#0A0"><NoteRef targetGUID="{g(7)}"/></Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="{g(3)}" name="Interview 1" creatingUser="{g(1)}">
      <PlainTextContent>I trust my doctor.</PlainTextContent>
      <PlainTextSelection guid="{g(4)}" startPosition="2" endPosition="7" creatingUser="{g(1)}">
        <Description>Strong word</Description>
        <Coding guid="{g(5)}"><CodeRef targetGUID="{g(2)}"/><NoteRef targetGUID="{g(8)}"/></Coding>
      </PlainTextSelection>
      <NoteRef targetGUID="{g(6)}"/>
    </TextSource>
    <PDFSource guid="{g(9)}" name="Scan" path="internal://scan.pdf"/>
    <TextSource guid="{"a" * 8}-0000-4000-8000-000000000000" name="Rich only" richTextPath="internal://x.docx"/>
  </Sources>
  <Notes>
    <Note guid="{g(6)}" creatingUser="{g(1)}"><PlainTextContent>Calm interview.</PlainTextContent></Note>
    <Note guid="{g(7)}"><PlainTextContent>About institutions.</PlainTextContent></Note>
    <Note guid="{g(8)}"><PlainTextContent>Said twice.</PlainTextContent></Note>
  </Notes>
</Project>"""
    summary = exchange.exchange_import(
        project=team.project,
        fileobj=_zip({"project.qde": xml.encode()}),
        file_name="interviews.qdpx",
        user=team.admin,
    )
    assert (summary["sources"], summary["sources_skipped"], summary["codings"]) == (1, 2, 1)
    assert any("“Scan” was not imported: it is a pdf source" in w for w in summary["warnings"])
    assert any(
        "“Rich only” was not imported: it has no plain text" in w for w in summary["warnings"]
    )
    assert summary["users"] == [{"name": "Gergő Kis", "username": "gergo-kis", "created": True}]
    coding = Coding.objects.get(post__project=team.project)
    assert (coding.quote, coding.coder.username, coding.coder.first_name) == (
        "trust",
        "gergo-kis",
        "Gergő Kis",
    )
    assert coding.memo == "Said twice.\n\nStrong word"
    assert coding.code.colour == "#00aa00" and coding.code.memo == "About institutions."
    memo = Memo.objects.get(post=coding.post)
    assert (memo.author.username, memo.text) == ("gergo-kis", "Calm interview.")
    again = exchange.exchange_import(
        project=team.project,
        fileobj=_zip({"project.qde": xml.encode()}),
        file_name="interviews.qdpx",
        user=team.admin,
    )
    assert again["users"][0]["created"] is False and again["codings_existing"] == 1
    assert again["memos"] == 0 and Memo.objects.get(post=coding.post).text == "Calm interview."


# --- Refusals: nothing half-imported -----------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>"""


def _zip(members: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def _valid_project_xml() -> bytes:
    return (
        b'<Project xmlns="urn:QDA-XML:project:1.0" name="P"><CodeBook><Codes>'
        b'<Code guid="d7aa29da-519b-4946-9b90-253b6db8fd0a" name="New code" isCodable="true"/>'
        b'</Codes></CodeBook><Sources><TextSource guid="56a79789-d535-4fb8-bedd-a915504c54ba" '
        b'name="s" plainTextPath="internal://56a79789-d535-4fb8-bedd-a915504c54ba.txt"/>'
        b"</Sources></Project>"
    )


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("laughs.qdc", lambda: io.BytesIO(BILLION_LAUGHS), "billion laughs"),
        ("laughs.qdpx", lambda: _zip({"project.qde": BILLION_LAUGHS}), "billion laughs"),
        (
            "bomb.qdpx",
            lambda: _zip(
                {
                    "project.qde": _valid_project_xml(),
                    "Sources/56a79789-d535-4fb8-bedd-a915504c54ba.txt": b"a" * (32 * 1024**2),
                }
            ),
            "ZIP bomb",
        ),
        (
            "traversal.qdpx",
            lambda: _zip(
                {
                    "project.qde": _valid_project_xml(),
                    "Sources/56a79789-d535-4fb8-bedd-a915504c54ba.txt": b"Some text here",
                    "../../outside.txt": b"boo",
                }
            ),
            "“../../outside.txt” would be written outside the archive's folder",
        ),
    ],
)
def test_unsafe_files_are_refused_and_nothing_is_imported(team, name, make, message):
    before = _counts(team.project)
    with pytest.raises(ImportFileError, match=message):
        exchange.exchange_import(
            project=team.project, fileobj=make(), file_name=name, user=team.admin
        )
    assert _counts(team.project) == before


def test_a_failure_midway_rolls_the_whole_import_back(team, nvivo, monkeypatch):
    calls = []
    real = exchange.coding_apply

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 50:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(exchange, "coding_apply", failing)
    before = _counts(team.project)
    with pytest.raises(RuntimeError):
        _import(team, nvivo)
    assert len(calls) == 50
    assert _counts(team.project) == before
    assert not get_user_model().objects.filter(username="floriansipos").exists()


# --- Commands ---------------------------------------------------------------------------------


def test_commands_export_and_import_qdpx_with_json(team, coded_project, tmp_path):
    out = tmp_path / "study.qdpx"
    call_command("export_qdpx", "--project", "study", "--out", str(out), stdout=io.StringIO())
    assert zipfile.is_zipfile(out)
    stdout = io.StringIO()
    call_command(
        "import_qdpx",
        str(out),
        "--project",
        "copy",
        "--create",
        "--name",
        "Copy of study",
        "--user",
        "ada",
        "--json",
        stdout=stdout,
    )
    summary = json.loads(stdout.getvalue())
    assert summary["project_created"] is True
    assert (summary["sources"], summary["codes"], summary["codings"]) == (3, 4, 4)
    assert {u["username"] for u in summary["users"]} == {"cora", "cole"}
    assert summary["offsets"]["interpretation"] == "code points, line ends as stored"
    assert summary["warnings"] == []
    copy = Project.objects.get(slug="copy")
    assert copy.name == "Copy of study"
    assert Membership.objects.get(project=copy, user=team.admin).role == Role.ADMIN


def test_commands_export_and_import_qdc(team, coded_project, tmp_path, refi):
    out = tmp_path / "codebook.qdc"
    call_command("export_qdc", "--project", "study", "--out", str(out), stdout=io.StringIO())
    xmlschema.XMLSchema(str(refi / "schemas" / "Codebook-mrt2019.xsd")).validate(str(out))
    project_create(slug="other", name="Other", admin=team.admin)
    stdout = io.StringIO()
    call_command("import_qdc", str(out), "--project", "other", "--json", stdout=stdout)
    assert json.loads(stdout.getvalue())["codes_created"] == 4
    stdout = io.StringIO()
    sample = refi / "samples" / "refi_qda_1_5_spec_example.qdc"
    call_command("import_qdc", str(sample), "--project", "other", stdout=stdout)
    assert "codes: 6 (6 new, 0 existing)" in stdout.getvalue()
    assert "Repaired: empty <Sets/> removed." in stdout.getvalue()


def test_command_import_qdpx_refusal_exits_1_with_message(team, tmp_path, capsys):
    path = tmp_path / "laughs.qdpx"
    path.write_bytes(_zip({"project.qde": BILLION_LAUGHS}).getvalue())
    stdout = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_qdpx", str(path), "--project", "study", "--json", stdout=stdout)
    assert exit_info.value.code == 1
    assert "billion laughs" in json.loads(stdout.getvalue())["error"]


def test_command_import_qdpx_nvivo_sample(team, nvivo):
    stdout = io.StringIO()
    call_command("import_qdpx", str(nvivo), "--project", "study", "--user", "ada", stdout=stdout)
    text = stdout.getvalue()
    assert "codes: 60 (60 new, 0 existing)" in text
    assert "codings: 97 (97 new, 0 existing, 0 skipped)" in text
    assert "offsets: UTF-16 units, byte-order mark not counted, CRLF line ends counted as two" in (
        text
    )


# --- The page ---------------------------------------------------------------------------------


def test_page_roles_see_what_they_may_do(team, client):
    url = reverse("exchange-page", args=["study"])
    client.force_login(team.coders[0])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Download project (.qdpx)" not in page.content
    assert client.get(reverse("exchange-qdpx", args=["study"])).status_code == 403
    upload = SimpleUploadedFile("x.qdc", b"<CodeBook/>")
    assert client.post(url, {"file": upload}).status_code == 403
    client.force_login(team.supervisor)
    page = client.get(url)
    assert b"Download project (.qdpx)" in page.content
    assert b"Download codebook (.qdc)" in page.content
    assert b'id="exchange-form"' not in page.content
    client.force_login(team.outsider)
    assert client.get(url).status_code == 404


def test_page_downloads_for_supervisors(team, coded_project, client):
    client.force_login(team.supervisor)
    response = client.get(reverse("exchange-qdpx", args=["study"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="study.qdpx"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "project.qde" in archive.namelist()
    response = client.get(reverse("exchange-qdc", args=["study"]))
    assert response.status_code == 200
    assert response.content.startswith(b"<?xml")


def test_page_import_shows_summary_and_warnings(team, client, nvivo, refi):
    client.force_login(team.admin)
    url = reverse("exchange-page", args=["study"])
    with open(nvivo, "rb") as handle:
        response = client.post(url, {"file": handle}, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Imported nvivo12_windows_oltas.qdpx" in content
    assert "Codes: 60" in content
    assert "Codings: 97 of 97" in content
    assert "UTF-16 units, byte-order mark not counted" in content
    assert "floriansipos (new account)" in content
    with open(refi / "samples" / "refi_qda_1_5_spec_example.qdc", "rb") as handle:
        content = client.post(url, {"file": handle}, follow=True).content.decode()
    assert "Repaired: empty &lt;Sets/&gt; removed." in content
    # The summary is shown once.
    assert "Imported refi_qda" not in client.get(url).content.decode()


def test_page_import_refuses_unsafe_and_oversized_files(team, client, settings):
    client.force_login(team.admin)
    url = reverse("exchange-page", args=["study"])
    bomb = SimpleUploadedFile("laughs.qdc", BILLION_LAUGHS)
    content = client.post(url, {"file": bomb}, follow=True).content.decode()
    assert "“laughs.qdc” was not imported" in content and "billion laughs" in content
    assert Code.objects.filter(project=team.project).count() == 0
    settings.GROUNDED_MAX_UPLOAD_MB = 0
    big = SimpleUploadedFile("big.qdpx", b"PK\x03\x04" + b"x" * 200_000)
    content = client.post(url, {"file": big}, follow=True).content.decode()
    assert "the upload limit is 0 MB" in content

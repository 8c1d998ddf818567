"""All codings as CSV and XLSX (Downloads page): contents cell by cell, formulas defused,
unicode intact, blind mode, filters and who may download."""

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from coding_app import services
from coding_app.models import Coding
from corpus.models import ImportBatch
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "coding_id",
    "post_id",
    "post_external_id",
    "post_author",
    "post_date",
    "post_url",
    "code_id",
    "code_path",
    "coder",
    "quote",
    "start",
    "end",
    "memo",
    "created_at",
]
TEXT = "=SUM(A1) Employers value digital skills 🎓 über alles, says the post."


@pytest.fixture
def coded(team):
    project = team.project
    cora, cole = team.coders[0], team.coders[1]
    batch = ImportBatch.objects.create(project=project, file_name="posts.csv", status="succeeded")
    first = PostFactory(
        project=project,
        batch=batch,
        text=TEXT,
        external_id="=ext-1",
        author="@Ann Author",
        url="https://example.org/posts/1",
        posted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    second = PostFactory(project=project, text="Badges matter to hiring managers.", author="Bo")
    theme = services.code_create(project=project, name="Skills", user=team.supervisor)
    sub = services.code_create(project=project, name="Digital skills", parent=theme)
    code = services.code_create(project=project, name="Coding", parent=sub)
    badges = services.code_create(project=project, name="Badges", parent=theme)
    gone = services.code_create(project=project, name="Gone")
    emoji = TEXT.index("🎓")
    formula, _ = services.coding_apply(
        post=first, code=code, coder=cora, start=0, end=8, memo="-2+3 looks like a formula"
    )
    unicode_coding, _ = services.coding_apply(
        post=first, code=sub, coder=cole, start=emoji, end=emoji + 8, memo="Ünïcode 🎓 memo"
    )
    badge, _ = services.coding_apply(post=second, code=badges, coder=cole, start=0, end=6)
    services.coding_apply(post=second, code=gone, coder=cora, start=7, end=13)
    services.code_delete(code=gone, user=team.supervisor)  # its coding goes with it
    return {
        "first": first,
        "second": second,
        "theme": theme,
        "sub": sub,
        "code": code,
        "formula": Coding.objects.get(pk=formula.pk),
        "unicode": Coding.objects.get(pk=unicode_coding.pk),
        "badge": Coding.objects.get(pk=badge.pk),
        "batch": batch,
    }


def _expected(coded, team):
    first, second = coded["first"], coded["second"]
    formula, unicode_coding, badge = coded["formula"], coded["unicode"], coded["badge"]
    emoji = TEXT.index("🎓")
    return [
        [
            formula.pk,
            first.pk,
            "'=ext-1",
            "'@Ann Author",
            "2026-01-02T03:04:05+00:00",
            "https://example.org/posts/1",
            coded["code"].pk,
            "Skills > Digital skills > Coding",
            "cora",
            "'=SUM(A1)",
            0,
            8,
            "'-2+3 looks like a formula",
            formula.created_at.isoformat(),
        ],
        [
            unicode_coding.pk,
            first.pk,
            "'=ext-1",
            "'@Ann Author",
            "2026-01-02T03:04:05+00:00",
            "https://example.org/posts/1",
            coded["sub"].pk,
            "Skills > Digital skills",
            "cole",
            "🎓 über a",
            emoji,
            emoji + 8,
            "Ünïcode 🎓 memo",
            unicode_coding.created_at.isoformat(),
        ],
        [
            badge.pk,
            second.pk,
            second.external_id,
            "Bo",
            "",
            "",
            badge.code_id,
            "Skills > Badges",
            "cole",
            "Badges",
            0,
            6,
            "",
            badge.created_at.isoformat(),
        ],
    ]


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx(response) -> list[list]:
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["Codings"]
    return [
        [("" if v is None else v) for v in row]
        for row in book["Codings"].iter_rows(values_only=True)
    ]


def test_codings_csv_holds_every_live_coding_cell_by_cell(client, team, coded):
    client.force_login(team.supervisor)
    response = client.get("/p/study/codings.csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="codings-study.csv"'
    rows = _csv(response)
    assert rows[0] == HEADER
    assert rows[1:] == [[str(cell) for cell in row] for row in _expected(coded, team)]


def test_codings_xlsx_holds_the_same_cells_and_no_formula(client, team, coded):
    client.force_login(team.supervisor)
    response = client.get("/p/study/codings.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _xlsx(response)
    assert rows[0] == HEADER
    assert rows[1:] == _expected(coded, team)
    book = load_workbook(io.BytesIO(client.get("/p/study/codings.xlsx").getvalue()))
    assert not [c for row in book["Codings"].iter_rows() for c in row if c.data_type == "f"]


def test_blind_coder_exports_only_their_own_codings(client, team, coded):
    team.project.blind_coding = True
    team.project.save(update_fields=["blind_coding"])
    cora = team.coders[0]
    client.force_login(cora)
    for query in ("", f"?coder={team.coders[1].pk}"):  # asking for Cole's changes nothing
        rows = _csv(client.get(f"/p/study/codings.csv{query}"))
        assert {row[8] for row in rows[1:]} <= {"cora"}
        assert [row[0] for row in rows[1:]] == ([str(coded["formula"].pk)] if not query else [])
    assert [row[0] for row in _xlsx(client.get("/p/study/codings.xlsx"))[1:]] == [
        coded["formula"].pk
    ]
    page = client.get("/p/study/downloads/").content.decode()
    assert "of yours" in page and 'name="coder"' not in page


def test_filters_by_code_with_the_codes_beneath_coder_batch_and_sample(client, team, coded):
    from corpus.models import Sample

    client.force_login(team.supervisor)

    def ids(query):
        return [int(row[0]) for row in _csv(client.get(f"/p/study/codings.csv?{query}"))[1:]]

    formula, unicode_coding, badge = coded["formula"].pk, coded["unicode"].pk, coded["badge"].pk
    assert ids(f"code={coded['sub'].pk}") == [formula, unicode_coding]
    assert ids(f"code={coded['theme'].pk}") == [formula, unicode_coding, badge]
    assert ids(f"coder={team.coders[1].pk}") == [unicode_coding, badge]
    assert ids(f"batch={coded['batch'].pk}") == [formula, unicode_coding]
    sample = Sample.objects.create(
        project=team.project, name="S", method="all", post_ids=[coded["second"].pk]
    )
    assert ids(f"sample={sample.pk}") == [badge]


def test_non_members_get_404_and_anonymous_the_login_page(client, team, coded):
    from tests.factories import ProjectFactory

    client.force_login(team.outsider)
    for url in ("/p/study/codings.csv", "/p/study/codings.xlsx", "/p/study/downloads/"):
        assert client.get(url).status_code == 404, url
    client.force_login(team.admin)
    other = ProjectFactory(slug="elsewhere")
    foreign = services.code_create(project=other, name="Theirs")
    assert client.get(f"/p/study/codings.csv?code={foreign.pk}").status_code == 404
    client.logout()
    response = client.get("/p/study/codings.csv")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_downloads_page_offers_the_exports_by_role(client, team, coded):
    client.force_login(team.coders[0])
    page = client.get("/p/study/downloads/").content.decode()
    assert 'href="/p/study/downloads/"' in page  # in the project's menu
    assert "Download CSV" in page and "/p/study/codings.xlsx" in page
    assert ">Skills > Digital skills > Coding</option>" in page  # the code filter: paths
    assert "/p/study/backup.zip" not in page
    client.force_login(team.admin)
    assert "/p/study/backup.zip" in client.get("/p/study/downloads/").content.decode()

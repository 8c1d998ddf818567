"""Blind mode cannot be bypassed: what tests/coding/test_blind.py does not already cover.

Cora (coder) coded "digital skills" with a secret memo; Cole (coder) coded "Employers";
the project is blind. Cole must find no trace of Cora's work: not in word-frequency or
word-tree results of coding scopes, not through a supervisor's job id, not in counts
(impact, members, pages), not in the changes feed or the codebook history (a merge, split
or delete of a code records how many codings, and whose, it moved), not in exports, and the
comparison pages refuse him.
"""

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from analysis import services as analysis_services
from coding_app import services
from coding_app.models import Membership

from .conftest import SECRET

pytestmark = pytest.mark.django_db

THEIR_WORDS = {"digital", "skills"}  # Cora's quote: "digital skills"
MY_WORDS = {"employers"}  # Cole's quote: "Employers"


@pytest.fixture
def blind(world):
    project = world.team.project
    project.blind_coding = True
    project.save(update_fields=["blind_coding"])
    return world


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def as_user(api_for, user):
    return api_for(fresh(user))


def _run(job_id):
    analysis_services.analysis_run(job_id=job_id)


def _words(job_id, client):
    data = client.get(f"/api/analyses/{job_id}/").json()
    assert data["status"] == "succeeded", data
    return {w["word"] for w in data["result"]["words"]}


# ----------------------------------------------------------------------- word frequency scopes


def test_blind_coders_code_scope_counts_only_their_own_quotes(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    response = cole.post(
        "/api/analyses/",
        {
            "project": "study",
            "kind": "frequency",
            "params": {"scope": "code", "scope_id": blind.ours.theme.pk, "min_length": 1},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    _run(response.json()["id"])
    words = _words(response.json()["id"], cole)
    assert words == MY_WORDS


def test_blind_coder_gets_nothing_from_another_coders_scope(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    cora = blind.team.coders[0]
    response = cole.post(
        "/api/analyses/",
        {
            "project": "study",
            "kind": "frequency",
            "params": {"scope": "coder", "scope_id": cora.pk, "min_length": 1},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    _run(response.json()["id"])
    assert _words(response.json()["id"], cole) == set()


def test_blind_coders_word_tree_of_a_code_holds_only_their_sentences(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    response = cole.post(
        "/api/analyses/",
        {
            "project": "study",
            "kind": "wordtree",
            "params": {"scope": "code", "scope_id": blind.ours.theme.pk, "root": "digital"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    _run(response.json()["id"])
    result = cole.get(f"/api/analyses/{response.json()['id']}/").json()
    assert "skills" not in repr(result["result"]).lower()


def _supervisor_code_job(world):
    job, _ = analysis_services.analysis_request(
        membership=Membership.objects.get(user=world.team.supervisor, project=world.team.project),
        kind="frequency",
        params={"scope": "code", "scope_id": world.ours.theme.pk, "min_length": 1},
        user=world.team.supervisor,
        enqueue=False,
    )
    _run(job.pk)
    return job


def test_supervisors_coding_scope_job_is_404_to_a_blind_coder_by_every_route(blind, api_for):
    job = _supervisor_code_job(blind)
    supervisor = as_user(api_for, blind.team.supervisor)
    assert THEIR_WORDS <= _words(job.pk, supervisor)  # the job really holds Cora's words
    cole = as_user(api_for, blind.team.coders[1])
    assert cole.get(f"/api/analyses/{job.pk}/").status_code == 404
    assert cole.post(f"/api/analyses/{job.pk}/theme/", {"word": "skills"}).status_code == 404
    branch = cole.post(
        f"/api/analyses/{job.pk}/code-branch/", {"code": blind.ours.code.pk, "phrase": "skills"}
    )
    assert branch.status_code == 404


def test_blind_coder_asking_the_supervisors_query_gets_a_job_of_their_own(blind, api_for):
    """The same parameters must not reuse the supervisor's finished job (or its counts)."""
    job = _supervisor_code_job(blind)
    cole = as_user(api_for, blind.team.coders[1])
    response = cole.post(
        "/api/analyses/",
        {
            "project": "study",
            "kind": "frequency",
            "params": {"scope": "code", "scope_id": blind.ours.theme.pk, "min_length": 1},
        },
        format="json",
    )
    assert response.json()["id"] != job.pk
    _run(response.json()["id"])
    assert _words(response.json()["id"], cole) == MY_WORDS


def test_one_blind_coders_job_is_404_to_another(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    response = cole.post(
        "/api/analyses/",
        {
            "project": "study",
            "kind": "frequency",
            "params": {"scope": "code", "scope_id": blind.ours.theme.pk},
        },
        format="json",
    )
    cleo = as_user(api_for, blind.team.coders[2])
    assert cleo.get(f"/api/analyses/{response.json()['id']}/").status_code == 404


# ----------------------------------------------------------------------- codings and counts


def test_blind_coder_cannot_edit_or_delete_another_coders_coding_nor_learn_it_exists(
    blind, api_for
):
    cole = as_user(api_for, blind.team.coders[1])
    theirs = blind.ours.coding.pk
    assert cole.patch(f"/api/codings/{theirs}/", {"memo": "x"}, format="json").status_code == 404
    assert cole.delete(f"/api/codings/{theirs}/").status_code == 404
    blind.ours.coding.refresh_from_db()
    assert SECRET in blind.ours.coding.memo


def test_coding_the_same_span_gives_the_blind_coder_their_own_coding(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    response = cole.post(
        "/api/codings/",
        {"post": blind.ours.post.pk, "code": blind.ours.code.pk, "start": 16, "end": 30},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["id"] != blind.ours.coding.pk
    assert response.json()["coder"]["username"] == "cole"
    assert SECRET not in response.content.decode()


def test_code_impact_counts_only_the_blind_coders_codings(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    impact = cole.get(f"/api/codes/{blind.ours.theme.pk}/impact/").json()
    assert impact["codings"] == 1
    assert impact["coders"] == 1
    supervisor = as_user(api_for, blind.team.supervisor)
    assert supervisor.get(f"/api/codes/{blind.ours.theme.pk}/impact/").json()["codings"] == 2


def test_pages_count_only_the_blind_coders_codings(blind, client):
    client.force_login(blind.team.coders[1])
    for url in ("/p/study/", f"/p/study/codes/{blind.ours.theme.pk}/", "/p/study/codebook/"):
        tree = client.get(url).context["tree"]
        assert tree[0]["name"] == "Skills"
        assert tree[0]["children"][0]["count"] == 1, url
    members = client.get("/p/study/members/")
    counts = {m.user.username: n for m, n in members.context["rows"]}
    assert counts["cora"] == 0
    assert counts["cole"] == 1


# ----------------------------------------------------------------------- the changes feed


def _codebook_changes_that_name_codings(world):
    """A supervisor merges, splits and deletes codes holding Cora's coding."""
    supervisor = world.team.supervisor
    ours = world.ours
    split = services.code_split(
        code=ours.code, user=supervisor, name="Split off", coding_ids=[ours.coding.pk]
    )
    services.code_merge(source=split, target=ours.other_code, user=supervisor)
    services.code_delete(code=ours.other_code, user=supervisor)
    services.code_restore(code=ours.other_code, user=supervisor)


TALLIES = ("codings", "coders", "moved", "duplicates_kept_once")


def _changes(client, url):
    data = client.get(url).json()
    return data["changes"] if isinstance(data, dict) else data


def _tallies(changes):
    return {
        (change["kind"], key)
        for change in changes
        for side in ("before", "after")
        for key in TALLIES
        if key in (change[side] or {})
    }


@pytest.mark.parametrize("url", ["/api/projects/study/changes/", "/api/projects/study/history/"])
def test_changes_and_history_hold_no_tally_of_other_coders_codings(blind, api_for, url):
    _codebook_changes_that_name_codings(blind)
    kinds = {"code.split", "code.merge", "code.delete"}
    supervisor = as_user(api_for, blind.team.supervisor)
    # The records hold them (split: the coding ids; merge: moved; delete: counts) ...
    assert kinds <= {kind for kind, _ in _tallies(_changes(supervisor, url))}
    cole = as_user(api_for, blind.team.coders[1])
    changes = _changes(cole, url)
    # ... which a blind coder does not get, while the codebook changes themselves reach him.
    assert kinds <= {c["kind"] for c in changes}
    assert _tallies(changes) == set()
    for change in changes:
        assert change["coding"] != blind.ours.coding.pk, change
        assert change["user"] != blind.team.coders[0].username, change
    assert SECRET not in repr(changes)


def test_changes_feed_of_a_post_holds_no_other_coders_coding(blind, api_for):
    cole = as_user(api_for, blind.team.coders[1])
    # Cora edits her memo now: a fresh coding change on the post Cole has open.
    services.coding_memo_set(
        coding=blind.ours.coding, user=blind.team.coders[0], memo="LATE-MEMO-OF-CORA"
    )
    data = cole.get(f"/api/projects/study/changes/?post={blind.ours.post.pk}").json()
    codings = [c for c in data["changes"] if c["kind"].startswith("coding.")]
    assert codings, "Cole's own coding reaches him"
    coders = {(c["after"] or c["before"])["coder"]["username"] for c in codings}
    assert coders == {"cole"}
    assert "LATE-MEMO-OF-CORA" not in repr(data) and SECRET not in repr(data)


# ----------------------------------------------------------------------- exports and pages


def test_quotes_csv_holds_only_the_blind_coders_rows(blind, client):
    client.force_login(blind.team.coders[1])
    cora = blind.team.coders[0]
    for query in ("", f"?coder={cora.pk}"):
        response = client.get(f"/p/study/codes/{blind.ours.theme.pk}/quotes.csv{query}")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert {row["coder"] for row in rows} <= {"cole"}, query
        assert all(row["quote"] != "digital skills" for row in rows), query
    everything = client.get(f"/p/study/codes/{blind.ours.theme.pk}/quotes.csv")
    assert len(list(csv.DictReader(io.StringIO(everything.content.decode("utf-8-sig"))))) == 1


def test_codings_exports_hold_only_the_blind_coders_rows(blind, client):
    from openpyxl import load_workbook

    client.force_login(blind.team.coders[1])
    cora = blind.team.coders[0]
    for query in ("", f"?coder={cora.pk}", f"?code={blind.ours.code.pk}"):
        response = client.get(f"/p/study/codings.csv{query}")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(body)))
        assert {row["coder"] for row in rows} <= {"cole"}, query
        assert SECRET not in body and "digital skills" not in body, query
        book = load_workbook(io.BytesIO(client.get(f"/p/study/codings.xlsx{query}").getvalue()))
        cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
        assert "cora" not in cells and not any(SECRET in str(c) for c in cells), query
    response = client.get("/p/study/codings.csv")
    assert len(list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))) == 1
    client.force_login(blind.team.supervisor)  # the supervisor sees both coders' rows
    response = client.get("/p/study/codings.csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert {row["coder"] for row in rows} == {"cora", "cole"}


def test_codebook_csv_holds_no_coding(blind, client):
    client.force_login(blind.team.coders[1])
    body = client.get("/p/study/codebook.csv").content.decode("utf-8-sig")
    assert SECRET not in body
    assert "cora" not in body


@pytest.mark.parametrize("query", ["", "?format=csv", "?format=xlsx", "?format=posts-csv"])
def test_comparison_and_its_exports_refuse_coders(blind, client, query):
    cora, cole = blind.team.coders[0], blind.team.coders[1]
    client.force_login(cole)
    assert client.get(f"/p/study/agreement/{query}").status_code == 403
    detail = f"/p/study/agreement/posts/{blind.ours.post.pk}/?a={cora.pk}&b={cole.pk}"
    assert client.get(detail).status_code == 403
    client.force_login(blind.team.supervisor)
    assert client.get(f"/p/study/agreement/{query}").status_code == 200

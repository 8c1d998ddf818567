"""Who may do what: every API endpoint and project page × every role, generated from the
URL conf, so a new route must be classified here before the suite passes.

Roles: anonymous, a non-member (admin of another project), a coder, a coder in blind mode,
a supervisor and an admin of project "study". An allowed request gets its success status; a
member whose role is too low gets 403; a non-member gets 404 (the project's existence is not
told); anonymous gets 401/403 from the API and a redirect to the login page from pages. A
denied request changes nothing in the database. An admin of "study" asking for another
project's objects through "study"'s URLs gets 404.

Each rule's roles share one world of objects; every request runs in a savepoint that is
rolled back, so each role starts from the same data.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shared_world, db):
    return shared_world


ANONYMOUS, NONMEMBER, CODER, BLIND, SUPERVISOR, ADMIN = (
    "anonymous",
    "non-member",
    "coder",
    "blind coder",
    "supervisor",
    "admin",
)
ROLES = (ANONYMOUS, NONMEMBER, CODER, BLIND, SUPERVISOR, ADMIN)
RANK = {CODER: 1, BLIND: 1, SUPERVISOR: 2, ADMIN: 3}
DENIED = (401, 403, 404)


@dataclass(frozen=True)
class Rule:
    """One (URL name, method) and who may use it.

    allow: "public" (anyone), "authenticated" (any logged-in user), "list" (any logged-in
    user, who sees only their projects' rows), "coder" / "supervisor" / "admin" (that role
    or higher in the project), "owner" (the coder who made the coding, nobody else),
    "staff" (staff accounts only, none of the roles here: 403 for every logged-in user).
    """

    name: str
    method: str
    url: Callable  # (objects, slug) -> path
    allow: str
    ok: tuple[int, ...]
    body: Callable | None = None  # (objects, slug) -> data
    files: Callable | None = None  # () -> {field: upload}, sent as multipart
    nonmember: int = 404  # what a non-member gets (a body naming an object: 400 as for none)
    mine: Callable | None = None  # for "list": (objects) -> ids a non-member must not see
    extra: dict = field(default_factory=dict)


def csv_upload(name="posts.csv", content=b"text,author\nSkills beat degrees,Ann\n"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _code_body(o, slug):
    return {"project": slug, "name": "In vivo", "parent": o.theme.pk}


def _code_put(o, slug):
    return {"project": slug, "name": "Digital skills", "version": o.code.version}


R = Rule
RULES = [
    # ------------------------------------------------------------------ pages outside projects
    R("projects-page", "get", lambda o, s: "/", "authenticated", (200,)),
    R(
        "project-create",
        "post",
        lambda o, s: "/new/",
        "authenticated",
        (302,),
        body=lambda o, s: {"name": "A new study"},
    ),
    R("password-change", "get", lambda o, s: "/account/password/", "authenticated", (200,)),
    R(
        "password-change",
        "post",
        lambda o, s: "/account/password/",
        "authenticated",
        (200,),  # the form again: the current password given is wrong
        body=lambda o, s: {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
    ),
    R("login", "get", lambda o, s: "/login/", "public", (200,)),
    R("logout", "post", lambda o, s: "/logout/", "public", (302,)),
    R("healthz", "get", lambda o, s: "/healthz", "public", (200,)),
    R(
        "project-restore",
        "post",
        lambda o, s: "/restore/",
        "staff",
        (302,),
        body=lambda o, s: {"slug": "restored"},
        files=lambda: {"file": csv_upload("backup.zip", b"PK\x03\x04 not a backup")},
    ),
    # ------------------------------------------------------------------ project pages
    R("project-page", "get", lambda o, s: f"/p/{s}/", "coder", (200,)),
    R("post-page", "get", lambda o, s: f"/p/{s}/posts/{o.post.pk}/", "coder", (200,)),
    R("code-page", "get", lambda o, s: f"/p/{s}/codes/{o.code.pk}/", "coder", (200,)),
    R(
        "code-quotes-csv",
        "get",
        lambda o, s: f"/p/{s}/codes/{o.code.pk}/quotes.csv",
        "coder",
        (200,),
    ),
    R("codebook-page", "get", lambda o, s: f"/p/{s}/codebook/", "coder", (200,)),
    R("codebook-csv", "get", lambda o, s: f"/p/{s}/codebook.csv", "coder", (200,)),
    R(
        "codebook-import",
        "post",
        lambda o, s: f"/p/{s}/codebook/import/",
        "supervisor",
        (302,),
        files=lambda: {"file": csv_upload("codebook.csv", b"path,level\nImported,theme\n")},
    ),
    R("imports-page", "get", lambda o, s: f"/p/{s}/imports/", "coder", (200,)),
    R(
        "imports-page",
        "post",
        lambda o, s: f"/p/{s}/imports/",
        "admin",
        (302,),
        files=lambda: {"file": csv_upload()},
    ),
    R(
        "import-mapping-page",
        "get",
        lambda o, s: f"/p/{s}/imports/{o.draft_batch.pk}/mapping/",
        "admin",
        (200,),
    ),
    R(
        "import-mapping-page",
        "post",
        lambda o, s: f"/p/{s}/imports/{o.draft_batch.pk}/mapping/",
        "admin",
        (302,),
        body=lambda o, s: {"discard": "1"},
    ),
    R(
        "import-rejected-csv",
        "get",
        lambda o, s: f"/p/{s}/imports/{o.batch.pk}/rejected.csv",
        "coder",
        (200,),
    ),
    R(
        "import-cancel",
        "post",
        lambda o, s: f"/p/{s}/imports/{o.draft_batch.pk}/cancel/",
        "admin",
        (302,),
    ),
    R(
        "import-delete",
        "post",
        lambda o, s: f"/p/{s}/imports/{o.batch.pk}/delete/",
        "admin",
        (302,),
        body=lambda o, s: {"confirm": "1"},
    ),
    R("exchange-page", "get", lambda o, s: f"/p/{s}/exchange/", "coder", (200,)),
    R(
        "exchange-page",
        "post",
        lambda o, s: f"/p/{s}/exchange/",
        "admin",
        (302,),
        files=lambda: {"file": csv_upload("codebook.qdc", b"not xml")},
    ),
    R("exchange-qdpx", "get", lambda o, s: f"/p/{s}/exchange/project.qdpx", "supervisor", (200,)),
    R("exchange-qdc", "get", lambda o, s: f"/p/{s}/exchange/codebook.qdc", "supervisor", (200,)),
    R("downloads-page", "get", lambda o, s: f"/p/{s}/downloads/", "coder", (200,)),
    R("codings-csv", "get", lambda o, s: f"/p/{s}/codings.csv", "coder", (200,)),
    R("codings-xlsx", "get", lambda o, s: f"/p/{s}/codings.xlsx", "coder", (200,)),
    R("project-backup", "get", lambda o, s: f"/p/{s}/backup.zip", "admin", (200,)),
    R("analysis-page", "get", lambda o, s: f"/p/{s}/analysis/", "coder", (200,)),
    R("comparison-page", "get", lambda o, s: f"/p/{s}/agreement/", "supervisor", (200,)),
    R(
        "disagreement-page",
        "get",
        lambda o, s: (
            f"/p/{s}/agreement/posts/{o.post.pk}/?a={o.coding.coder_id}"
            f"&b={o.coding_of_another.coder_id}"
        ),
        "supervisor",
        (200,),
    ),
    R(
        "disagreement-page",
        "post",
        lambda o, s: f"/p/{s}/agreement/posts/{o.post.pk}/",
        "supervisor",
        (302,),
        body=lambda o, s: {"code": o.code.pk, "start": 16, "end": 30, "decision": "accept"},
    ),
    R(
        "near-duplicate-review",
        "post",
        lambda o, s: f"/p/{s}/near-duplicates/{o.near_duplicate.pk}/",
        "supervisor",
        (302,),
        body=lambda o, s: {"action": "exclude"},
    ),
    R("queue-page", "get", lambda o, s: f"/p/{s}/queue/", "coder", (200,)),
    R("members-page", "get", lambda o, s: f"/p/{s}/members/", "coder", (200,)),
    R(
        "members-page",
        "post",
        lambda o, s: f"/p/{s}/members/",
        "admin",
        (302,),
        body=lambda o, s: {"action": "remove", "username": "cleo"},
    ),
    R("sampling-page", "get", lambda o, s: f"/p/{s}/sampling/", "coder", (200,)),
    R(
        "sampling-page",
        "post",
        lambda o, s: f"/p/{s}/sampling/",
        "supervisor",
        (302,),
        body=lambda o, s: {"name": "Drawn", "method": "systematic", "k": "1", "start": "1"},
    ),
    R("sample-page", "get", lambda o, s: f"/p/{s}/samples/{o.sample.pk}/", "coder", (200,)),
    R(
        "sample-page",
        "post",
        lambda o, s: f"/p/{s}/samples/{o.sample.pk}/",
        "supervisor",
        (302,),
        body=lambda o, s: {"coders": [o.coding.coder_id], "per_post": "1", "seed": "1"},
    ),
    # ------------------------------------------------------------------ API
    R("api-root", "get", lambda o, s: "/api/", "authenticated", (200,)),
    R(
        "project-list",
        "get",
        lambda o, s: "/api/projects/",
        "list",
        (200,),
        mine=lambda o: {o.project.pk},
    ),
    R(
        "project-list",
        "post",
        lambda o, s: "/api/projects/",
        "authenticated",
        (201,),
        body=lambda o, s: {"name": "A new study"},
    ),
    R("project-detail", "get", lambda o, s: f"/api/projects/{s}/", "coder", (200,)),
    R(
        "project-detail",
        "patch",
        lambda o, s: f"/api/projects/{s}/",
        "supervisor",
        (200,),
        body=lambda o, s: {"coders_create_codes": False},
    ),
    R(
        "project-detail",
        "put",
        lambda o, s: f"/api/projects/{s}/",
        "admin",
        (200,),
        body=lambda o, s: {"name": "Renamed", "blind_coding": False, "coders_create_codes": True},
    ),
    R("project-changes", "get", lambda o, s: f"/api/projects/{s}/changes/", "coder", (200,)),
    R("project-history", "get", lambda o, s: f"/api/projects/{s}/history/", "coder", (200,)),
    R(
        "post-list",
        "get",
        lambda o, s: f"/api/posts/?project={s}",
        "list",
        (200,),
        mine=lambda o: {o.post.pk, o.other_post.pk},
    ),
    R("post-detail", "get", lambda o, s: f"/api/posts/{o.post.pk}/", "coder", (200,)),
    R(
        "post-done",
        "post",
        lambda o, s: f"/api/posts/{o.post.pk}/done/",
        "coder",
        (400,),  # allowed, but the post is in nobody's queue here
    ),
    R("post-memos", "get", lambda o, s: f"/api/posts/{o.post.pk}/memos/", "coder", (200,)),
    R(
        "post-memos",
        "put",
        lambda o, s: f"/api/posts/{o.post.pk}/memos/",
        "coder",
        (200,),
        body=lambda o, s: {"text": "My memo"},
    ),
    R(
        "post-mark",
        "post",
        lambda o, s: f"/api/posts/{o.post.pk}/mark/",
        "supervisor",
        (200,),
        body=lambda o, s: {"relevant": False, "note": "off topic"},
    ),
    R(
        "code-list",
        "get",
        lambda o, s: f"/api/codes/?project={s}",
        "list",
        (200,),
        mine=lambda o: {o.theme.pk, o.code.pk, o.other_code.pk},
    ),
    R("code-list", "post", lambda o, s: "/api/codes/", "coder", (201,), body=_code_body),
    R("code-tree", "get", lambda o, s: f"/api/codes/tree/?project={s}", "coder", (200,)),
    R("code-detail", "get", lambda o, s: f"/api/codes/{o.code.pk}/", "coder", (200,)),
    R(
        "code-detail",
        "patch",
        lambda o, s: f"/api/codes/{o.code.pk}/",
        "supervisor",
        (200,),
        body=lambda o, s: {"definition": "Skills named as digital.", "version": o.code.version},
    ),
    R(
        "code-detail",
        "put",
        lambda o, s: f"/api/codes/{o.code.pk}/",
        "supervisor",
        (200,),
        body=_code_put,
    ),
    R("code-detail", "delete", lambda o, s: f"/api/codes/{o.code.pk}/", "supervisor", (200,)),
    R("code-impact", "get", lambda o, s: f"/api/codes/{o.code.pk}/impact/", "coder", (200,)),
    R(
        "code-merge",
        "post",
        lambda o, s: f"/api/codes/{o.code.pk}/merge/",
        "supervisor",
        (200,),
        body=lambda o, s: {"into": o.other_code.pk},
    ),
    R(
        "code-move",
        "post",
        lambda o, s: f"/api/codes/{o.code.pk}/move/",
        "supervisor",
        (200,),
        body=lambda o, s: {"parent": None, "version": o.code.version},
    ),
    R("code-quotes", "get", lambda o, s: f"/api/codes/{o.code.pk}/quotes/", "coder", (200,)),
    R(
        "code-restore",
        "post",
        lambda o, s: f"/api/codes/{o.deleted_code.pk}/restore/",
        "supervisor",
        (200,),
    ),
    R(
        "code-split",
        "post",
        lambda o, s: f"/api/codes/{o.code.pk}/split/",
        "supervisor",
        (201,),
        body=lambda o, s: {"name": "Split off", "codings": [o.coding_of_another.pk]},
    ),
    R(
        "coding-list",
        "get",
        lambda o, s: f"/api/codings/?project={s}",
        "list",
        (200,),
        mine=lambda o: {o.coding.pk, o.coding_of_another.pk},
    ),
    R(
        "coding-list",
        "post",
        lambda o, s: "/api/codings/",
        "coder",
        (201,),
        body=lambda o, s: {"post": o.other_post.pk, "code": o.code.pk, "start": 0, "end": 7},
        nonmember=400,  # "no post N in your projects", as for a post that does not exist
    ),
    R("coding-detail", "get", lambda o, s: f"/api/codings/{o.coding.pk}/", "coder", (200,)),
    R(
        "coding-detail",
        "patch",
        lambda o, s: f"/api/codings/{o.coding.pk}/",
        "owner",
        (200,),
        body=lambda o, s: {"memo": "Rethought."},
    ),
    R(
        "coding-detail",
        "put",
        lambda o, s: f"/api/codings/{o.coding.pk}/",
        "owner",
        (200,),
        body=lambda o, s: {"memo": "Rethought."},
    ),
    R("coding-detail", "delete", lambda o, s: f"/api/codings/{o.coding.pk}/", "owner", (204,)),
    R(
        "importbatch-list",
        "get",
        lambda o, s: f"/api/import-batches/?project={s}",
        "list",
        (200,),
        mine=lambda o: {o.batch.pk, o.draft_batch.pk},
    ),
    R(
        "importbatch-list",
        "post",
        lambda o, s: "/api/import-batches/",
        "admin",
        (202,),
        body=lambda o, s: {"project": s},
        files=lambda: {"file": csv_upload()},
    ),
    R(
        "importbatch-detail",
        "get",
        lambda o, s: f"/api/import-batches/{o.batch.pk}/",
        "coder",
        (200,),
    ),
    R(
        "importbatch-cancel",
        "post",
        lambda o, s: f"/api/import-batches/{o.draft_batch.pk}/cancel/",
        "admin",
        (200,),
    ),
    R("pool", "get", lambda o, s: f"/api/pool/?project={s}&min_words=3", "coder", (200,)),
    R(
        "change-revert",
        "post",
        lambda o, s: f"/api/changes/{o.change.pk}/revert/",
        "supervisor",
        (200,),
    ),
    R(
        "analysis-list",
        "post",
        lambda o, s: "/api/analyses/",
        "coder",
        (201,),
        body=lambda o, s: {"project": s, "kind": "frequency", "params": {"top": 7}},
    ),
    R("analysis-detail", "get", lambda o, s: f"/api/analyses/{o.job.pk}/", "coder", (200,)),
    R(
        "analysis-theme",
        "post",
        lambda o, s: f"/api/analyses/{o.job.pk}/theme/",
        "supervisor",
        (201,),
        body=lambda o, s: {"word": "employers"},
    ),
    R(
        "analysis-code-branch",
        "post",
        lambda o, s: f"/api/analyses/{o.tree.pk}/code-branch/",
        "coder",
        (201,),
        body=lambda o, s: {"code": o.code.pk, "phrase": "skills"},
    ),
    R(
        "stopwords",
        "post",
        lambda o, s: "/api/stopwords/",
        "supervisor",
        (201,),
        body=lambda o, s: {"project": s, "word": "hello"},
    ),
    R(
        "api-token",
        "post",
        lambda o, s: "/api/token/",
        "public",
        (400,),
        body=lambda o, s: {"username": "nobody", "password": "wrong"},
    ),
    # ------------------------------------------------------------------ review and report
    R("review-page", "get", lambda o, s: f"/p/{s}/review/", "coder", (200,)),
    R("saturation-page", "get", lambda o, s: f"/p/{s}/review/saturation/", "coder", (200,)),
    R("report-page", "get", lambda o, s: f"/p/{s}/report/", "supervisor", (200,)),
    R(
        "report-download",
        "get",
        lambda o, s: f"/p/{s}/report/download/?format=docx",
        "supervisor",
        (200,),
    ),
    R(
        "report-figure",
        "get",
        lambda o, s: f"/p/{s}/report/figures/saturation.svg",
        "supervisor",
        (200,),
    ),
    R(
        "review-hierarchy",
        "get",
        lambda o, s: f"/api/projects/{s}/review/hierarchy/",
        "coder",
        (200,),
    ),
    R(
        "review-quotes",
        "get",
        lambda o, s: f"/api/projects/{s}/review/quotes/?code={o.theme.pk}",
        "coder",
        (200,),
    ),
    R(
        "review-status",
        "post",
        lambda o, s: f"/api/projects/{s}/review/codes/{o.code.pk}/status/",
        "supervisor",
        (200,),
        body=lambda o, s: {"status": "approved"},
    ),
    R(
        "review-comments",
        "get",
        lambda o, s: f"/api/projects/{s}/review/comments/",
        "coder",
        (200,),
    ),
    R(
        "review-comments",
        "post",
        lambda o, s: f"/api/projects/{s}/review/comments/",
        "supervisor",
        (201,),
        body=lambda o, s: {"code": o.code.pk, "text": "Check the span."},
    ),
    R(
        "review-comment-resolve",
        "post",
        lambda o, s: f"/api/projects/{s}/review/comments/{o.review_comment.pk}/resolve/",
        "supervisor",
        (200,),
        body=lambda o, s: {"resolved": True},
    ),
    R(
        "review-cooccurrence",
        "get",
        lambda o, s: f"/api/projects/{s}/review/cooccurrence/?mode=span",
        "coder",
        (200,),
    ),
    R(
        "review-cooccurrence-posts",
        "get",
        lambda o, s: (f"/api/projects/{s}/review/cooccurrence/posts/?a={o.code.pk}&b={o.theme.pk}"),
        "coder",
        (200,),
    ),
    R("schema", "get", lambda o, s: "/api/schema/", "public", (200,)),
    R("api-docs", "get", lambda o, s: "/api/docs/", "public", (200,)),
    R("api-redoc", "get", lambda o, s: "/api/redoc/", "public", (200,)),
]


def _rule_id(rule: Rule) -> str:
    return f"{rule.name}:{rule.method.upper()}"


# ------------------------------------------------------------------ the URL conf, walked


def _routes(patterns=None, prefix=""):
    """(route, name, callback) of every route outside the Django admin."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            route = prefix + str(pattern.pattern)
            if route.startswith("admin/"):
                continue
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, pattern.callback


def _api_methods(callback) -> set[str]:
    """The HTTP methods a DRF route answers (viewset actions, or an APIView's handlers)."""
    actions = getattr(callback, "actions", None)
    if actions:  # DRF adds "head" (as "get") once a request has been served
        return set(actions) - {"head", "options"}
    cls = getattr(callback, "cls", None)
    if cls is None:
        return set()
    return {m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)}


def test_every_route_is_classified():
    """A new endpoint or page (or a new method on one) fails here until it has a rule."""
    classified = {(r.name, r.method) for r in RULES}
    names = {name for _, name, _ in _routes()}
    missing_names = names - {r.name for r in RULES}
    assert not missing_names, f"classify these routes in RULES: {sorted(missing_names)}"
    missing_methods = set()
    for route, name, callback in _routes():
        if route.startswith("api/"):
            for method in _api_methods(callback):
                if (name, method) not in classified:
                    missing_methods.add(f"{name}:{method.upper()}")
    assert not missing_methods, f"classify these API methods: {sorted(missing_methods)}"
    stale = {r.name for r in RULES} - names
    assert not stale, f"rules for routes that no longer exist: {sorted(stale)}"


# ------------------------------------------------------------------ running one request


def _fingerprint(world) -> str:
    """A digest of every row a write could touch, in one query."""
    from django.apps import apps
    from django.db import connection

    tables = [
        model._meta.db_table
        for app in ("coding_app", "corpus", "analysis", "authtoken")
        for model in apps.get_app_config(app).get_models()
    ]
    digest = " || ".join(
        f"coalesce((SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t), '-')"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {digest}")
        return cursor.fetchone()[0]


def _user_for(world, role):
    team = world.team
    return {
        ANONYMOUS: None,
        NONMEMBER: team.outsider,
        CODER: team.coders[0],
        BLIND: team.coders[0],
        SUPERVISOR: team.supervisor,
        ADMIN: team.admin,
    }[role]


def _send(world, rule: Rule, user, objects, slug, *, blind=False, watch=True):
    """One request in a savepoint that is rolled back; returns (response, changed).

    With `watch`, whether the request changed the database is found out (a denial must not).
    """
    client = Client()
    if user is not None:
        client.force_login(user)
    url = rule.url(objects, slug)
    data = rule.body(objects, slug) if rule.body else None
    with transaction.atomic():
        if blind:
            world.team.project.__class__.objects.filter(pk=world.team.project.pk).update(
                blind_coding=True
            )
        before = _fingerprint(world) if watch else None
        if rule.files:
            response = getattr(client, rule.method)(url, {**(data or {}), **rule.files()})
        elif url.startswith("/api/") and data is not None:
            response = getattr(client, rule.method)(url, data, content_type="application/json")
        elif data is not None:
            response = getattr(client, rule.method)(url, data)
        else:
            response = getattr(client, rule.method)(url)
        changed = watch and _fingerprint(world) != before
        transaction.set_rollback(True)
    return response, changed


def _expected(rule: Rule, role: str) -> str:
    """ "allowed", "denied-403", "denied-404", "denied-<n>", "anonymous" or "list"."""
    if rule.allow == "public":
        return "allowed"
    if role == ANONYMOUS:
        return "anonymous"
    if rule.allow == "authenticated":
        return "allowed"
    if rule.allow == "staff":
        return "denied-403"
    if rule.allow == "list":
        return "list" if role == NONMEMBER else "allowed"
    if role == NONMEMBER:
        return f"denied-{rule.nonmember}"
    if rule.allow == "owner":
        return "allowed" if role in (CODER, BLIND) else "denied-403"
    return "allowed" if RANK[role] >= RANK[rule.allow] else "denied-403"


def _check(rule: Rule, role: str, response, changed: bool, objects) -> str | None:
    """A description of what went wrong, or None."""
    status = response.status_code
    expected = _expected(rule, role)
    url = rule.url(objects, objects.project.slug)
    where = f"{rule.method.upper()} {url} as {role}: {status}"
    if status >= 500:
        return f"{where} (server error)"
    if expected == "allowed":
        if status not in rule.ok:
            return f"{where}, expected {rule.ok}: {response.content[:300]!r}"
        return None
    if expected == "list":
        if status != 200:
            return f"{where}, expected 200 with nothing of the project"
        data = response.json()
        rows = data["results"] if isinstance(data, dict) else data
        leaked = {row["id"] for row in rows} & rule.mine(objects)
        return f"{where}, lists {sorted(leaked)} of a project it is not in" if leaked else None
    if changed:
        return f"{where}, denied but the database changed"
    if expected == "anonymous":
        if url.startswith("/api/"):
            return None if status in (401, 403) else f"{where}, expected 401/403"
        location = response.get("Location", "")
        if status == 302 and location.startswith("/login/"):
            return None
        return f"{where}, expected a redirect to the login page (got {location!r})"
    want = int(expected.removeprefix("denied-"))
    if status != want:
        return f"{where}, expected {want}"
    if url.startswith("/api/"):
        body = response.json()
        if set(body) < {"detail", "errors"}:
            return f"{where}, error body {body} lacks the one error shape"
    return None


@pytest.mark.parametrize("rule", RULES, ids=_rule_id)
def test_role_matrix(world, rule):
    problems = []
    for role in ROLES:
        user = _user_for(world, role)
        response, changed = _send(
            world,
            rule,
            user,
            world.ours,
            world.ours.project.slug,
            blind=role == BLIND,
            watch=_expected(rule, role) != "allowed",
        )
        problem = _check(rule, role, response, changed, world.ours)
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


class _Stand:
    """Stands for every object of a world: each id, version and coder id is `n`."""

    def __init__(self, n):
        self.n = n

    def __getattr__(self, name):
        return self.n if name in ("pk", "version", "coder_id") else self


def _names_objects(rule: Rule) -> bool:
    """Whether the rule's URL or body names an object (an id), not only the project."""
    one, two = _Stand(1), _Stand(2)
    if rule.url(one, "study") != rule.url(two, "study"):
        return True
    return bool(rule.body) and rule.body(one, "study") != rule.body(two, "study")


CROSS = [
    r for r in RULES if r.allow not in ("public", "authenticated", "list") and _names_objects(r)
]


@pytest.mark.parametrize("rule", CROSS, ids=_rule_id)
def test_admin_gets_404_for_another_projects_objects(world, rule):
    """Study's admin, with study's slug in the path but another project's ids in the URL or
    the body: 404 (or, for a body naming them, the 400 of an id that does not exist), and
    nothing changes."""
    slug = world.ours.project.slug
    url_ours, url_theirs = rule.url(world.ours, slug), rule.url(world.theirs, slug)
    body_ours = rule.body(world.ours, slug) if rule.body else None
    body_theirs = rule.body(world.theirs, slug) if rule.body else None
    assert (url_ours, body_ours) != (url_theirs, body_theirs)
    response, changed = _send(world, rule, world.team.admin, world.theirs, slug)
    allowed = (404,) if url_ours != url_theirs else (400, 404)
    assert response.status_code in allowed, (url_theirs, body_theirs, response.status_code)
    assert not changed


def test_project_existence_is_not_told_by_creating_a_code(world, api_for):
    """A code for a project you are not in answers exactly as for a project that does not
    exist."""
    olga = api_for(world.team.outsider)
    real = olga.post("/api/codes/", {"project": "study", "name": "X"}, format="json")
    made_up = olga.post("/api/codes/", {"project": "no-such-study", "name": "X"}, format="json")
    assert real.status_code == made_up.status_code == 404
    assert real.json() == made_up.json()


def test_coder_with_a_queue_cannot_code_other_posts_from_a_word_tree(world, api_for):
    """Coders code the posts assigned to them; coding a word-tree branch must not reach
    posts outside the coder's queue."""
    from coding_app.models import Assignment, Coding

    cora = world.team.coders[0]
    ours = world.ours
    Assignment.objects.create(post=ours.other_post, coder=cora, position=1)
    response = api_for(cora).post(
        f"/api/analyses/{ours.tree.pk}/code-branch/",
        {"code": ours.code.pk, "phrase": "skills"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    coded_posts = set(
        Coding.objects.filter(pk__in=response.json()["created"]).values_list("post_id", flat=True)
    )
    assert coded_posts == {ours.other_post.pk}  # "skills" is in both posts; one is hers

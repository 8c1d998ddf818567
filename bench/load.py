"""Mixed load against the deployment's process set while heavy jobs run.

Run:  .venv/bin/python bench/load.py [--seconds 60] [--users 50]
      (uses postgres://postgres@127.0.0.1:5432/grounded_load and redis://127.0.0.1:6379/3)

Starts `bin/up` (what `make up` runs: gunicorn, two Celery workers, the scheduler) on a free
loopback port, sets up a project of 500 posts with a codebook and 50 coders, then, while a
155,000-post import (the real tweets in ../shared/data/corpora/tweeteval_155k.jsonl, uploaded
through the API) and a word-frequency job over 100,000 posts run on the workers, 50 simulated
users browse posts, open a post with its codings, apply and remove codings, list a code's
quotes and poll the import job, each about once a second, for --seconds. It prints throughput
and p50/p95/p99 per request type, errors, how far the background jobs got, and checks that
every acknowledged coding is in the database and every acknowledged removal is gone.
Targets: 0 errors, nothing lost, p95 for applying a coding under 150 ms. Nothing is asserted.
"""

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "corpora"
DATABASE_URL = os.environ.get(
    "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/grounded_load"
)
BROKER_URL = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/3")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DJANGO_SETTINGS_MODULE"] = "coding_app.settings.local"
os.environ["DEBUG"] = "false"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


class Client:
    """One simulated user's keep-alive HTTP connection (token authentication)."""

    def __init__(self, host: str, port: int, token: str):
        self.host, self.port, self.token = host, port, token
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def call(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def create_database() -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(DATABASE_URL)
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def setup(users: int):
    import django

    create_database()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        check=True,
        env=os.environ | {"DATABASE_URL": DATABASE_URL},
    )
    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from coding_app.models import Code, Membership, Project
    from corpus.importers import content_hash
    from corpus.models import Post

    rng = random.Random(5)
    User = get_user_model()
    Project.objects.filter(slug__in=["load", "load-frequency", "load-import"]).delete()
    project = Project.objects.create(slug="load", name="Load")
    vocab = (
        "skills access credentials learning employers badges trust cost quality time "
        "hiring degree course online flexible recognition stackable career pathway"
    ).split()
    posts = Post.objects.bulk_create(
        [
            Post(
                project=project,
                text=(text := " ".join(rng.choice(vocab) for _ in range(rng.randint(80, 250)))),
                content_hash=content_hash(f"{i} {text}"),
                word_count=len(text.split()),
            )
            for i in range(500)
        ]
    )
    themes = [Code.objects.create(project=project, name=f"Theme {t}") for t in range(3)]
    codes = [
        Code.objects.create(project=project, name=f"Code {i}", parent=themes[i % 3])
        for i in range(15)
    ]
    admin, _ = User.objects.get_or_create(username="load-admin")
    Membership.objects.create(project=project, user=admin, role="admin")
    tokens = []
    coders = []
    for i in range(users):
        user, _ = User.objects.get_or_create(username=f"load-coder-{i}")
        Membership.objects.create(project=project, user=user, role="coder")
        coders.append(user)
        Token.objects.filter(user=user).delete()
        tokens.append(Token.objects.create(user=user).key)
    Token.objects.filter(user=admin).delete()
    admin_token = Token.objects.create(user=admin).key

    # A project of 100,000 LinkedIn-length posts for the word-frequency job.
    import csv

    with open(DATA / "linkedin_influencers_1600.csv", encoding="utf-8") as f:
        linkedin = [row["content"] for row in csv.DictReader(f) if row["content"].strip()]
    frequency = Project.objects.create(slug="load-frequency", name="Load frequency")
    Membership.objects.create(project=frequency, user=admin, role="admin")
    batch = []
    for i in range(100_000):
        text = linkedin[i % len(linkedin)] + f" (copy {i // len(linkedin)})"
        batch.append(
            Post(project=frequency, text=text, content_hash=content_hash(text), word_count=1)
        )
        if len(batch) == 5000:
            Post.objects.bulk_create(batch)
            batch = []
    importing = Project.objects.create(slug="load-import", name="Load import")
    Membership.objects.create(project=importing, user=admin, role="admin")
    # The coders follow the import's progress (a member's view of a running job).
    Membership.objects.bulk_create(
        [Membership(project=importing, user=user, role="coder") for user in coders]
    )
    return {
        "project": project.slug,
        "posts": [p.pk for p in posts],
        "codes": [c.pk for c in codes],
        "theme": themes[0].pk,
        "tokens": tokens,
        "admin_token": admin_token,
    }


def upload(client_host, port, token, project: str, path: Path) -> int:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="project"\r\n\r\n{project}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection(client_host, port, timeout=300)
    conn.request(
        "POST",
        "/api/import-batches/",
        body=body,
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    response = conn.getresponse()
    data = json.loads(response.read())
    assert response.status == 202, data
    return data["id"]


def user_loop(n, host, port, env, stop_at, results, acked, removed, batch_id):
    rng = random.Random(n)
    client = Client(host, port, env["tokens"][n])
    project, posts, codes = env["project"], env["posts"], env["codes"]
    mine: list[int] = []
    next_at = time.monotonic() + rng.random()
    while time.monotonic() < stop_at:
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += 0.6 + rng.random() * 0.8  # about once a second each
        roll = rng.random()
        post = rng.choice(posts)
        if roll < 0.15:
            kind, method, path, body = (
                "browse posts",
                "GET",
                f"/api/posts/?project={project}&page={rng.randint(1, 10)}",
                None,
            )
        elif roll < 0.35:
            kind, method, path, body = "open post", "GET", f"/api/codings/?post={post}", None
        elif roll < 0.70:
            start = rng.randint(0, 300)
            kind, method, path, body = (
                "apply coding",
                "POST",
                "/api/codings/",
                {"post": post, "code": rng.choice(codes), "start": start, "end": start + 20},
            )
        elif roll < 0.82 and mine:
            kind, method, path, body = (
                "remove coding",
                "DELETE",
                f"/api/codings/{mine.pop(rng.randrange(len(mine)))}/",
                None,
            )
        elif roll < 0.92:
            kind, method, path, body = (
                "list quotes",
                "GET",
                f"/api/codes/{env['theme']}/quotes/",
                None,
            )
        else:
            kind, method, path, body = "poll job", "GET", f"/api/import-batches/{batch_id}/", None
        started = time.perf_counter()
        try:
            status, content = client.call(method, path, body)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            results[kind].append((time.perf_counter() - started, 0, str(exc)[:100]))
            continue
        elapsed = time.perf_counter() - started
        ok = 200 <= status < 300
        results[kind].append(
            (elapsed, status, "" if ok else content[:120].decode(errors="replace"))
        )
        if ok and kind == "apply coding":
            coding = json.loads(content)["id"]
            mine.append(coding)
            acked.add(coding)
        elif ok and kind == "remove coding":
            removed.add(int(path.rstrip("/").rsplit("/", 1)[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--no-jobs", action="store_true", help="the same load without the background jobs"
    )
    args = parser.parse_args()
    env = setup(args.users)
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="grounded-load-"))
    up_env = os.environ | {
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": f"load-{uuid.uuid4().hex[:6]}",
        "BIND": f"127.0.0.1:{port}",
        "UP_DIR": str(tmp / "up"),
        "GROUNDED_VAR_DIR": str(tmp / "var"),
        "WEB_WORKERS": os.environ.get("WEB_WORKERS", "4"),
    }
    subprocess.run(["bin/up"], cwd=ROOT, env=up_env, check=True, capture_output=True)
    try:
        host = "127.0.0.1"
        # The background jobs: the tweets import and a word-frequency query over 100,000 posts.
        tweets = tmp / "tweets.jsonl"
        source = DATA / "tweeteval_155k.jsonl"
        if args.no_jobs:  # a small import only, so the poll still has a job to read
            tweets.write_text("".join(source.open(encoding="utf-8").readlines()[:50]))
        else:
            tweets.write_bytes(source.read_bytes())
        batch_id = upload(host, port, env["admin_token"], "load-import", tweets)
        admin = Client(host, port, env["admin_token"])
        job_id = None
        if not args.no_jobs:
            status, content = admin.call(
                "POST",
                "/api/analyses/",
                {"project": "load-frequency", "kind": "frequency", "params": {"scope": "project"}},
            )
            job_id = json.loads(content)["id"]
        results: dict[str, list] = defaultdict(list)
        acked: set[int] = set()
        removed: set[int] = set()
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=user_loop,
                args=(n, host, port, env, stop_at, results, acked, removed, batch_id),
            )
            for n in range(args.users)
        ]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        batch = json.loads(admin.call("GET", f"/api/import-batches/{batch_id}/")[1])
        job = (
            json.loads(admin.call("GET", f"/api/analyses/{job_id}/")[1])
            if job_id
            else {"status": "not run", "progress": 0.0}
        )
    finally:
        subprocess.run(["bin/down"], cwd=ROOT, env=up_env, capture_output=True)

    from coding_app.models import Coding

    stored = set(Coding.objects.filter(pk__in=acked).values_list("pk", flat=True))
    lost = len((acked - removed) - stored)
    resurrected = len(removed & stored)
    spans = list(
        Coding.objects.filter(post__project__slug="load").values_list(
            "post", "code", "coder", "start", "end"
        )
    )
    duplicates = len(spans) - len(set(spans))
    total = sum(len(v) for v in results.values())
    errors = sum(1 for v in results.values() for _, status, _ in v if not 200 <= status < 300)
    print(
        f"{args.users} users for {wall:.0f} s against bin/up (gunicorn "
        f"{up_env['WEB_WORKERS']} workers x {up_env.get('WEB_THREADS', 4)} threads, 2 Celery "
        "workers, scheduler) on this 2-core machine"
    )
    print(f"throughput {total / wall:.1f} requests/s, errors {errors}\n")
    print(f"{'request':16}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for kind in sorted(results):
        times = [t * 1000 for t, status, _ in results[kind]]
        bad = [m for _, status, m in results[kind] if not 200 <= status < 300]
        print(
            f"{kind:16}{len(times):7}{percentile(times, 0.5):9.1f}{percentile(times, 0.95):9.1f}"
            f"{percentile(times, 0.99):9.1f}{len(bad):8}"
        )
        for message in bad[:3]:
            print(f"{'':16}  e.g. {message}")
    apply = [t * 1000 for t, _, _ in results["apply coding"]]
    print(
        f"\nbackground: import {batch['status']} at {batch['progress']:.0%} "
        f"({batch['imported_count']} posts so far); word frequency {job['status']} "
        f"at {job['progress']:.0%}"
    )
    print(
        f"acknowledged codings {len(acked)}, removals {len(removed)}: lost {lost}, "
        f"removed but present {resurrected}, duplicate spans {duplicates}"
    )
    p95 = percentile(apply, 0.95)
    print(
        f"targets: 0 errors [{errors}], nothing lost [{lost + resurrected + duplicates}], "
        f"apply p95 < 150 ms [{p95:.1f} ms: {'met' if p95 < 150 else 'missed'}]"
    )


if __name__ == "__main__":
    main()

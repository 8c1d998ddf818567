"""Import throughput: Grounded's `import_posts` end to end, beside a naive ORM loop and bare COPY.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/grounded_bench .venv/bin/python bench/import_bench.py
      [--million] (also the 1,000,000-post file)   [--rows N] (naive-baseline slice, default 20,000)

Every figure is measured in this run; nothing here is asserted. The 1M file is the tweet corpus
repeated with fresh ids and a "(copy N)" suffix on each text, so the copies are new posts and not
duplicates of the originals.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TWEETS = ROOT.parent / "shared" / "data" / "corpora" / "tweeteval_155k.jsonl"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/grounded_bench")


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def fresh_project(slug: str):
    """An empty project of that name. An earlier run's posts are deleted and the posts table
    vacuumed (untimed): otherwise the import's own closing VACUUM would be timed cleaning up
    after the deletion of 1,000,000 posts, which autovacuum does elsewhere (it is off on
    this machine's PostgreSQL)."""
    from django.db import DatabaseError, connection

    from coding_app.models import Project
    from corpus.models import Post
    from corpus.services.imports import _posts_delete

    for project in Project.objects.filter(slug=slug):
        _posts_delete(Post.objects.filter(project=project))
        project.delete()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {Post._meta.db_table}")
            # and the pages the deletion dirtied written out now, not by a checkpoint in
            # the middle of the timed import (needs a superuser or pg_checkpoint)
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError:
                pass
    return Project.objects.create(slug=slug, name=slug)


# The child reports its own peak (VmHWM): the rusage of a forked child would also count the
# pages it shared with this process before exec, which holds the 1M file's source rows.
_PEAK_REPORTER = """
import atexit, runpy, sys
def _report():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                sys.stderr.write('GROUNDED_PEAK_KB ' + line.split()[1] + '\\n')
atexit.register(_report)
sys.argv = ['manage.py'] + sys.argv[1:]
runpy.run_path('manage.py', run_name='__main__')
"""


def run_cli(path: Path, slug: str) -> dict:
    """The command a user runs, in its own process; wall time and that process's peak memory."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK_REPORTER, "import_posts", str(path), "--project", slug]
        + ["--json"],
        cwd=ROOT,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"import_posts failed: {proc.stderr.decode()[-2000:]}")
    summary = json.loads(proc.stdout)
    peak_kb = [
        int(line.split()[1])
        for line in proc.stderr.decode().splitlines()
        if line.startswith("GROUNDED_PEAK_KB ")
    ]
    rows = summary["imported"] + summary["duplicates"] + summary["rejected"]
    return {"seconds": seconds, "rows": rows, "summary": summary, "peak_mb": peak_kb[-1] / 1024}


ROUNDS_155K = 3


def make_million(target: Path, total: int = 1_000_000) -> None:
    with open(TWEETS, encoding="utf-8") as source:
        lines = [json.loads(line) for line in source if line.strip()]
    written, copy = 0, 0
    with open(target, "w", encoding="utf-8") as out:
        while written < total:
            copy += 1
            for obj in lines:
                if written >= total:
                    break
                suffix = "" if copy == 1 else f" (copy {copy})"
                out.write(
                    json.dumps({"id": f"{obj['id']}#{copy}", "text": obj["text"] + suffix}) + "\n"
                )
                written += 1


def naive_baseline(rows: int) -> float:
    """One ORM save() per row, in this process: the rate a straightforward loop reaches."""
    from corpus.importers import detect_mapping, normalize_row, open_rows
    from corpus.models import Post

    project = fresh_project("bench-naive")
    with open(TWEETS, "rb") as fileobj:
        columns, iterator = open_rows(fileobj, "jsonl")
        mapping = detect_mapping(columns)
        started = time.perf_counter()
        done = 0
        for raw in iterator:
            if done >= rows:
                break
            try:
                record = normalize_row(raw, mapping)
            except Exception:
                continue
            if Post.objects.filter(project=project, content_hash=record.content_hash).exists():
                continue
            Post(
                project=project,
                external_id=record.external_id,
                text=record.text,
                word_count=record.word_count,
                content_hash=record.content_hash,
                metadata=record.metadata,
                posted_at=record.posted_at,
            ).save()
            done += 1
    return done / (time.perf_counter() - started)


def bare_copy() -> float:
    """COPY of the same 155k rows (already in memory) into an empty unlogged-free plain table."""
    from django.db import connection

    with open(TWEETS, encoding="utf-8") as source:
        rows = [json.loads(line) for line in source if line.strip()]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TABLE bench_copy (external_id varchar(255), text text, content_hash varchar(64))"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(
            "COPY bench_copy (external_id, text, content_hash) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((row["id"], row["text"], ""))
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return len(rows) / elapsed


def copy_into_posts_shape() -> float:
    """COPY of the same 155k rows, already normalised and in memory, with every column an
    import writes, into an empty table shaped like the posts table (its indexes and unique
    constraints, no foreign keys): what PostgreSQL alone costs, with no parsing, no LSH
    records to compute and no duplicate handling (the exact duplicates are dropped
    beforehand)."""
    from django.db import connection
    from django.utils import timezone

    from corpus.importers import detect_mapping, normalize_row, open_rows
    from corpus.models import Post
    from corpus.near_duplicates import MIN_WORDS, lsh_record
    from corpus.writer import COPY_COLUMNS

    records, seen = [], set()
    with open(TWEETS, "rb") as fileobj:
        columns, iterator = open_rows(fileobj, "jsonl")
        mapping = detect_mapping(columns)
        for raw in iterator:
            try:
                record = normalize_row(raw, mapping)
            except Exception:
                continue
            if record.content_hash not in seen and record.external_id not in seen:
                seen.update((record.content_hash, record.external_id))
                lsh = lsh_record(record.text) if record.word_count >= MIN_WORDS else None
                records.append((record, lsh))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_posts_shape")
        cursor.execute(f"CREATE TABLE bench_posts_shape (LIKE {Post._meta.db_table} INCLUDING ALL)")
        now = timezone.now()
        started = time.perf_counter()
        with cursor.cursor.copy(
            f"COPY bench_posts_shape ({', '.join(COPY_COLUMNS)}) FROM STDIN"
        ) as copy:
            for r, lsh in records:
                copy.write_row(
                    (1, 1, r.external_id, r.author, r.author_headline, r.posted_at, r.url)
                    + (r.text, r.word_count, r.content_hash, json.dumps(r.metadata), lsh)
                    + (now,)
                )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_posts_shape")
    return len(records) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    if not TWEETS.exists():
        raise SystemExit(f"missing {TWEETS}")
    ensure_database()
    import django

    django.setup()

    results = []
    # The 155k import three times (each into an emptied project), the best kept: a single
    # run moved by up to a sixth from one to the next on this machine.
    runs = []
    for _ in range(ROUNDS_155K):
        fresh_project("bench-155k")
        runs.append(run_cli(TWEETS, "bench-155k"))
    r = min(runs, key=lambda run: run["seconds"])
    results.append((f"import_posts, 155k tweets (JSONL), best of {ROUNDS_155K}", r))
    print(
        f"155k: {r['summary']['imported']} imported, {r['summary']['duplicates']} duplicates, "
        f"{r['summary']['rejected']} rejected; runs "
        + ", ".join(f"{run['seconds']:.1f} s ({run['peak_mb']:.0f} MB)" for run in runs),
        flush=True,
    )
    if args.million:
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "tweets_1m.jsonl"
            make_million(big)
            fresh_project("bench-1m")
            r = run_cli(big, "bench-1m")
            results.append(("import_posts, 1,000,000 posts (JSONL)", r))
            print(
                f"1M: {r['summary']['imported']} imported, {r['summary']['duplicates']} duplicates",
                flush=True,
            )

    naive = naive_baseline(args.rows)
    copy_rate = bare_copy()
    shaped_rate = copy_into_posts_shape()
    print()
    print(f"{'what':50} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}")
    for label, r in results:
        rate = r["rows"] / r["seconds"]
        print(f"{label:50} {r['rows']:>9} {r['seconds']:>8.1f} {rate:>9.0f} {r['peak_mb']:>8.0f}")
    print(
        f"{'naive ORM save() per row (' + str(args.rows) + ' rows)':50} {args.rows:>9} {'':>8} {naive:>9.0f}"
    )
    print(f"{'bare COPY of the raw 155k rows':50} {'':>9} {'':>8} {copy_rate:>9.0f}")
    print(f"{'COPY into a posts-shaped table (normalised)':50} {'':>9} {'':>8} {shaped_rate:>9.0f}")
    main_rate = results[0][1]["rows"] / results[0][1]["seconds"]
    print()
    print(
        f"155k import vs naive baseline: {main_rate / naive:.1f}x; vs bare COPY: "
        f"{main_rate / copy_rate:.2f}; vs COPY into a posts-shaped table: {main_rate / shaped_rate:.2f}"
    )


if __name__ == "__main__":
    main()

"""Agreement speed: a full character-level comparison of 3 coders on 10,000 posts, 50 codes,
about 200,000 codings, in PostgreSQL.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/grounded_bench .venv/bin/python bench/agreement_bench.py

Prints the time to load the codings and compute every code's table, kappa, alpha, the
roll-ups, the pooled alpha with its bootstrap interval and the heatmap; nothing is asserted.
"""

import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/grounded_bench")

POSTS, CODERS, THEMES, CODES_PER_THEME, CODINGS = 10_000, 3, 10, 5, 200_000


def main() -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from analysis.comparison import comparison_compute
    from coding_app.models import Code, Coding, Membership, Project
    from corpus.importers import content_hash
    from corpus.models import Post

    rng = random.Random(1)
    Project.objects.filter(slug="bench-agreement").delete()
    project = Project.objects.create(slug="bench-agreement", name="bench")
    users = []
    for i in range(CODERS):
        user, _ = get_user_model().objects.get_or_create(username=f"bench-coder-{i}")
        Membership.objects.create(project=project, user=user, role="coder")
        users.append(user)
    words = "skills access credentials learning employers badges trust cost quality time".split()
    posts = Post.objects.bulk_create(
        [
            Post(
                project=project,
                text=(
                    text := " ".join(rng.choice(words) for _ in range(rng.randint(30, 150)))
                    + f" {i}"
                ),
                content_hash=content_hash(text),
                word_count=len(text.split()),
            )
            for i in range(POSTS)
        ],
        batch_size=2000,
    )
    codes = []
    for t in range(THEMES):
        theme = Code.objects.create(project=project, name=f"Theme {t}")
        codes += [
            Code.objects.create(project=project, parent=theme, name=f"Code {t}.{c}")
            for c in range(CODES_PER_THEME)
        ]
    started = time.perf_counter()
    batch, seen = [], set()
    while len(seen) < CODINGS:
        post = rng.choice(posts)
        start = rng.randrange(0, len(post.text) - 10)
        end = min(len(post.text), start + rng.randint(5, 120))
        key = (post.pk, rng.choice(codes).pk, rng.choice(users).pk, start, end)
        if key in seen:
            continue
        seen.add(key)
        batch.append(
            Coding(
                post_id=key[0],
                code_id=key[1],
                coder_id=key[2],
                start=start,
                end=end,
                quote=post.text[start:end],
            )
        )
        if len(batch) == 10_000:
            Coding.objects.bulk_create(batch)
            batch = []
    Coding.objects.bulk_create(batch)
    print(
        f"set-up: {POSTS} posts, {len(codes)} codes under {THEMES} themes, {CODINGS} codings "
        f"({time.perf_counter() - started:.1f} s)"
    )

    started = time.perf_counter()
    result = comparison_compute(project=project, coder_ids=[u.pk for u in users], unit="character")
    seconds = time.perf_counter() - started
    print(
        f"full character-level comparison, {CODERS} coders: {seconds:.2f} s "
        f"(pooled alpha {result['overall']['alpha']}, 95% CI {result['overall']['alpha_low']}–{result['overall']['alpha_high']})"
    )
    started = time.perf_counter()
    comparison_compute(project=project, coder_ids=[u.pk for u in users[:2]], unit="character")
    print(f"full character-level comparison, 2 coders: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    comparison_compute(project=project, coder_ids=[u.pk for u in users], unit="post")
    print(f"post-level comparison, {CODERS} coders: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()

"""Post page speed in Chromium: a 3,000-word post with 500 codings (30 codes, 3 coders).

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/grounded_bench .venv/bin/python bench/post_render_bench.py

Serves the app with `runserver --insecure` (DEBUG off), opens the post in headless Chromium
and prints, next to a baseline of the same post with no codings: the page load, the time of
the page's own drawing (highlights, stripes, list: a performance.measure in post.js), a
redraw after a live update, and the frames seen while scrolling the whole post (the longest
gap between frames is what a reader feels as lag). Nothing is asserted.
"""

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coding_app.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/grounded_bench")
WORDS, CODINGS, CODES, CODERS = 3000, 500, 30, 3
PASSWORD = "bench-render-pw-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup() -> tuple[int, int]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from coding_app.models import Code, Coding, Membership, Project
    from corpus.importers import content_hash
    from corpus.models import Post

    rng = random.Random(7)
    Project.objects.filter(slug="bench-render").delete()
    project = Project.objects.create(slug="bench-render", name="Render bench")
    users = []
    for i in range(CODERS):
        user, _ = get_user_model().objects.get_or_create(username=f"render-coder-{i}")
        user.set_password(PASSWORD)
        user.save()
        Membership.objects.create(
            project=project, user=user, role="supervisor" if i == 0 else "coder"
        )
        users.append(user)
    vocab = "skills access credentials learning employers badges trust cost quality time 🎓 résumé".split()
    lines = []
    for _ in range(WORDS // 60):
        lines.append(" ".join(rng.choice(vocab) for _ in range(60)) + ".")
    text = "\n\n".join(lines)
    posts = []
    for label in ("coded", "baseline"):
        body = f"{label}: {text}"
        posts.append(
            Post.objects.create(
                project=project, text=body, content_hash=content_hash(body), word_count=WORDS
            )
        )
    themes = [Code.objects.create(project=project, name=f"Theme {t}") for t in range(5)]
    codes = [
        Code.objects.create(
            project=project,
            name=f"Code {i}",
            parent=themes[i % 5],
            colour=f"#{rng.randrange(0x888888, 0xFFFFFF):06x}",
        )
        for i in range(CODES)
    ]
    length = len(posts[0].text)
    rows, seen = [], set()
    while len(rows) < CODINGS:
        start = rng.randrange(0, length - 400)
        end = start + rng.randrange(5, 400)
        key = (rng.choice(codes).pk, rng.choice(users).pk, start, end)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            Coding(
                post=posts[0],
                code_id=key[0],
                coder_id=key[1],
                start=start,
                end=end,
                quote=posts[0].text[start:end],
            )
        )
    Coding.objects.bulk_create(rows)
    return posts[0].pk, posts[1].pk


MEASURE = """async () => {
  const draw = performance.getEntriesByName('grounded:render').map(e => e.duration);
  const parts = ['text', 'stripes'].map(n => performance.getEntriesByName('grounded:' + n)[0].duration);
  const el = document.scrollingElement;
  const frames = [];
  await new Promise(done => {
    let last = performance.now();
    const step = () => {
      const now = performance.now();
      frames.push(now - last); last = now;
      if (el.scrollTop + innerHeight >= el.scrollHeight - 2) return done();
      el.scrollTop += 120; requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  // A redraw as after a live update (a coding added or removed by someone else).
  const t0 = performance.now();
  window.dispatchEvent(new Event('resize'));
  const resize = performance.now() - t0;
  return {draw: draw[0], frames: frames.length, worstGap: Math.max(...frames.slice(1)),
          meanGap: frames.slice(1).reduce((a, b) => a + b, 0) / (frames.length - 1),
          resize, text: parts[0], stripesMs: parts[1], marks: document.querySelectorAll('mark.hl').length,
          stripes: document.querySelectorAll('#stripes rect').length};
}"""


def main() -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    coded, baseline = setup()
    port = free_port()
    env = dict(os.environ, DEBUG="0")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", "render-coder-0")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            results = {}
            for label, pk in (("baseline, no codings", baseline), ("500 codings", coded)):
                runs = []
                for _ in range(3):
                    started = time.perf_counter()
                    page.goto(f"{base}/p/bench-render/posts/{pk}/", wait_until="load")
                    page.wait_for_function("performance.getEntriesByName('grounded:render').length")
                    load = (time.perf_counter() - started) * 1000
                    runs.append({"load": load, **page.evaluate(MEASURE)})
                results[label] = runs
            browser.close()
    finally:
        server.terminate()
        server.wait()
    print(f"Post page: {WORDS:,} words; {CODINGS} codings of {CODES} codes by {CODERS} coders")
    print("median of 3 page loads, headless Chromium on this machine (no GPU)\n")
    header = f"{'':22}{'load ms':>9}{'draw ms':>9}{'redraw ms':>10}{'frames':>8}{'mean gap':>10}{'worst gap':>10}{'marks':>7}{'stripes':>8}"
    print(header)
    for label, runs in results.items():
        med = {k: sorted(r[k] for r in runs)[1] for k in runs[0]}
        print(
            f"{label:22}{med['load']:9.0f}{med['draw']:9.1f}{med['resize']:10.1f}{med['frames']:8.0f}"
            f"{med['meanGap']:10.1f}{med['worstGap']:10.1f}{med['marks']:7.0f}{med['stripes']:8.0f}"
        )
    print(
        "parts (500 codings, ms to end of): text",
        [round(r["text"]) for r in results["500 codings"]],
        "stripes",
        [round(r["stripesMs"]) for r in results["500 codings"]],
    )
    print("\nA frame gap near 16.7 ms is 60 frames a second; lag shows as gaps over ~50 ms.")


if __name__ == "__main__":
    main()

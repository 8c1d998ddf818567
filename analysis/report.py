"""The findings report: per theme its definition, sub-themes, origin, counts, agreement and
direct quotes, with the sampling recipe and the methods sentence; figures drawn as SVG here
(PNG through cairosvg) and exported as DOCX, standalone HTML and Markdown."""

import base64
import io
import re
from collections import defaultdict
from html import escape as xml_escape

from django.template.loader import render_to_string
from django.utils import timezone

from coding_app.models import Code, Membership
from coding_app.selectors import code_tree

from . import review
from .models import AnalysisJob

LAYERS = {"coders": "All coders' codings", "consensus": "The consensus layer only"}
QUOTE_LIMIT_MAX = 50
FIGURES = ("quotes-per-theme", "saturation")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text) -> str:
    """Text XML (DOCX, SVG) can hold: control characters other than tab and newline dropped."""
    return _CONTROL.sub("", str(text or ""))


# ------------------------------------------------------------------ building the content


def _origin(code: Code) -> dict | None:
    """What led to a theme: the word frequency query and the word tree of its word."""
    origin = code.origin or {}
    if origin.get("from") != "word-frequency" or not origin.get("word"):
        return None
    word = origin["word"]
    params = origin.get("params") or {}
    described = ", ".join(
        f"{key.replace('_', ' ')}: {value}"
        for key, value in params.items()
        if value not in (None, "", [], {}) and not isinstance(value, dict | list)
    )
    summary = f"From a word frequency query (job {origin.get('job', '?')}"
    summary += f"; {described})" if described else ")"
    summary += (
        f": “{word}” ranked {origin.get('rank', '?')} with {origin.get('count', '?')} occurrences"
    )
    if origin.get("documents"):
        summary += f" in {origin['documents']} documents"
    summary += "."
    if origin.get("grouped") and len(origin["grouped"]) > 1:
        summary += " Counted together: " + ", ".join(origin["grouped"]) + "."
    tree_job = (
        AnalysisJob.objects.filter(
            project_id=code.project_id, kind=AnalysisJob.Kind.WORDTREE, status="succeeded"
        )
        .filter(params__root__iexact=word)
        .order_by("-finished_at", "-id")
        .first()
    )
    branches = []
    if tree_job and tree_job.result:
        tree = tree_job.result.get("tree") or {}
        root = tree.get("root", word)
        for side, arrow in (("right", "{root} {phrase}"), ("left", "{phrase} {root}")):
            for child in ((tree.get(side) or {}).get("children") or [])[:5]:
                phrase = arrow.format(root=root, phrase=child.get("phrase", ""))
                branches.append(f"{phrase} ({child.get('count', 0)})")
    return {"summary": summary, "word_tree": branches, "word_tree_job": tree_job and tree_job.pk}


def _pick_quotes(codings: list, limit: int) -> list:
    """At most `limit` quotes, one per post before a second from any post; a span coded by
    several coders is quoted once."""
    unique, seen = [], set()
    for coding in codings:
        key = (coding.post_id, coding.start, coding.end)
        if key not in seen:
            seen.add(key)
            unique.append(coding)
    first, rest, posts = [], [], set()
    for coding in unique:
        (rest if coding.post_id in posts else first).append(coding)
        posts.add(coding.post_id)
    return (first + rest)[:limit]


def _quote(coding, slug: str) -> dict:
    post = coding.post
    return {
        # Inside quotation marks, the line break or space a span ends on is left out.
        "text": coding.quote.strip(),
        "author": post.author or "unknown author",
        "date": post.posted_at.date().isoformat() if post.posted_at else "undated",
        "post": post.pk,
        "external_id": post.external_id,
        "code": coding.code.name,
        "coder": coding.coder.username,
        "url": f"/p/{slug}/posts/{post.pk}/#coding-{coding.pk}",
    }


def report_build(
    *,
    membership: Membership,
    theme_ids: list[int] | None = None,
    quote_limit: int = 5,
    layer: str = "coders",
    window: int = review.SATURATION_WINDOW,
) -> dict:
    """The report's content as plain data, which the exports below only lay out."""
    project = membership.project
    layer = layer if layer in LAYERS else "coders"
    quote_limit = max(0, min(int(quote_limit), QUOTE_LIMIT_MAX))
    tree = code_tree(project=project)
    chosen = [t for t in tree if theme_ids is None or t["id"] in set(theme_ids)]
    codings = list(
        review.review_codings(membership=membership, layer=layer)
        .select_related("post", "code", "coder")
        .order_by("post__posted_at", "post_id", "start", "id")
    )
    by_code = defaultdict(list)
    for coding in codings:
        by_code[coding.code_id].append(coding)
    job = review.agreement_latest(project=project)
    agreement = review.agreement_by_code(job)
    codes = {c.pk: c for c in Code.objects.filter(pk__in=[t["id"] for t in chosen])}

    def node(data: dict) -> tuple[dict, list]:
        below = list(by_code[data["id"]])
        children = []
        for child in data["children"]:
            child_node, child_codings = node(child)
            children.append(child_node)
            below += child_codings
        return {
            "id": data["id"],
            "name": data["name"],
            "level": data["level"],
            "definition": data["definition"],
            "counts": {
                "quotes": len(below),
                "posts": len({c.post_id for c in below}),
                "coders": len({c.coder_id for c in below}),
            },
            "agreement": agreement.get(data["id"]),
            "children": children,
        }, below

    themes = []
    for data in chosen:
        theme, below = node(data)
        below.sort(key=lambda c: (c.post.posted_at is None, c.post.posted_at, c.post_id, c.start))
        theme["origin"] = _origin(codes[data["id"]])
        theme["quotes"] = [_quote(c, project.slug) for c in _pick_quotes(below, quote_limit)]
        themes.append(theme)
    saturation = review.saturation_get(membership=membership, window=window)
    return {
        "project": {"name": project.name, "slug": project.slug, "description": project.description},
        "generated_at": timezone.now(),
        "layer": layer,
        "layer_label": LAYERS[layer],
        "quote_limit": quote_limit,
        "samples": [
            {"name": s.name, "description": s.description, "size": len(s.post_ids)}
            for s in project.samples.all()
        ],
        "agreement": review.agreement_summary(job),
        "themes": themes,
        "saturation": saturation,
        "figures": [
            {
                "key": "quotes-per-theme",
                "title": "Quotes per theme",
                "caption": f"Figure 1. Quotes per theme ({LAYERS[layer].lower()}).",
            },
            {
                "key": "saturation",
                "title": "Saturation",
                "caption": "Figure 2. Distinct codes against posts coded, in coding order. "
                + saturation["overall"]["verdict"]["text"],
            },
        ],
    }


# ------------------------------------------------------------------ figures (SVG by hand)

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"]
FONT = "DejaVu Sans, Arial, sans-serif"


def _text(x, y, text, *, size=12, anchor="start", fill="#1d2330", weight="normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}" font-weight="{weight}">{xml_escape(clean(text))}</text>'
    )


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}" role="img">'
        f"<title>{xml_escape(clean(title))}</title>"
        f'<rect width="100%" height="100%" fill="#fff"/>' + "".join(body) + "</svg>"
    )


def _short(text: str, n: int = 32) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def svg_bar_chart(items: list[tuple[str, int, str]], *, title: str, unit: str) -> str:
    """Horizontal bars: (label, value, colour)."""
    bar, gap, left, right, top = 24, 8, 220, 100, 44
    width = 760
    height = top + max(1, len(items)) * (bar + gap) + 20
    peak = max([v for _, v, _ in items] + [1])
    span = width - left - right
    body = [_text(16, 24, title, size=15, weight="bold")]
    if not items:
        body.append(_text(16, top + 16, "No theme chosen.", fill="#5f6b7a"))
    for i, (label, value, colour) in enumerate(items):
        y = top + i * (bar + gap)
        w = span * value / peak
        body.append(_text(left - 8, y + bar / 2 + 4, _short(label), anchor="end"))
        body.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}" rx="3"/>'
        )
        body.append(_text(left + w + 6, y + bar / 2 + 4, f"{value} {unit}", fill="#5f6b7a"))
    return _svg(width, height, title, body)


def svg_line_chart(series: list[dict], *, title: str, xlabel: str, ylabel: str) -> str:
    """Step-free lines of (x, y) points, the first series drawn bold, with a legend."""
    width, height = 760, 420
    left, right, top, bottom = 60, 170, 44, 50
    xs = [x for s in series for x, _ in s["points"]] or [1]
    ys = [y for s in series for _, y in s["points"]] or [1]
    xmax, ymax = max(max(xs), 1), max(max(ys), 1)
    pw, ph = width - left - right, height - top - bottom

    def sx(x):
        return left + (x - (1 if xmax > 1 else 0)) / max(xmax - 1, 1) * pw

    def sy(y):
        return top + ph - y / ymax * ph

    body = [_text(16, 24, title, size=15, weight="bold")]
    body.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#98a2b3"/>'
    )
    body.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#98a2b3"/>')
    for tick in sorted({0, ymax // 2, ymax}):
        body.append(_text(left - 6, sy(tick) + 4, str(tick), size=11, anchor="end", fill="#5f6b7a"))
    for tick in sorted({1, (xmax + 1) // 2, xmax}):
        body.append(
            _text(sx(tick), top + ph + 16, str(tick), size=11, anchor="middle", fill="#5f6b7a")
        )
    body.append(_text(left + pw / 2, height - 12, xlabel, size=12, anchor="middle", fill="#5f6b7a"))
    body.append(
        f'<text transform="translate(16,{top + ph / 2:.1f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="#5f6b7a">{xml_escape(clean(ylabel))}</text>'
    )
    if not any(s["points"] for s in series):
        body.append(_text(left + 12, top + 20, "No post has been coded yet.", fill="#5f6b7a"))
    for i, s in enumerate(series):
        colour = s.get("colour") or PALETTE[i % len(PALETTE)]
        points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s["points"])
        stroke = 3 if i == 0 else 1.6
        if s["points"]:
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{stroke}"/>'
            )
        ly = top + 8 + i * 20
        body.append(
            f'<line x1="{left + pw + 16}" y1="{ly}" x2="{left + pw + 36}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="{stroke}"/>'
        )
        body.append(_text(left + pw + 42, ly + 4, _short(s["label"], 18), size=11))
    return _svg(width, height, title, body)


def figure_svg(report: dict, key: str) -> str:
    if key == "quotes-per-theme":
        colours = dict(
            Code.objects.filter(pk__in=[t["id"] for t in report["themes"]]).values_list(
                "pk", "colour"
            )
        )
        items = [
            (t["name"], t["counts"]["quotes"], colours.get(t["id"], PALETTE[0]))
            for t in report["themes"]
        ]
        return svg_bar_chart(items, title="Quotes per theme", unit="quotes")
    if key == "saturation":
        saturation = report["saturation"]
        series = [saturation["overall"], *saturation["coders"]]
        return svg_line_chart(
            [
                {"label": s["label"], "points": [(p["index"], p["distinct"]) for p in s["points"]]}
                for s in series
            ],
            title="Saturation: distinct codes by posts coded",
            xlabel="Posts coded (in coding order)",
            ylabel="Distinct codes",
        )
    raise KeyError(key)


def figure_png(svg: str) -> bytes | None:
    """The figure as PNG, or None where the cairo library is missing."""
    try:
        import cairosvg
    except (ImportError, OSError):
        return None
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=2)


# ------------------------------------------------------------------ exports


def _agreement_text(agreement: dict | None) -> str:
    # Without alpha or kappa (a code nobody applied) the percent says nothing about chance.
    if not agreement or (agreement.get("alpha") is None and agreement.get("kappa") is None):
        return ""
    parts = []
    if agreement.get("alpha") is not None:
        parts.append(f"α = {agreement['alpha']:.2f}")
    if agreement.get("percent") is not None:
        parts.append(f"{agreement['percent'] * 100:.1f}% agreement")
    if agreement.get("kappa") is not None:
        parts.append(f"κ = {agreement['kappa']:.2f}")
    return ", ".join(parts)


def _counts_text(counts: dict) -> str:
    q, p, c = counts["quotes"], counts["posts"], counts["coders"]
    return (
        f"{q} quote{'s' if q != 1 else ''} in {p} post{'s' if p != 1 else ''} "
        f"by {c} coder{'s' if c != 1 else ''}"
    )


def _attribution(quote: dict) -> str:
    ident = f"post {quote['post']}" + (f", {quote['external_id']}" if quote["external_id"] else "")
    return (
        f"{quote['author']}, {quote['date']} ({ident}; {quote['code']}, coded by {quote['coder']})"
    )


def report_prepare(report: dict, figures: dict[str, dict]) -> dict:
    """Texts the three exports share, so they say the same thing."""

    def walk(node):
        node["counts_text"] = _counts_text(node["counts"])
        node["agreement_text"] = _agreement_text(node["agreement"])
        for child in node["children"]:
            walk(child)

    def flatten(nodes, depth, out):
        for n in nodes:
            out.append({k: v for k, v in n.items() if k != "children"} | {"depth": depth})
            flatten(n["children"], depth + 1, out)
        return out

    for theme in report["themes"]:
        walk(theme)
        theme["subtree"] = flatten(theme["children"], 0, [])
        for quote in theme["quotes"]:
            quote["attribution"] = _attribution(quote)
    for figure in report["figures"]:
        figure.update(figures.get(figure["key"], {}))
    return report


def figures_embedded(report: dict) -> dict[str, dict]:
    """Each figure as SVG text and PNG bytes (None without cairo) with a data URI."""
    out = {}
    for key in FIGURES:
        svg = figure_svg(report, key)
        png = figure_png(svg)
        if png:
            src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        else:
            src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        out[key] = {"svg": svg, "png": png, "src": src}
    return out


def report_html(report: dict, figures: dict[str, dict] | None = None) -> str:
    """A standalone HTML file: every text escaped by the template, figures as data URIs."""
    report = report_prepare(report, figures or figures_embedded(report))
    return render_to_string("analysis/report_document.html", {"report": report})


_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>|~&!])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def md_escape(text) -> str:
    """User text made literal in Markdown: specials escaped, block markers at a line's start
    neutralised, indentation (a code block) dropped."""
    lines = []
    for line in clean(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _MD_INLINE.sub(r"\\\1", line.strip())
        line = _MD_LINE_START.sub(
            lambda m: m.group(1) + re.sub(r"([#>+=.)-])", r"\\\1", m.group(2)), line
        )
        lines.append(line)
    return "\n".join(lines)


def report_markdown(report: dict, figures: dict[str, dict] | None = None) -> str:
    report = report_prepare(report, figures or figures_embedded(report))
    e = md_escape
    out = [f"# Findings: {e(report['project']['name'])}", ""]
    out += [
        f"_Generated {report['generated_at']:%Y-%m-%d %H:%M} UTC from {e(report['layer_label'].lower())}._",
        "",
    ]
    out += ["## Methods", ""]
    for sample in report["samples"]:
        out += [f"**Sample “{e(sample['name'])}”.** {e(sample['description'])}", ""]
    if not report["samples"]:
        out += ["No sample was recorded; the posts are the whole corpus.", ""]
    if report["agreement"]:
        out += [e(report["agreement"]["methods"]), ""]
    out += [e(report["saturation"]["overall"]["verdict"]["text"]), ""]
    for figure in report["figures"]:
        out += [f"![{e(figure['title'])}]({figure['src']})", "", f"_{e(figure['caption'])}_", ""]
    out += ["## Themes", ""]
    if not report["themes"]:
        out += ["No theme was chosen.", ""]

    def subthemes(nodes, depth):
        for n in nodes:
            line = f"{'  ' * depth}- **{e(n['name'])}**"
            if n["definition"]:
                line += f": {e(n['definition'])}"
            line += f" ({e(n['counts_text'])}"
            line += f"; {e(n['agreement_text'])})" if n["agreement_text"] else ")"
            out.append(line)
            subthemes(n["children"], depth + 1)

    for theme in report["themes"]:
        out += [f"### {e(theme['name'])}", ""]
        if theme["definition"]:
            out += [f"**Definition.** {e(theme['definition'])}", ""]
        if theme["origin"]:
            out += [f"**Origin.** {e(theme['origin']['summary'])}", ""]
            if theme["origin"]["word_tree"]:
                out += [
                    "**Word tree.** " + "; ".join(e(b) for b in theme["origin"]["word_tree"]),
                    "",
                ]
        summary = f"**Counts.** {e(theme['counts_text'])}."
        if theme["agreement_text"]:
            summary += f" **Agreement.** {e(theme['agreement_text'])}."
        out += [summary, ""]
        if theme["children"]:
            out += ["**Sub-themes and codes.**", ""]
            subthemes(theme["children"], 0)
            out.append("")
        for quote in theme["quotes"]:
            out += [
                "> " + e(quote["text"]).replace("\n", "\n> "),
                ">",
                f"> — {e(quote['attribution'])}",
                "",
            ]
        if not theme["quotes"]:
            out += ["_No quote in this layer._", ""]
    return "\n".join(out).rstrip() + "\n"


def report_docx(report: dict, figures: dict[str, dict] | None = None) -> bytes:
    from docx import Document
    from docx.shared import Inches, Pt

    report = report_prepare(report, figures or figures_embedded(report))
    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(clean(f"Findings: {report['project']['name']}"), level=0)
    doc.add_paragraph().add_run(
        clean(
            f"Generated {report['generated_at']:%Y-%m-%d %H:%M} UTC from {report['layer_label'].lower()}."
        )
    ).italic = True
    doc.add_heading("Methods", level=1)
    for sample in report["samples"]:
        p = doc.add_paragraph()
        p.add_run(clean(f"Sample “{sample['name']}”. ")).bold = True
        p.add_run(clean(sample["description"]))
    if not report["samples"]:
        doc.add_paragraph("No sample was recorded; the posts are the whole corpus.")
    if report["agreement"]:
        doc.add_paragraph(clean(report["agreement"]["methods"]))
    doc.add_paragraph(clean(report["saturation"]["overall"]["verdict"]["text"]))
    for figure in report["figures"]:
        if figure.get("png"):
            doc.add_picture(io.BytesIO(figure["png"]), width=Inches(6))
        doc.add_paragraph(clean(figure["caption"]), style="Caption")
    doc.add_heading("Themes", level=1)
    if not report["themes"]:
        doc.add_paragraph("No theme was chosen.")

    def subthemes(nodes, depth):
        for n in nodes:
            p = doc.add_paragraph(style="List Bullet 2" if depth else "List Bullet")
            p.add_run(clean(n["name"])).bold = True
            text = f": {n['definition']}" if n["definition"] else ""
            text += f" ({n['counts_text']}"
            text += f"; {n['agreement_text']})" if n["agreement_text"] else ")"
            p.add_run(clean(text))
            subthemes(n["children"], min(depth + 1, 1))

    for theme in report["themes"]:
        doc.add_heading(clean(theme["name"]), level=2)
        for label, value in (
            ("Definition. ", theme["definition"]),
            ("Origin. ", theme["origin"] and theme["origin"]["summary"]),
            ("Word tree. ", theme["origin"] and "; ".join(theme["origin"]["word_tree"])),
            ("Counts. ", theme["counts_text"] + "."),
            ("Agreement. ", theme["agreement_text"] and theme["agreement_text"] + "."),
        ):
            if value:
                p = doc.add_paragraph()
                p.add_run(label).bold = True
                p.add_run(clean(value))
        if theme["children"]:
            doc.add_paragraph().add_run("Sub-themes and codes").bold = True
            subthemes(theme["children"], 0)
        for quote in theme["quotes"]:
            doc.add_paragraph(clean(f"“{quote['text']}”"), style="Quote")
            doc.add_paragraph(clean(f"— {quote['attribution']}"))
        if not theme["quotes"]:
            doc.add_paragraph().add_run("No quote in this layer.").italic = True
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()

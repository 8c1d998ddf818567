"""The text analysis page: word frequency, word cloud, keyword in context and word trees."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from coding_app.access import has_role, project_access_by_slug
from coding_app.models import Membership, Role
from coding_app.selectors import code_tree, code_tree_flatten, coding_members
from coding_app.services.codebook_csv import csv_safe
from coding_app.views import project_context
from corpus.selectors import import_batch_list, post_list


@login_required
def analysis_page(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    codes = [
        {"id": node["id"], "name": " › ".join(node["path"]), "colour": node["colour"]}
        for node in code_tree_flatten(code_tree(project=project))
    ]

    page_data = {
        "project": project.slug,
        "codes": codes,
        "can_shape_codebook": has_role(membership, Role.SUPERVISOR),
        "urls": {
            "analyses": reverse("analysis-list"),
            "stopwords": reverse("stopwords"),
            "codings": reverse("coding-list"),
            "post": reverse("post-page", args=[project.slug, 0]).replace("/0/", "/{id}/"),
        },
        "initial": {k: v for k, v in request.GET.items() if k in ("scope", "scope_id", "root")},
    }
    context = project_context(membership) | {
        "page_data": page_data,
        "batches": import_batch_list(project=project).filter(status="succeeded"),
        "samples": project.samples.all(),
        "code_options": page_data["codes"],
        "coders": coding_members(membership=membership),
        "has_posts": post_list(project=project).exists(),
    }
    return render(request, "analysis/analysis.html", context)


@login_required
def comparison_page(request, slug):
    """Agreement between coders, per code with its sub-theme and theme rows (supervisors)."""
    import csv

    from django.core.exceptions import ValidationError
    from django.http import HttpResponse

    from . import services
    from .comparison import UNITS, methods_sentence

    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    project = membership.project
    coders = coding_members(membership=membership)
    chosen = [int(c) for c in request.GET.getlist("coders") if c.isdigit()] or [
        m.user_id for m in coders[:2]
    ]
    unit = request.GET.get("unit") if request.GET.get("unit") in UNITS else "character"
    group_a = [int(c) for c in request.GET.getlist("group_a") if c.isdigit()]
    group_b = [int(c) for c in request.GET.getlist("group_b") if c.isdigit()]
    groups = [group_a, group_b] if request.GET.get("mode") == "groups" else None
    if groups:
        chosen = group_a + group_b
    scope = request.GET.get("scope", "")
    post_ids = _scope_post_ids(project, scope, groups or [[c] for c in chosen])
    result, error, job = None, "", None
    # Fewer than two coders: nothing to compare yet, and the page says how to get there.
    too_few_coders = len(coders) < 2
    if not too_few_coders:
        try:
            # Comparisons run as background jobs, reused while the codings are unchanged.
            job, _ = services.agreement_request(
                membership=membership,
                coder_ids=chosen,
                unit=unit,
                scope=scope,
                post_ids=post_ids,
                user=request.user,
                groups=groups,
            )
            job.refresh_from_db()
            if job.status == "succeeded":
                result = job.result
            elif job.status in ("failed", "cancelled"):
                error = job.message or "The comparison failed."
        except ValidationError as exc:
            error = "; ".join(m for ms in exc.message_dict.values() for m in ms)
    names = {
        m.user_id: m.user.username
        for m in Membership.objects.filter(project=project).select_related("user")
    } | {m.user_id: m.user.username for m in coders}
    if result:
        if groups:
            labels = [", ".join(names.get(c, "?") for c in g) for g in groups]
        else:
            labels = [names.get(c, "?") for c in chosen]
        result["methods"] = methods_sentence(result, coder_names=labels, groups=bool(groups))
        result["labels"] = labels
        for row in result["codes"]:
            p, k = row.get("percent"), row.get("kappa")
            # The kappa paradox: with a rare code, high agreement can come with a low kappa.
            row["paradox"] = p is not None and k is not None and p >= 0.9 and k < 0.4
    per_post, per_post_many = [], []
    if result and len(chosen) == 2 and not groups:
        from .comparison import disagreement_counts

        per_post = disagreement_counts(project=project, coder_a=chosen[0], coder_b=chosen[1])
    elif result and len(chosen) > 2 and not groups:
        from .comparison import disagreement_counts_many

        per_post_many = disagreement_counts_many(project=project, coder_ids=chosen)
    if result and request.GET.get("format") == "xlsx":
        return _xlsx_response(project, unit, result)
    if result and request.GET.get("format") == "posts-csv" and per_post:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="agreement-{project.slug}-posts.csv"'
        )
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(["post", "agreed", "overlapping", "only_a", "only_b"])
        for r in per_post:
            writer.writerow([r["post"], r["agreed"], r["overlaps"], r["only_a"], r["only_b"]])
        return response
    if result and request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="agreement-{project.slug}-{unit}.csv"'
        )
        response.write("\ufeff")
        writer = csv.writer(response)
        header, rows = _code_table(result)
        writer.writerow(header)
        writer.writerows(rows)
        return response
    drill = None
    if len(chosen) == 2 and not groups:
        drill = (
            reverse("disagreement-page", args=[project.slug, 0]).replace("/0/", "/{post}/")
            + f"?a={chosen[0]}&b={chosen[1]}"
        )
    elif len(chosen) > 2 and not groups:
        drill = (
            reverse("disagreement-page", args=[project.slug, 0]).replace("/0/", "/{post}/")
            + "?"
            + "&".join(f"coders={c}" for c in chosen)
        )
    context = project_context(membership) | {
        "job": job,
        "heatmap_data": {"grid": (result or {}).get("heatmap"), "drill": drill},
        "scope_kind": scope.partition(":")[0],
        "scope_id": scope.partition(":")[2],
        "samples": project.samples.all(),
        "batches": import_batch_list(project=project).filter(status="succeeded"),
        "per_post": per_post,
        "per_post_many": per_post_many,
        "chosen_query": "&".join(f"coders={c}" for c in chosen),
        "coders": coders,
        "chosen": chosen,
        "unit": unit,
        "units": UNITS,
        "result": result,
        "error": error,
        "too_few_coders": too_few_coders,
        "names": names,
        "two": len(groups or chosen) == 2,
        "mode": "groups" if groups else "coders",
        "group_a": group_a,
        "group_b": group_b,
        "csv_query": request.GET.urlencode(),
    }
    return render(request, "analysis/comparison.html", context)


@login_required
def disagreement_page(request, slug, pk):
    """One post with two coders' codings side by side; a supervisor builds the consensus."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError
    from django.shortcuts import get_object_or_404, redirect

    from coding_app import services as coding_services
    from coding_app.models import Code, Coding
    from corpus.models import Post

    from .comparison import highlighted_segments, post_codings_compared, post_disagreements

    membership = project_access_by_slug(request.user, slug, min_role=Role.SUPERVISOR)
    project = membership.project
    post = get_object_or_404(Post, project=project, pk=pk)
    try:
        coder_a, coder_b = int(request.GET.get("a", 0)), int(request.GET.get("b", 0))
    except ValueError:
        coder_a = coder_b = 0
    many = list(dict.fromkeys(int(c) for c in request.GET.getlist("coders") if c.isdigit()))
    if len(many) == 2:
        (coder_a, coder_b), many = many, []
    consensus = coding_services.consensus_coder(project=project)
    if request.method == "POST":
        try:
            if request.POST.get("undo"):
                coding = get_object_or_404(Coding, pk=int(request.POST["undo"]), post=post)
                coding_services.adjudication_undo(consensus_coding=coding, user=request.user)
            else:
                code = get_object_or_404(Code, project=project, pk=int(request.POST["code"]))
                start, end = int(request.POST["start"]), int(request.POST["end"])
                decision = request.POST.get("decision", "accept")
                if decision == "accept" and (start, end) != (
                    int(request.POST.get("original_start", start)),
                    int(request.POST.get("original_end", end)),
                ):
                    decision = "edit"
                coding_services.adjudication_decide(
                    post=post,
                    code=code,
                    start=start,
                    end=end,
                    decision=decision,
                    user=request.user,
                    source_codings=[int(i) for i in request.POST.getlist("codings") if i.isdigit()],
                )
        except (ValidationError, ValueError, KeyError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        if many:
            return redirect(f"{request.path}?" + "&".join(f"coders={c}" for c in many))
        return redirect(f"{request.path}?a={coder_a}&b={coder_b}")
    names = dict(
        Membership.objects.filter(project=project).values_list("user_id", "user__username")
    )

    def layer(coder_id):
        codings = Coding.objects.filter(post=post, coder_id=coder_id).select_related("code")
        return highlighted_segments(post.text, [(c.start, c.end, c.code.colour) for c in codings])

    if many:
        items = post_codings_compared(post=post, coder_ids=many, consensus_coder_id=consensus.pk)
        for item in items:
            item["coder_names"] = ", ".join(names.get(c, "?") for c in item["coders"])
        columns = [(names.get(c, "?"), layer(c)) for c in many]
    else:
        items = post_disagreements(
            post=post, coder_a=coder_a, coder_b=coder_b, consensus_coder_id=consensus.pk
        )
        columns = [
            (f"A: {names.get(coder_a, '?')}", layer(coder_a)),
            (f"B: {names.get(coder_b, '?')}", layer(coder_b)),
        ]
    layers = {"consensus": layer(consensus.pk)}
    context = project_context(membership) | {
        "post": post,
        "items": items,
        "layers": layers,
        "a": coder_a,
        "b": coder_b,
        "many": many,
        "columns": columns,
        "back_query": "&".join(f"coders={c}" for c in many)
        if many
        else f"coders={coder_a}&coders={coder_b}",
        "name_a": names.get(coder_a, "?"),
        "name_b": names.get(coder_b, "?"),
        "consensus_codings": Coding.objects.filter(post=post, coder=consensus).select_related(
            "code"
        ),
        "history": post.adjudications.select_related("code", "decided_by")[:50],
    }
    return render(request, "analysis/disagreement.html", context)


def _scope_post_ids(project, scope: str, teams: list[list[int]]):
    """Posts of a sample, an import batch, or assigned to every coder (or group) compared;
    None: every post the coders coded."""
    from coding_app.models import Assignment
    from corpus.models import Post, Sample

    if scope == "assigned":
        common = None
        for team in teams:
            assigned = set(
                Assignment.objects.filter(post__project=project, coder_id__in=team).values_list(
                    "post_id", flat=True
                )
            )
            common = assigned if common is None else common & assigned
        return sorted(common or [])
    kind, _, ident = scope.partition(":")
    if not ident.isdigit():
        return None
    if kind == "sample":
        sample = Sample.objects.filter(project=project, pk=int(ident)).first()
        return list(sample.post_ids) if sample else []
    if kind == "batch":
        return list(
            Post.objects.filter(project=project, batch_id=int(ident)).values_list("pk", flat=True)
        )
    return None


def _xlsx_response(project, unit: str, result: dict):
    """The code table (and, for two coders, the counts) as an Excel workbook."""
    import io

    from django.http import HttpResponse
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Agreement by code"
    header, rows = _code_table(result)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    summary = book.create_sheet("Summary")
    summary.append(["Unit", result["unit_description"]])
    summary.append(["Posts", result["posts"]])
    summary.append(["Methods", result.get("methods", "")])
    for key in ("percent", "kappa", "alpha", "alpha_low", "alpha_high"):
        summary.append([key, result["overall"].get(key)])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="agreement-{project.slug}-{unit}.xlsx"'
    return response


def _code_table(result: dict) -> tuple[list[str], list[list]]:
    """The per-code table as exported (CSV and XLSX share it)."""
    keys = [
        "both",
        "only_a",
        "only_b",
        "neither",
        "percent",
        "kappa",
        "alpha",
        "alpha_low",
        "alpha_high",
    ]
    header = ["path", "level", *keys]
    rows = [
        [csv_safe(" > ".join(r["path"])), r["level"], *(r.get(k) for k in keys)]
        for r in result["codes"]
    ]
    return header, rows

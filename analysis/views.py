"""The text analysis page: word frequency, word cloud, keyword in context and word trees."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from coding_app.access import has_role, project_access_by_slug
from coding_app.models import Membership, Role
from coding_app.selectors import code_tree
from coding_app.views import project_context
from corpus.selectors import import_batch_list


@login_required
def analysis_page(request, slug):
    membership = project_access_by_slug(request.user, slug)
    project = membership.project
    tree = code_tree(project=project)

    def flatten(nodes, out):
        for node in nodes:
            out.append({"id": node["id"], "name": " › ".join(node["path"]), "colour": node["colour"]})
            flatten(node["children"], out)
        return out

    page_data = {
        "project": project.slug,
        "codes": flatten(tree, []),
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
        "coders": Membership.objects.filter(project=project, role=Role.CODER).select_related("user"),
    }
    return render(request, "analysis/analysis.html", context)

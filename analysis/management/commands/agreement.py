"""`manage.py agreement --project SLUG`: agreement between coders, per code and overall."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis.comparison import UNITS, comparison_compute, methods_sentence
from coding_app.models import Membership, Project, Role


class Command(BaseCommand):
    help = "Percent agreement, kappa and Krippendorff's alpha between coders for every code."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument(
            "--coders", default="", help="usernames, comma-separated (default: all coders)"
        )
        parser.add_argument("--unit", default="character", choices=UNITS)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        project = Project.objects.filter(slug=o["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug “{o['project']}”.")
        members = Membership.objects.filter(project=project).select_related("user")
        if o["coders"]:
            names = [n.strip() for n in o["coders"].split(",") if n.strip()]
            users = {
                u.username: u
                for u in get_user_model().objects.filter(
                    username__in=names, memberships__project=project
                )
            }
            missing = [n for n in names if n not in users]
            if missing:
                raise CommandError(f"Not members of the project: {', '.join(missing)}")
            coders = [users[n] for n in names]
        else:
            coders = [m.user for m in members if m.role == Role.CODER]
        try:
            result = comparison_compute(
                project=project, coder_ids=[c.pk for c in coders], unit=o["unit"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result["coders"] = [c.username for c in coders]
        result["methods"] = methods_sentence(result, coder_names=result["coders"])
        for row in result["codes"]:
            row.pop("histogram", None)
        if o["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(result["methods"])
        for row in result["codes"]:
            figures = "  ".join(f"{k}={row.get(k)}" for k in ("percent", "kappa", "alpha"))
            self.stdout.write(f"{'  ' * row['depth']}{row['name']}: {figures}")

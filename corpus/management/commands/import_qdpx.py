"""`manage.py import_qdpx FILE --project SLUG`: import a REFI-QDA project (.qdpx) from NVivo,
ATLAS.ti, MAXQDA or Grounded into a project (``--create`` makes the project first)."""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from coding_app.models import Project
from coding_app.services import project_create
from corpus.importers import ImportFileError
from corpus.services import exchange


class Command(BaseCommand):
    help = (
        "Import a REFI-QDA project (.qdpx): sources become posts, codes keep their tree and "
        "colours, codings their coder and span. Nothing is imported if the file is refused."
    )
    what = "project"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the project when no project has this slug (needs --user, its admin)",
        )
        parser.add_argument("--name", default="", help="the new project's name (with --create)")
        parser.add_argument("--user", default=None, help="username recorded as the importer")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def run_import(self, *, project, path: Path, user) -> dict:
        with open(path, "rb") as handle:
            return exchange.project_import_qdpx(
                project=project, fileobj=handle, file_name=path.name, user=user
            )

    def handle(self, *args, **options):
        path = Path(options["path"])
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user “{options['user']}”.")
        project = Project.objects.filter(slug=options["project"]).first()
        create = project is None and options.get("create")
        if project is None and not create:
            raise CommandError(
                f"No project with the slug “{options['project']}” (--create makes it)."
            )
        if create and user is None:
            raise CommandError("--create needs --user: the new project's admin.")
        if not path.is_file():
            self._fail(options, f"No such file: {path}")
        try:
            with transaction.atomic():  # a refused file leaves no new project behind either
                if create:
                    project = project_create(
                        slug=options["project"],
                        name=options["name"] or options["project"],
                        admin=user,
                    )
                summary = self.run_import(project=project, path=path, user=user)
        except (ImportFileError, ValidationError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self._fail(options, message)
        if create:
            summary["project_created"] = True
        self._report(options, summary)

    def _fail(self, options, message: str):
        if options["json"]:
            self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
        else:
            self.stderr.write(self.style.ERROR(message))
        sys.exit(1)

    def _report(self, options, summary: dict) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        lines = [f"Imported {summary['file']} ({summary['format']}):"]
        if "sources" in summary:
            lines.append(
                f"  sources: {summary['sources']} ({summary['posts_created']} new posts, "
                f"{summary['posts_existing']} already in the project, "
                f"{summary['sources_skipped']} skipped)"
            )
        lines.append(
            f"  codes: {summary['codes']} ({summary['codes_created']} new, "
            f"{summary['codes_existing']} existing)"
        )
        if "codings" in summary:
            lines.append(
                f"  codings: {summary['codings']} ({summary['codings_created']} new, "
                f"{summary['codings_existing']} existing, {summary['codings_skipped']} skipped)"
            )
            users = ", ".join(
                f"{u['username']}{' (new)' if u['created'] else ''}" for u in summary["users"]
            )
            lines.append(f"  coders: {users or '—'}")
            lines.append(f"  offsets: {summary['offsets']['interpretation'] or '—'}")
        self.stdout.write(self.style.SUCCESS(lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
        for warning in summary["warnings"]:
            self.stdout.write(self.style.WARNING(f"  warning: {warning}"))

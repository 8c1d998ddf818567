"""`manage.py export_qdc --project SLUG --out FILE`: the codebook as a REFI-QDA .qdc file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding_app.models import Project
from corpus.importers import ImportFileError
from corpus.services import exchange


class Command(BaseCommand):
    help = "Export a project's codebook as REFI-QDA .qdc."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--out", required=True, help="the .qdc file to write")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug “{options['project']}”.")
        try:
            data = exchange.codebook_export_qdc(project=project)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        out = Path(options["out"])
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Wrote {out} ({len(data)} bytes)."))

"""`manage.py export_qdpx --project SLUG --out FILE`: the project as a REFI-QDA .qdpx archive."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding_app.models import Project
from corpus.services import exchange


class Command(BaseCommand):
    help = "Export a project (posts, codebook, codings, memos) as REFI-QDA .qdpx."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--out", required=True, help="the .qdpx file to write")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug “{options['project']}”.")
        out = Path(options["out"])
        partial = out.with_name(out.name + ".part")
        try:
            with open(partial, "wb") as handle:
                counts = exchange.project_export_qdpx(project=project, out=handle)
            partial.replace(out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps({"file": str(out), **counts}, ensure_ascii=False))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {out}: {counts['sources']} sources, {counts['codes']} codes, "
                f"{counts['codings']} codings, {counts['users']} users, {counts['notes']} notes."
            )
        )

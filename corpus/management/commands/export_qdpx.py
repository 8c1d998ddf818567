"""`manage.py export_qdpx --project SLUG --out FILE`: the project as a REFI-QDA .qdpx archive."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding_app.models import Project
from corpus.services import exchange


class Command(BaseCommand):
    """Writes a project to a file (``export`` and ``summary`` say what and how it is told);
    the file appears only once complete (``backup_project`` writes its backup this way)."""

    help = "Export a project (posts, codebook, codings, memos) as REFI-QDA .qdpx."
    suffix = ".qdpx"

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--out", required=True, help=f"the {self.suffix} file to write")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def export(self, *, project, out) -> dict:
        return exchange.project_export_qdpx(project=project, out=out)

    def summary(self, counts: dict) -> str:
        return (
            f"{counts['sources']} sources, {counts['codes']} codes, {counts['codings']} "
            f"codings, {counts['users']} users, {counts['notes']} notes."
        )

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug “{options['project']}”.")
        out = Path(options["out"])
        partial = out.with_name(out.name + ".part")
        try:
            with open(partial, "wb") as handle:
                counts = self.export(project=project, out=handle)
            partial.replace(out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps({"file": str(out), **counts}, ensure_ascii=False))
            return
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}: {self.summary(counts)}"))

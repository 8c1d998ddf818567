"""`manage.py import_posts PATH --project SLUG`: import a file of posts as one batch."""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coding_app.models import Project
from corpus import services
from corpus.importers import ImportFileError
from corpus.models import JobStatus


class Command(BaseCommand):
    help = (
        "Import posts from a CSV, JSON or JSONL file into a project (runs here, not in a worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--format", default="auto", choices=services.FORMATS)
        parser.add_argument("--encoding", default="", help="e.g. cp1252 (default: detect)")
        parser.add_argument(
            "--strict", action="store_true", help="import nothing if any row is rejected"
        )
        parser.add_argument("--batch-name", default="", help="a label for the batch")
        parser.add_argument(
            "--no-near-duplicates",
            action="store_true",
            help="skip the near-duplicate scan (it can be long for very large projects)",
        )
        parser.add_argument(
            "--map", default="", help="text=COL,author=COL,posted_at=COL,url=COL,external_id=COL"
        )
        parser.add_argument("--user", default=None, help="username recorded as the importer")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        path = Path(options["path"])
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug “{options['project']}”.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user “{options['user']}”.")
        if path.is_dir():
            # A folder of .txt files (one post a file) is read as the zip of that folder.
            path = self._zip_folder(path)
            options["format"] = "txt"
        if not path.is_file():
            self._finish(options, None, f"No such file: {path}")
            sys.exit(1)
        try:
            mapping = services.mapping_parse(options["map"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc

        try:
            batch = services.import_batch_create(
                project=project,
                user=user,
                file_name=path.name,
                fmt=options["format"],
                mapping=mapping,
                name=options["batch_name"],
                encoding=options["encoding"],
                strict=options["strict"],
                enqueue=False,
            )
        except ImportFileError as exc:
            self._finish(options, None, str(exc))
            sys.exit(1)
        batch = services.import_batch_run(
            batch_id=batch.pk, path=path, scan_near_duplicates=not options["no_near_duplicates"]
        )
        failed = batch.status != JobStatus.SUCCEEDED
        self._finish(options, batch, batch.message)
        if failed or (batch.imported_count == 0 and batch.duplicate_count == 0):
            sys.exit(1)

    def _zip_folder(self, folder: Path) -> Path:
        import tempfile
        import zipfile

        handle = tempfile.NamedTemporaryFile(suffix=".zip", prefix=f"{folder.name}-", delete=False)
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
            for file in sorted(folder.rglob("*.txt")):
                archive.write(file, file.relative_to(folder).as_posix())
        return Path(handle.name)

    def _finish(self, options, batch, message):
        if options["json"]:
            payload = {
                "batch": batch.pk if batch else None,
                "status": batch.status if batch else JobStatus.FAILED.value,
                "imported": batch.imported_count if batch else 0,
                "duplicates": batch.duplicate_count if batch else 0,
                "rejected": batch.rejected_count if batch else 0,
                "near_duplicates": batch.near_duplicate_count if batch else 0,
                "errors": (batch.row_errors if batch else []),
                "warnings": (batch.row_warnings if batch else []),
                "message": message,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        if batch is None or batch.status != JobStatus.SUCCEEDED:
            self.stderr.write(self.style.ERROR(message))
            return
        self.stdout.write(self.style.SUCCESS(f"Batch {batch.pk}: {message}"))
        for error in batch.row_errors[:20]:
            self.stdout.write(f"  row {error['row']}: {error['message']}")
        if batch.rejected_count > 20:
            self.stdout.write(f"  … and {batch.rejected_count - 20} more rejected rows")

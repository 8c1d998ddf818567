"""`manage.py restore_project FILE [--slug NEWSLUG]`: restore a `backup_project` file as a new
project, in one transaction (a refused file leaves nothing behind)."""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coding_app.services.backup import BackupError, project_restore

# On the server the operator's own file is trusted further than a web upload.
MAX_UNCOMPRESSED_BYTES = 64 * 1024**3


class Command(BaseCommand):
    help = (
        "Restore a project backup as a new project. Members are matched by username; a "
        "missing one gets an inactive account without a usable password."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--slug", default=None, help="the new project's slug (default: the backup's)"
        )
        parser.add_argument(
            "--admin", default=None, help="a username made admin of the restored project"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        path = Path(options["path"])
        admin = None
        if options["admin"]:
            admin = get_user_model().objects.filter(username=options["admin"]).first()
            if admin is None:
                raise CommandError(f"No user “{options['admin']}”.")
        try:
            if not path.is_file():
                raise BackupError(f"No such file: {path}")
            with open(path, "rb") as handle:
                summary = project_restore(
                    fileobj=handle,
                    slug=options["slug"],
                    admin=admin,
                    max_total_bytes=MAX_UNCOMPRESSED_BYTES,
                )
        except BackupError as exc:
            if options["json"]:
                self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            else:
                self.stderr.write(self.style.ERROR(f"Nothing was restored: {exc}"))
            sys.exit(1)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        counts = summary["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored “{summary['name']}” as {summary['project']}: {counts['posts']} posts, "
                f"{counts['codes']} codes, {counts['codings']} codings, {counts['memos']} memos, "
                f"{counts['memberships']} members."
            )
        )
        if summary["users_created"]:
            self.stdout.write(
                "New inactive accounts (set a password to let them in): "
                + ", ".join(summary["users_created"])
            )

"""`manage.py backup_project --project SLUG --out FILE`: the whole project as one backup file
(a ZIP of a versioned manifest and JSON Lines), which `restore_project` restores."""

from coding_app.services.backup import project_backup_write
from corpus.management.commands import export_qdpx


class Command(export_qdpx.Command):
    help = (
        "Back up a project (settings, members, posts, samples, codebook, codings, memos, "
        "assignments, review notes, change log) as one .zip file; --json prints its manifest."
    )
    suffix = ".zip"

    def export(self, *, project, out) -> dict:
        return project_backup_write(project=project, out=out)

    def summary(self, manifest: dict) -> str:
        tables = manifest["tables"]
        return (
            f"{tables['posts']} posts, {tables['codes']} codes, {tables['codings']} codings, "
            f"{tables['memos']} memos, {tables['memberships']} members, {manifest['users']} users."
        )

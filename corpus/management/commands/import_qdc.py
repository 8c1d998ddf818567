"""`manage.py import_qdc FILE --project SLUG`: add a REFI-QDA codebook (.qdc) to a project,
repairing the deviations of real exports (old namespaces, an empty <Sets/>)."""

from pathlib import Path

from corpus.services import exchange

from .import_qdpx import Command as ImportQdpxCommand


class Command(ImportQdpxCommand):
    help = (
        "Import a REFI-QDA codebook (.qdc): codes the project lacks are added with their "
        "hierarchy, colours and descriptions. Prints a summary (--json: one JSON object)."
    )
    what = "codebook"

    def run_import(self, *, project, path: Path, user) -> dict:
        return exchange.codebook_import_qdc(
            project=project, data=path.read_bytes(), file_name=path.name, user=user
        )

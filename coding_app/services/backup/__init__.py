"""A whole project as one file, and back: ``project_backup_write`` writes a ZIP of a
versioned manifest and one JSON Lines member per table; ``project_restore`` restores it as
a new project (all or nothing), in this instance or an empty one."""

from .restore import BackupError, project_restore
from .tables import FORMAT, FORMAT_VERSION, NOT_INCLUDED
from .write import project_backup_write

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "NOT_INCLUDED",
    "BackupError",
    "project_backup_write",
    "project_restore",
]

"""Every write of the coding domain: projects, the codebook, codings, memos, adjudication."""

from .adjudication import adjudication_decide, adjudication_undo, consensus_coder
from .changes import change_record, code_snapshot, coding_snapshot
from .codebook_csv import codebook_export_csv, codebook_import_csv
from .codes import (
    CodeConflict,
    code_change_revert,
    code_create,
    code_delete,
    code_impact,
    code_merge,
    code_move,
    code_restore,
    code_split,
    code_update,
)
from .codings import (
    assignment_done_set,
    coding_apply,
    coding_memo_set,
    coding_remove,
    coding_remove_own,
    memo_set,
)
from .projects import (
    membership_remove,
    membership_set,
    project_create,
    project_settings_update,
)

__all__ = [
    "CodeConflict",
    "adjudication_decide",
    "adjudication_undo",
    "assignment_done_set",
    "change_record",
    "code_change_revert",
    "code_create",
    "code_delete",
    "code_impact",
    "code_merge",
    "code_move",
    "code_restore",
    "code_snapshot",
    "code_split",
    "code_update",
    "codebook_export_csv",
    "codebook_import_csv",
    "coding_apply",
    "coding_memo_set",
    "coding_remove",
    "coding_remove_own",
    "coding_snapshot",
    "consensus_coder",
    "memo_set",
    "membership_remove",
    "membership_set",
    "project_create",
    "project_settings_update",
]

"""Every write of the corpus: import jobs, marks, samples and assignments."""

from .exchange import (  # noqa: F401
    codebook_export_qdc,
    codebook_import_qdc,
    exchange_import,
    project_export_qdpx,
    project_import_qdpx,
)
from .imports import (  # noqa: F401
    CHUNK_ROWS,
    FORMATS,
    BatchHasCodings,
    UploadTooLarge,
    import_batch_cancel,
    import_batch_create,
    import_batch_delete,
    import_batch_preview,
    import_batch_run,
    import_batch_start,
    import_batch_sweep_stale,
    mapping_parse,
    near_duplicates_scan,
    upload_check_size,
)
from .samples import (  # noqa: F401
    assignment_bulk_create,
    attribute_q,
    coders_of,
    criteria_q,
    near_duplicate_review,
    pool_list,
    post_mark_set,
    sample_create,
    sample_rerun,
)

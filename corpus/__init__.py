"""Posts and the batches they were imported in."""

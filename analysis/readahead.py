"""Read a query's rows on a second database connection while the caller works on the rows
already read, so PostgreSQL's scan and Python's work overlap on two cores (the word tree
reads a large scope for the few texts that hold its root, then tokenises those)."""

import queue
import threading
from collections.abc import Iterator

from django.db import connection, connections, transaction

_DONE = object()


def read_ahead(rows, *, chunk_size: int = 100, max_chunks: int = 64) -> Iterator:
    """The rows of a queryset (``values_list`` and the like), in order, read ahead.

    The query streams from a server-side cursor inside a transaction, so PostgreSQL sends
    rows as its scan finds them. Outside PostgreSQL, or inside a transaction (whose
    uncommitted rows a second connection could not see), it is a plain ``iterator()``.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from rows.iterator(chunk_size=chunk_size)
        return
    chunks: queue.Queue = queue.Queue(maxsize=max_chunks)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with transaction.atomic(using=rows.db):
                batch = []
                for row in rows.iterator(chunk_size=chunk_size):
                    batch.append(row)
                    if len(batch) == chunk_size:
                        if not put(batch):
                            return  # the reader stopped early
                        batch = []
            put(batch)
            put(_DONE)
        except BaseException as exc:  # handed to the reader, raised there
            put(exc)
        finally:
            connections[rows.db].close()  # this thread's connection

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        thread.join()

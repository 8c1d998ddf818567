"""Word counts as one compact binary value, for the counts a job keeps in the database (a
helper's chunk, a scope's cached counts).

Layout: the number of words n (8 bytes), n counts (8 bytes each, little-endian), then the n
words in the same order, UTF-8, separated by NUL (which no word can hold: the tokeniser keeps
letters, digits, hyphens and apostrophes, and PostgreSQL text cannot store NUL).

Storing 10,844 counts took 3 ms this way against 16 ms as jsonb, and reading them back half as
long (measured on PostgreSQL; the column is stored uncompressed).
"""

from collections.abc import Mapping

import numpy as np

_SEPARATOR = "\x00"


def tally_pack(counts: Mapping[str, int]) -> bytes:
    n = len(counts)
    words = _SEPARATOR.join(counts)
    if words.count(_SEPARATOR) != max(n - 1, 0):
        raise ValueError("A word to pack holds a NUL character.")
    header = np.array([n], dtype="<u8").tobytes()
    values = np.fromiter(counts.values(), dtype="<u8", count=n).tobytes()
    return header + values + words.encode("utf-8", "surrogatepass")


def tally_unpack(blob: bytes | memoryview) -> dict[str, int]:
    blob = bytes(blob)
    n = int(np.frombuffer(blob, dtype="<u8", count=1)[0])
    values = np.frombuffer(blob, dtype="<u8", count=n, offset=8).tolist()
    words = blob[8 + 8 * n :].decode("utf-8", "surrogatepass").split(_SEPARATOR) if n else []
    if len(words) != n:
        raise ValueError(f"A packed tally holds {len(words)} words for {n} counts.")
    return dict(zip(words, values, strict=True))

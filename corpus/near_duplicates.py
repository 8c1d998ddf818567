"""Near-duplicate posts: reposts with small edits, found with MinHash and LSH banding.

Pairs are only *flagged* for a person to review; nothing is deleted here. Exact
duplicates are caught earlier by the content hash (``corpus.importers.content_hash``).

How texts are compared
    A text is its words (``analysis.text.tokenize.words``: NFKC, case-folded; URLs,
    e-mails, @mentions and numbers dropped), turned into the set of its word 5-shingles
    (runs of 5 consecutive words). The true similarity of two texts is the Jaccard index
    of their shingle sets, |A ∩ B| / |A ∪ B| (``jaccard``).

    One changed word alters up to 5 shingles, so with S shingles (words − 4) and c
    scattered one-word edits the similarity is about (S − 5c) / (S + 5c): at the default
    threshold 0.8 a repost is found with up to one edit per ~45 words (3 edits in a
    150-word post, 1 in a 50-word one). Lower the threshold to catch heavier edits.

Short texts
    A text of 1–4 words has no 5-shingle; its shingles are its distinct words instead, so
    "Great post!" and "great post" (similarity 1.0) or "Thanks for sharing this" and
    "thanks for sharing" (0.75) can still be compared. Shingles of the two kinds never
    match, so a short text is only ever a near-duplicate of another short text. A text
    with no words at all (only links, emoji or numbers) is never a near-duplicate.
    Texts whose shingle sets are identical (they differ only in case, punctuation,
    links or numbers) are reported with similarity 1.0: each is paired with the first
    of them in the input, not with every other one.

MinHash signature (``minhash_signature``)
    128 values, computed as one-permutation MinHash with optimal densification
    (Li, Owen & Zhang 2012; Shrivastava 2017): each shingle is hashed once with 64-bit
    BLAKE2b; its low 7 bits choose one of 128 bins and the rest is its value; each bin
    keeps its minimum. A bin no shingle fell into borrows the value of the first non-empty
    bin on a fixed pseudo-random probe list of its own. For two texts, each position of
    the signatures agrees with probability (about) their Jaccard similarity, as with 128
    independent permutations, but a text costs one hash per shingle instead of 128, which
    is what makes pure Python fast enough (measured on the LinkedIn influencers corpus,
    1,600 posts of 48 words on average: about 7,000 signatures per second including
    tokenising, on one core). Signatures are deterministic (no process-dependent hashing)
    and can be stored. ``lsh_records`` computes the stored records of many texts at once:
    the shingles are hashed one by one, the rest (minimum per bin, densification, band
    keys) is NumPy array arithmetic with the same values (20,305 tweets of 20 words or
    more: 1.20 s text by text, 0.90 s together).

LSH banding (``NearDuplicateIndex``)
    The 128 values form 32 bands of 4 rows; two texts become candidates when all 4 values
    of at least one band agree. A pair of Jaccard similarity s is a candidate with
    probability 1 − (1 − s⁴)³²: 0.99999995 at s = 0.8, 0.9998 at 0.7, 0.988 at 0.6, 0.87
    at 0.5, but only 0.23 at 0.3 and 0.05 at 0.2. Candidates are then verified with the
    true shingle Jaccard, so thresholds down to about 0.6 keep their recall and false
    candidates cost only time.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from hashlib import blake2b

import numpy as np

from analysis.text.tokenize import words

SHINGLE_WORDS = 5
NUM_PERM = 128
BANDS = 32
ROWS = 4
DEFAULT_THRESHOLD = 0.8
# Posts are compared when they have at least this many words (a post's word count): shorter
# texts share too few word 5-shingles to judge, and exact copies are caught by the content
# hash. Only such posts get an LSH record.
MIN_WORDS = 20

_BIN_BITS = 7  # 2**7 == NUM_PERM bins
_BIN_MASK = NUM_PERM - 1
# The value of an empty bin before densification, and of every position of the signature
# of a text with no shingles: larger than any 57-bit bin value.
EMPTY = (1 << 64) - 1

assert BANDS * ROWS == NUM_PERM and 1 << _BIN_BITS == NUM_PERM


def _probe_lists() -> tuple[tuple[int, ...], ...]:
    # Fixed for ever (ordered by BLAKE2b, not by the random module, whose shuffle may change
    # between Python versions): signatures computed today must match those computed later.
    def order(bin_index: int, other: int) -> bytes:
        return blake2b(f"probe:{bin_index}:{other}".encode(), digest_size=8).digest()

    return tuple(
        tuple(sorted((b for b in range(NUM_PERM) if b != i), key=lambda b, i=i: order(i, b)))
        for i in range(NUM_PERM)
    )


_PROBES = _probe_lists()


def shingles(text_words: Sequence[str]) -> set[str]:
    """The word 5-shingles of a text's words, or its distinct words if it has fewer than 5."""
    if len(text_words) < SHINGLE_WORDS:
        return set(text_words)
    return {
        " ".join(text_words[i : i + SHINGLE_WORDS])
        for i in range(len(text_words) - SHINGLE_WORDS + 1)
    }


def jaccard(a_words: Sequence[str], b_words: Sequence[str]) -> float:
    """The true similarity of two texts given as word lists: Jaccard of their shingle sets
    (0.0 when either has no words)."""
    return _set_jaccard(shingles(a_words), shingles(b_words))


def _set_jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _signature_of_shingles(shingle_set: Iterable[str]) -> tuple[int, ...]:
    mins = [EMPTY] * NUM_PERM
    for shingle in shingle_set:
        h = int.from_bytes(
            blake2b(shingle.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
        )
        b = h & _BIN_MASK
        v = h >> _BIN_BITS
        if v < mins[b]:
            mins[b] = v
    if EMPTY not in mins:
        return tuple(mins)
    if mins.count(EMPTY) == NUM_PERM:
        return tuple(mins)
    signature = list(mins)
    for b in range(NUM_PERM):
        if mins[b] == EMPTY:
            for other in _PROBES[b]:
                value = mins[other]
                if value != EMPTY:
                    signature[b] = value
                    break
    return tuple(signature)


def minhash_signature(text: str) -> tuple[int, ...]:
    """The 128-value MinHash signature of a text's shingle set (all ``EMPTY`` when the text
    has no words)."""
    return _signature_of_shingles(shingles(words(text)))


def is_empty_signature(signature: Sequence[int]) -> bool:
    return all(value == EMPTY for value in signature)


def estimated_similarity(sig_a: Sequence[int], sig_b: Sequence[int]) -> float:
    """The share of positions where two signatures agree: an estimate of the Jaccard
    similarity (standard error about 0.04 at s = 0.8). 0.0 if either text had no words."""
    if len(sig_a) != len(sig_b):
        raise ValueError("The signatures have different lengths.")
    if not sig_a or is_empty_signature(sig_a) or is_empty_signature(sig_b):
        return 0.0
    return sum(1 for a, b in zip(sig_a, sig_b, strict=True) if a == b) / len(sig_a)


# Odd 64-bit multipliers mixing a band's 4 values into one key: fixed for ever, like the
# probe lists, because band keys are stored with the posts (``lsh_record``).
_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
_MASK64 = (1 << 64) - 1
_SIGN = 1 << 63


def _band_keys(signature: Sequence[int]) -> list[int]:
    """The 32 band keys of a signature, as signed 64-bit integers (equal bands, equal keys;
    different bands collide only by chance, and candidates are verified anyway)."""
    m0, m1, m2, m3 = _MIX
    keys = []
    for i in range(0, NUM_PERM, ROWS):
        key = (
            signature[i] * m0
            ^ signature[i + 1] * m1
            ^ signature[i + 2] * m2
            ^ signature[i + 3] * m3
        ) & _MASK64
        keys.append(key - (1 << 64) if key & _SIGN else key)
    return keys


# A post's stored LSH record: 16 bytes identifying its shingle set, then its 32 band keys
# (little-endian signed 64-bit). A text without words has the empty record.
_RECORD = struct.Struct(f"<16s{BANDS}q")
RECORD_SIZE = _RECORD.size


def lsh_record(text: str) -> bytes:
    """What the near-duplicate scan needs of a text, computed once and stored with the post."""
    return lsh_records([text])[0]


def lsh_records(texts: Sequence[str]) -> list[bytes]:
    """``lsh_record`` of each text, the signatures of all of them computed together.

    Each shingle is still hashed on its own (BLAKE2b), but the minimum per bin, the
    densification and the band keys are array operations over every text at once, with
    exactly the values of ``_signature_of_shingles`` and ``_band_keys`` (tests compare
    them): several times faster than text by text.
    """
    own = [frozenset(shingles(words(text))) for text in texts]
    found = [i for i, shingle_set in enumerate(own) if shingle_set]
    records = [b""] * len(texts)
    if not found:
        return records
    sizes = np.fromiter((len(own[i]) for i in found), dtype=np.int64, count=len(found))
    # 64-bit BLAKE2b of every shingle, little-endian, as in _signature_of_shingles.
    digests = b"".join(
        blake2b(shingle.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        for i in found
        for shingle in own[i]
    )
    hashes = np.frombuffer(digests, dtype="<u8")
    owner = np.repeat(np.arange(len(found)), sizes)
    mins = np.full((len(found), NUM_PERM), EMPTY, dtype=np.uint64)
    np.minimum.at(mins, (owner, hashes & np.uint64(_BIN_MASK)), hashes >> np.uint64(_BIN_BITS))
    signatures = _densified(mins)
    keys = _band_keys_of(signatures)
    for row, i in enumerate(found):
        records[i] = _set_digest(own[i]) + keys[row].tobytes()
    return records


@lru_cache(maxsize=1)
def _probe_table() -> np.ndarray:
    """_PROBES as an array: row b is the probe list of bin b."""
    return np.array(_PROBES, dtype=np.intp)


def _densified(mins: np.ndarray) -> np.ndarray:
    """Each empty bin takes the value of the first non-empty bin on its probe list (the
    original values, not ones borrowed already)."""
    signatures = mins.copy()
    probes = _probe_table()
    rows, bins = np.nonzero(mins == EMPTY)  # the bins still waiting, by row
    for step in range(NUM_PERM - 1):
        if not len(rows):
            break
        values = mins[rows, probes[bins, step]]
        found = values != EMPTY
        signatures[rows[found], bins[found]] = values[found]
        rows, bins = rows[~found], bins[~found]
    return signatures


def _band_keys_of(signatures: np.ndarray) -> np.ndarray:
    """``_band_keys`` of each row, as little-endian signed 64-bit integers: products wrap
    modulo 2**64 in uint64 arithmetic, which is the Python version's ``& _MASK64``."""
    rows = signatures.reshape(len(signatures), BANDS, ROWS)
    m0, m1, m2, m3 = (np.uint64(m) for m in _MIX)
    keys = rows[:, :, 0] * m0 ^ rows[:, :, 1] * m1 ^ rows[:, :, 2] * m2 ^ rows[:, :, 3] * m3
    return keys.astype("<u8").view("<i8")


class _Keys(list):
    """A bucket holding several keys (a bucket with one key holds the key itself)."""


class NearDuplicateIndex:
    """LSH index of signatures: 32 bands × 4 rows (see the module docstring).

    ``add(key, signature)`` files a signature under its key (any hashable); ``candidates
    (signature)`` gives the keys sharing at least one band with it, to be verified with the
    true Jaccard similarity. Texts without words are neither filed nor matched. Memory:
    one dictionary entry per band per key (about 2.6 KB per text); for one batch over a
    whole corpus ``find_near_duplicates`` needs far less.
    """

    def __init__(self) -> None:
        self._buckets: list[dict[int, object]] = [{} for _ in range(BANDS)]
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, key: Hashable, signature: Sequence[int]) -> None:
        if len(signature) != NUM_PERM:
            raise ValueError(f"A signature has {NUM_PERM} values, not {len(signature)}.")
        if is_empty_signature(signature):
            return
        self._size += 1
        for bucket, band_key in zip(self._buckets, _band_keys(signature), strict=True):
            held = bucket.get(band_key, _MISSING)
            if held is _MISSING:
                bucket[band_key] = key
            elif type(held) is _Keys:
                held.append(key)
            else:
                bucket[band_key] = _Keys((held, key))

    def candidates(self, signature: Sequence[int]) -> set:
        found: set = set()
        if len(signature) != NUM_PERM or is_empty_signature(signature):
            return found
        for bucket, band_key in zip(self._buckets, _band_keys(signature), strict=True):
            held = bucket.get(band_key, _MISSING)
            if held is _MISSING:
                continue
            if type(held) is _Keys:
                found.update(held)
            else:
                found.add(held)
        return found


_MISSING = object()


def find_near_duplicates(
    items: Iterable[tuple[Hashable, str]], threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[Hashable, Hashable, float]]:
    """Pairs ``(key_a, key_b, similarity)`` of texts whose true shingle Jaccard similarity
    is at least ``threshold``; ``key_a`` came before ``key_b`` in ``items``.

    Pairs are sorted by the input position of ``key_b``, then of ``key_a``. Texts with
    identical shingle sets are each paired with the first of them only (similarity 1.0).

    Two passes, light on memory (about 0.4 KB per text besides the texts themselves): the
    first computes each signature and keeps only its 32 band hashes in arrays; the second
    finds, band by band, the texts sharing a band hash and verifies each distinct candidate
    pair once with the true Jaccard similarity. ``find_near_duplicates_in_records`` does the
    same from stored records without keeping the texts.
    """
    _check_threshold(threshold)
    texts: list[str] = []
    first = _FirstPass()
    same_set: dict[int, int] = {}

    @lru_cache(maxsize=8192)
    def shingle_set(position: int) -> frozenset[str]:
        return frozenset(shingles(words(texts[position])))

    for key, text in items:
        position = first.add_key(key)
        texts.append(text)
        own = frozenset(shingles(words(text)))
        if not own:
            continue
        fingerprint = hash(own)
        same = same_set.get(fingerprint)
        if same is not None and shingle_set(same) == own:
            first.add_exact(same, position)
            continue
        same_set.setdefault(fingerprint, position)
        first.add_bands(position, _band_keys(_signature_of_shingles(own)))
    del same_set

    def verify(block: list[tuple[int, int]]) -> Iterator[float]:
        return (_set_jaccard(shingle_set(a), shingle_set(b)) for a, b in block)

    return first.pairs(threshold, verify)


def find_near_duplicates_in_records(
    records: Iterable[tuple[Hashable, bytes]],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    texts_of: Callable[[list[Hashable]], Mapping[Hashable, str]],
) -> list[tuple[Hashable, Hashable, float]]:
    """``find_near_duplicates`` from stored ``lsh_record``s rather than texts: nothing is
    tokenised but the texts of candidate pairs, loaded with ``texts_of`` (keys → texts, for
    example a database query) a block at a time. Identical shingle sets are recognised by
    the records' 128-bit digests instead of by comparing the sets.

    ``near_duplicate_id_arrays`` with the input positions standing in for the keys."""
    _check_threshold(threshold)
    keys: list[Hashable] = []

    def blocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        positions: list[int] = []
        waiting: list[bytes] = []
        for key, record in records:
            keys.append(key)
            if len(record) != RECORD_SIZE:  # no words (or no record): never a near-duplicate
                continue
            positions.append(len(keys) - 1)
            waiting.append(record)
            if len(waiting) == _RECORD_BLOCK:
                yield np.array(positions, np.int64), np.frombuffer(b"".join(waiting), RECORD_DTYPE)
                positions, waiting = [], []
        yield np.array(positions, np.int64), np.frombuffer(b"".join(waiting), RECORD_DTYPE)

    def texts_at(positions: list[int]) -> dict[int, str]:
        loaded = texts_of([keys[position] for position in positions])
        return {p: loaded[keys[p]] for p in positions if keys[p] in loaded}

    earlier, later, similarity = near_duplicate_id_arrays(blocks(), threshold, texts_of=texts_at)
    return [
        (keys[a], keys[b], s)
        for a, b, s in zip(earlier.tolist(), later.tolist(), similarity.tolist(), strict=True)
    ]


def near_duplicate_id_arrays(
    blocks: Iterable[tuple[np.ndarray, np.ndarray]],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    texts_of: Callable[[list[int]], Mapping[int, str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``find_near_duplicates_in_records`` for posts read in blocks of arrays: each block is
    (ids, records), int64 ids and their records as a ``RECORD_DTYPE`` array (records of
    another size left out). Returns (earlier ids, later ids, similarities) in the same
    order as the list version: 24 bytes a pair, where a tuple takes about 150, and no
    Python object per post or band key."""
    _check_threshold(threshold)
    first = _blocks_first_pass(blocks)
    ids = first.keys
    cache: dict[int, frozenset[str]] = {}

    def verify(block: list[tuple[int, int]]) -> Iterator[float]:
        _load_shingle_sets({p for pair in block for p in pair}, ids, texts_of, cache)
        return (_set_jaccard(cache[a], cache[b]) for a, b in block)

    earlier, later, similarity = first.pair_arrays(threshold, verify)
    return ids[earlier], ids[later], similarity


def _blocks_first_pass(blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> _FirstPass:
    """Keys (ids) in input order, identical sets by their digests, band keys of the first
    record of each set; positions index the concatenated ids."""
    first = _FirstPass()
    first_of_set: dict[bytes, int] = {}  # digest -> position of the first such set
    id_blocks: list[np.ndarray] = []
    count = 0
    for ids, records in blocks:
        id_blocks.append(np.asarray(ids, dtype=np.int64))
        new_rows, new_positions = [], []
        for row, digest in enumerate(records["digest"].tolist()):
            position = count + row
            same = first_of_set.get(digest)
            if same is not None:
                first.add_exact(same, position)
            else:
                first_of_set[digest] = position
                new_rows.append(row)
                new_positions.append(position)
        first.add_band_rows(np.array(new_positions, np.int64), records["bands"][new_rows])
        count += len(records)
    first_of_set.clear()
    first.keys = np.concatenate(id_blocks) if id_blocks else np.empty(0, np.int64)
    return first


# Records parsed per array in the first pass of a scan, and their layout (as _RECORD; a
# digest that ends in zero bytes loses them as a Python value, which keeps digests apart).
_RECORD_BLOCK = 10_000
RECORD_DTYPE = np.dtype([("digest", "S16"), ("bands", "<i8", (BANDS,))])


def _check_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError("The threshold must be above 0 and at most 1.")


class _FirstPass:
    """The input keys, the band keys of each distinct shingle set in arrays (row r belongs
    to input position positions[r]), and the (first, copy) positions of identical sets.

    Pairs are kept as NumPy arrays of positions, 8 bytes a position, rather than tuples:
    a 1,000,000-post scan can hold hundreds of thousands of them.
    """

    def __init__(self) -> None:
        self.keys: list[Hashable] | np.ndarray = []
        self.exact_first = array("q")
        self.exact_copy = array("q")
        # Band keys in blocks of rows (one row per distinct shingle set) and the input
        # position of each row; single rows wait in a list until a block is made of them.
        self._blocks: list[np.ndarray] = []
        self._block_positions: list[np.ndarray] = []
        self._rows: list[Sequence[int]] = []
        self._row_positions = array("q")

    def add_key(self, key: Hashable) -> int:
        self.keys.append(key)
        return len(self.keys) - 1

    def add_exact(self, first: int, copy: int) -> None:
        self.exact_first.append(first)
        self.exact_copy.append(copy)

    def add_bands(self, position: int, band_keys: Sequence[int]) -> None:
        self._rows.append(band_keys)
        self._row_positions.append(position)
        if len(self._rows) == _RECORD_BLOCK:
            self._take_rows()

    def add_band_rows(self, positions: np.ndarray, band_keys: np.ndarray) -> None:
        """Rows of band keys (one per position, positions after every earlier one)."""
        self._take_rows()
        self._blocks.append(np.array(band_keys, dtype=np.int64).reshape(-1, BANDS))
        self._block_positions.append(np.array(positions, dtype=np.int64))

    def _take_rows(self) -> None:
        if self._rows:
            self._blocks.append(np.array(self._rows, dtype=np.int64).reshape(-1, BANDS))
            self._block_positions.append(np.frombuffer(self._row_positions, np.int64).copy())
            self._rows = []
            self._row_positions = array("q")

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct (earlier, later) input positions sharing at least one band key, sorted
        by earlier then later position, as two arrays."""
        self._take_rows()
        blocks, self._blocks = self._blocks or [np.empty((0, BANDS), np.int64)], []
        positions = np.concatenate([np.empty(0, np.int64), *self._block_positions])
        self._block_positions = []
        count = len(positions)
        packed = [np.empty(0, dtype=np.int64)]
        for band in range(BANDS):
            # One band's keys at a time: the blocks are never copied whole.
            keys = np.concatenate([block[:, band] for block in blocks])
            order = np.argsort(keys, kind="stable")  # rows of equal keys, in row order
            ordered = keys[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            lengths = np.diff(np.r_[starts, count])
            # Every pair of rows of a run of equal keys, runs of the same length together.
            for length in np.unique(lengths[lengths > 1]).tolist():
                first_rows = starts[lengths == length][:, None]
                low, high = np.triu_indices(length, 1)
                packed.append(
                    (order[first_rows + low] * count + order[first_rows + high]).ravel()
                )  # stable order: the lower row comes first
        del blocks
        pairs = np.unique(np.concatenate(packed))
        return positions[pairs // max(count, 1)], positions[pairs % max(count, 1)]

    def pair_arrays(
        self, threshold: float, verify: Callable[[list[tuple[int, int]]], Iterable[float]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(earlier, later, similarity) arrays of the pairs found, sorted by later position,
        then earlier."""
        earlier, later = self.candidates()
        kept = np.zeros(len(earlier), dtype=bool)
        similarity = np.ones(len(earlier), dtype=np.float64)
        for start in range(0, len(earlier), _VERIFY_BLOCK):
            stop = start + _VERIFY_BLOCK
            block = list(zip(earlier[start:stop].tolist(), later[start:stop].tolist(), strict=True))
            values = np.fromiter(verify(block), dtype=np.float64, count=len(block))
            similarity[start:stop] = values
            kept[start:stop] = values >= threshold
        earlier = np.concatenate([np.frombuffer(self.exact_first, dtype=np.int64), earlier[kept]])
        later = np.concatenate([np.frombuffer(self.exact_copy, dtype=np.int64), later[kept]])
        similarity = np.concatenate([np.ones(len(self.exact_first)), similarity[kept]])
        order = np.lexsort((earlier, later))
        return earlier[order], later[order], similarity[order]

    def pairs(
        self, threshold: float, verify: Callable[[list[tuple[int, int]]], Iterable[float]]
    ) -> list[tuple[Hashable, Hashable, float]]:
        earlier, later, similarity = self.pair_arrays(threshold, verify)
        keys = self.keys
        return [
            (keys[a], keys[b], s)
            for a, b, s in zip(earlier.tolist(), later.tolist(), similarity.tolist(), strict=True)
        ]


# Candidate pairs verified per round trip when the texts are loaded on demand.
_VERIFY_BLOCK = 2_000


def _set_digest(shingle_set: frozenset[str]) -> bytes:
    return blake2b("\x00".join(sorted(shingle_set)).encode("utf-8", "surrogatepass")).digest()[:16]


def _load_shingle_sets(
    wanted: set[int],
    ids: np.ndarray,
    texts_of: Callable[[list[int]], Mapping[int, str]],
    cache: dict[int, frozenset[str]],
) -> None:
    """Replace ``cache`` with the shingle sets of the ``wanted`` input positions."""
    kept = {position: cache[position] for position in wanted if position in cache}
    missing = [position for position in wanted if position not in kept]
    loaded = texts_of(ids[missing].tolist())
    for position, post_id in zip(missing, ids[missing].tolist(), strict=True):
        # A post deleted since the first pass has no text any more: it matches nothing.
        kept[position] = frozenset(shingles(words(loaded.get(post_id, ""))))
    cache.clear()
    cache.update(kept)

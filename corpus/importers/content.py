"""What a file really holds (by its first bytes), and refusing unsafe ZIP archives.

``check_content`` catches files whose content contradicts their name (a PNG or a ZIP named
``.csv``) before any reader misreads them; ``check_zip`` refuses ZIP bombs from the
archive's central directory, before a single member is decompressed.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import PurePath

from .base import ImportFileError

# --- ZIP bomb limits (module constants: tests and deployments may change them) -----------

# The sum of the members' declared uncompressed sizes.
MAX_UNCOMPRESSED_BYTES = 1024**3  # 1 GiB
# Declared uncompressed size / compressed size of any one member.
MAX_COMPRESSION_RATIO = 200
# Members smaller than this are not ratio-checked: a few KB of repeated spaces can compress
# 500-fold yet cannot hurt, and the total limit still bounds them. 0 checks every member.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
# Binary sniffing: share of control bytes (other than tab, CR, LF, FF, ESC) above which a
# file holding NUL bytes is binary. A stray NUL in a text export is tolerated (the
# normaliser removes it); real binary data has about 10% control bytes.
BINARY_CONTROL_SHARE = 0.01

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (_OLE_MAGIC, "an old-format Office file (.xls or .doc)"),
    (b"\x1f\x8b", "a GZIP archive"),
    (b"BZh", "a BZIP2 archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"ftyp", "a video file"),  # checked at offset 4, see _magic_kind
)
_TEXT_BOMS = (
    codecs.BOM_UTF8,
    codecs.BOM_UTF32_LE,
    codecs.BOM_UTF32_BE,
    codecs.BOM_UTF16_LE,
    codecs.BOM_UTF16_BE,
)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_LOCAL_HEADER = re.compile(rb"PK\x03\x04")

# Extensions → (what the file should be, the label used in messages).
_TEXT_SUFFIXES = {
    ".csv": "a CSV",
    ".tsv": "a TSV",
    ".txt": "a text (CSV)",
    ".json": "a JSON",
    ".jsonl": "a JSON Lines",
    ".ndjson": "a JSON Lines",
}
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_SUFFIXES = (".zip",)
_SUPPORTED = "CSV, TSV, JSON, JSON Lines, Excel (.xlsx) or a ZIP of .txt files"
_XLS_ADVICE = (
    "Old Excel (.xls) workbooks cannot be read: open it in Excel or LibreOffice and save "
    "it as .xlsx (or CSV)."
)


def is_zip(head: bytes) -> bool:
    return head.startswith(_ZIP_MAGIC)


def _looks_like_bomless_utf16(head: bytes) -> bool:
    sample = head[:4096]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        if not text:
            continue
        printable = sum(1 for char in text if char.isprintable() or char in "\t\r\n")
        if printable >= 0.95 * len(text):
            return True
    return False


def is_binary(head: bytes) -> bool:
    """True when the bytes are not text: NUL bytes with no UTF-16/32 BOM, and not BOM-less
    UTF-16 text, and more than ``BINARY_CONTROL_SHARE`` control bytes."""
    if b"\x00" not in head or head.startswith(_TEXT_BOMS):
        return False
    if len(_CONTROL.findall(head)) <= BINARY_CONTROL_SHARE * len(head):
        return False
    return not _looks_like_bomless_utf16(head)


def _magic_kind(head: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if magic == b"ftyp":
            if head[4:8] == magic:
                return kind
        elif head.startswith(magic):
            return kind
    return None


def describe_content(head: bytes) -> str | None:
    """What the bytes start like ("a ZIP archive", "a PNG image", "binary data"), or None
    when they look like text."""
    if is_zip(head):
        return "a ZIP archive"
    kind = _magic_kind(head)
    if kind:
        return kind
    if is_binary(head):
        return "binary data"
    return None


def zip_looks_like_workbook(head: bytes) -> bool:
    """Whether the local file headers found in the first bytes of a ZIP name Excel parts.

    Only the head is available when sniffing, so this reads the member names of the local
    headers in it (Excel writes ``[Content_Types].xml`` and ``xl/…`` parts first).
    """
    for match in _LOCAL_HEADER.finditer(head):
        start = match.start()
        if start + 30 > len(head):
            break
        name_length = int.from_bytes(head[start + 26 : start + 28], "little")
        name = head[start + 30 : start + 30 + name_length]
        if name == b"[Content_Types].xml" or name.startswith(b"xl/"):
            return True
    return False


def check_content(filename: str, head: bytes) -> None:
    """Raise ``ImportFileError`` when the file is empty or its content contradicts its name.

    A ``.csv``/``.tsv``/``.txt``/``.json``/``.jsonl`` file must be text; a ``.xlsx`` or
    ``.zip`` file must be a ZIP archive; a file with another (or no) extension must be text
    or a ZIP archive. The message names the file and says what it looks like.
    """
    if not head:
        raise ImportFileError("The file is empty.")
    name = PurePath(filename or "").name or "The file"
    suffix = PurePath(filename or "").suffix.lower()
    kind = describe_content(head)
    if suffix == ".xls" or (kind and head.startswith(_OLE_MAGIC)):
        raise ImportFileError(f"{name} is an old-format Excel file. {_XLS_ADVICE}")
    if suffix in _TEXT_SUFFIXES:
        if kind is None:
            return
        label = _TEXT_SUFFIXES[suffix]
        hint = ""
        if kind == "a ZIP archive":
            hint = (
                " If it is an Excel workbook, give it the .xlsx extension (or choose the xlsx "
                "format); if it is a ZIP of .txt files, the .zip extension (or the txt format)."
            )
        raise ImportFileError(
            f"{name} does not look like {label} file: it starts like {kind}.{hint}"
        )
    if suffix in _XLSX_SUFFIXES or suffix in _ZIP_SUFFIXES:
        if kind == "a ZIP archive":
            return
        label = "an Excel (.xlsx) workbook" if suffix in _XLSX_SUFFIXES else "a ZIP archive"
        raise ImportFileError(
            f"{name} does not look like {label}: it starts like {kind or 'plain text'}."
        )
    if kind is not None and kind != "a ZIP archive":
        raise ImportFileError(
            f"{name} cannot be imported: it starts like {kind}. Import {_SUPPORTED}."
        )


# --- ZIP archives ------------------------------------------------------------------------


def check_zip(
    archive: zipfile.ZipFile,
    *,
    max_total_bytes: int | None = None,
    max_ratio: float | None = None,
) -> None:
    """Refuse a ZIP bomb from the central directory alone (nothing is decompressed).

    Raises ``ImportFileError`` when the members' declared uncompressed sizes add up to more
    than ``max_total_bytes`` (default ``MAX_UNCOMPRESSED_BYTES``), when any member of at
    least ``RATIO_CHECK_MIN_BYTES`` expands more than ``max_ratio`` times (default
    ``MAX_COMPRESSION_RATIO``), or when a member is encrypted. Python's ``zipfile`` never
    returns more than a member's declared size (and fails its CRC check on a lying entry),
    so the declared sizes are binding.
    """
    limit = MAX_UNCOMPRESSED_BYTES if max_total_bytes is None else max_total_bytes
    ratio_limit = MAX_COMPRESSION_RATIO if max_ratio is None else max_ratio
    total = 0
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise ImportFileError(
                f"The ZIP archive is password-protected ({info.filename}); unzip it first."
            )
        total += info.file_size
        if total > limit:
            raise ImportFileError(
                f"The ZIP archive would expand to more than {_size(limit)}; it is refused as "
                "a possible ZIP bomb. Split it into smaller files."
            )
        if info.file_size >= RATIO_CHECK_MIN_BYTES and info.file_size > 0:
            ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
            if ratio > ratio_limit:
                raise ImportFileError(
                    f"The ZIP archive member {info.filename} expands {ratio:.0f} times "
                    f"({_size(info.compress_size)} to {_size(info.file_size)}), more than the "
                    f"limit of {ratio_limit:g}; it is refused as a possible ZIP bomb."
                )


def open_zip(
    fileobj,
    *,
    what: str = "ZIP archive",
    max_total_bytes: int | None = None,
    max_ratio: float | None = None,
) -> zipfile.ZipFile:
    """A checked ``ZipFile`` over a seekable binary file; ``ImportFileError`` if it is not
    a ZIP archive or is refused by ``check_zip``."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(
            f"The file is not a valid {what} (it could not be opened as a ZIP archive: {exc})."
        ) from None
    try:
        check_zip(archive, max_total_bytes=max_total_bytes, max_ratio=max_ratio)
    except ImportFileError:
        archive.close()
        raise
    return archive


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name; names stored without the UTF-8 flag (by macOS Archive Utility, old
    Windows zips) are read as UTF-8 when they are valid UTF-8, else as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def unsafe_member_path(name: str) -> str | None:
    """Why a member path would leave the archive's folder, or None when it stays inside."""
    path = name.replace("\\", "/")
    if "\x00" in path:
        return "it holds a NUL character"
    if path.startswith("/"):
        return "it is an absolute path"
    if re.match(r"[A-Za-z]:", path):
        return "it names a drive"
    if ".." in path.split("/"):
        return "it climbs out with “..”"
    return None


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"

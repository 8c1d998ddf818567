"""One post per .txt file: a ZIP archive of text files, or a folder of them.

Both give the columns ``external_id`` (the file's path inside the archive or folder, with
``/`` separators) and ``text``. Files are read in order of that path (plain string order);
rows are numbered 1, 2, … in that order. Each file's encoding is detected on its own, like
the CSV reader does (UTF-8 with or without BOM, UTF-16/32 with BOM, else Windows-1252); a
file that cannot be decoded becomes a row error naming it. macOS ``__MACOSX/`` folders,
hidden files and folders (``.DS_Store``, ``._x.txt``) and files not ending in ``.txt`` are
skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .base import ImportFileError, RawRow
from .content import is_binary, member_name, open_zip, unsafe_member_path

TEXT_COLUMNS = ["external_id", "text"]
TEXT_SUFFIX = ".txt"


def _wanted(path: str) -> bool:
    """A .txt member or file to import: not hidden, not macOS metadata, and not a path that
    leaves the archive's folder (absolute, a drive, or through "..")."""
    if unsafe_member_path(path):
        return False
    parts = PurePosixPath(path).parts
    if not parts or not parts[-1].lower().endswith(TEXT_SUFFIX):
        return False
    return not any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _describe(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}.get(
        encoding, encoding
    )


def decode_text_file(name: str, data: bytes, number: int) -> RawRow:
    """A row for one text file: its decoded text, or an error naming the file."""
    from .readers import detect_encoding

    if is_binary(data[:65536]):
        return RawRow(number, {}, error=f"{name} is not a text file (it holds binary data)")
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return RawRow(
            number,
            {},
            error=(
                f"{name} is not valid {_describe(encoding)} text ({exc.reason} at byte "
                f"{exc.start}); save it as UTF-8"
            ),
        )
    return RawRow(number, {"external_id": name, "text": text})


def open_text_zip(
    fileobj: BinaryIO,
    *,
    max_total_bytes: int | None = None,
    max_ratio: float | None = None,
) -> tuple[list[str], Iterator[RawRow]]:
    """The rows of a ZIP archive of .txt files (``fileobj`` must be seekable).

    The archive is checked for bombs (``check_zip``) before anything is decompressed.
    """
    archive = open_zip(fileobj, max_total_bytes=max_total_bytes, max_ratio=max_ratio)
    members = sorted(
        ((member_name(info), info) for info in archive.infolist() if not info.is_dir()),
        key=lambda item: item[0],
    )
    wanted = [(name, info) for name, info in members if _wanted(name)]
    if not wanted:
        archive.close()
        if any(name.startswith("xl/") for name, _ in members):
            raise ImportFileError(
                "The ZIP archive is an Excel workbook: choose the xlsx format (or give the "
                "file the .xlsx extension)."
            )
        found = [name for name, _ in members if not name.startswith("__MACOSX/")][:5]
        listing = ", ".join(found) if found else "nothing"
        raise ImportFileError(
            f"The ZIP archive holds no .txt files (it holds {listing}). Put one post per "
            ".txt file in the archive."
        )

    def rows() -> Iterator[RawRow]:
        try:
            for number, (name, info) in enumerate(wanted, start=1):
                try:
                    data = archive.read(info)
                except Exception as exc:  # a damaged member (bad CRC, unsupported method)
                    yield RawRow(number, {}, error=f"{name} could not be read ({exc})")
                    continue
                yield decode_text_file(name, data, number)
        finally:
            archive.close()

    return list(TEXT_COLUMNS), rows()


def open_text_folder(path: str | os.PathLike) -> tuple[list[str], Iterator[RawRow]]:
    """The rows of a folder of .txt files, its subfolders included (links not followed)."""
    root = Path(path)
    if not root.is_dir():
        raise ImportFileError(f"{root} is not a folder.")
    names: list[str] = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d != "__MACOSX"]
        relative = Path(folder).relative_to(root)
        for file_name in files:
            name = (relative / file_name).as_posix()
            if _wanted(name) and not os.path.islink(os.path.join(folder, file_name)):
                names.append(name)
    names.sort()
    if not names:
        raise ImportFileError(f"The folder {root} holds no .txt files.")

    def rows() -> Iterator[RawRow]:
        for number, name in enumerate(names, start=1):
            try:
                data = (root / name).read_bytes()
            except OSError as exc:
                yield RawRow(number, {}, error=f"{name} could not be read ({exc.strerror})")
                continue
            yield decode_text_file(name, data, number)

    return list(TEXT_COLUMNS), rows()

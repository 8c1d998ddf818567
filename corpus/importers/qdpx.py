"""REFI-QDA exchange: reading and writing .qdpx projects and .qdc codebooks; no Django here.

Reading is defensive: XML is parsed with defusedxml (no DTD, no entities, nothing fetched),
archives are checked for ZIP bombs and for member paths that leave the archive's folder
before anything is read, and known deviations of real exports (old codebook namespaces,
empty ``<Sets/>``, a project XML not named ``project.qde``) are repaired and reported.

Selection offsets differ between tools (code points, UTF-16 units, with or without the
byte-order mark, CRLF counted as one or two), so ``offsets_detect`` tries each
interpretation on a source and keeps the one whose selections start and end on word
boundaries most often; ``text_normalize`` maps every offset of the file's text onto the
NFC text Grounded stores.
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET  # only to build XML; reading goes through defusedxml
import zipfile
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import accumulate, product
from pathlib import PurePosixPath
from typing import BinaryIO

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ElementTree as SafeET

from .base import ImportFileError
from .content import is_zip, member_name, open_zip, unsafe_member_path

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
PROJECT_XML = "project.qde"
GROUNDED_ORIGIN = "Grounded"
# GUIDs of exported objects are name-based (uuid5) under this namespace, so exporting the
# same project twice gives the same GUIDs and other tools can match objects across exports.
GUID_NAMESPACE = uuid.UUID("6f1c2a52-3b7e-5d0a-9c41-2e8f7b9d0a13")

_GUID = re.compile(
    r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?"
)
_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
# Characters XML 1.0 cannot hold (written names, descriptions and notes drop them).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Elements that the schemas require to hold at least one child.
_NON_EMPTY = ("Users", "Codes", "Variables", "Cases", "Sources", "Notes", "Links", "Sets", "Graphs")
_EXTERNAL_SCHEMES = ("absolute://", "relative://", "file:", "http:", "https:", "ftp:")

# A code's definition goes to its <Description>; the other guidance fields follow it as
# labelled paragraphs, which an import splits off again.
DESCRIPTION_SECTIONS = (
    ("inclusion", "When to use"),
    ("exclusion", "When not to use"),
    ("example", "Example"),
)


# --- Data -------------------------------------------------------------------------------


@dataclass
class RefiUser:
    guid: str
    name: str = ""
    id: str = ""


@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool = True
    colour: str | None = None  # "#rrggbb"
    description: str = ""
    note_guids: list[str] = field(default_factory=list)
    children: list[RefiCode] = field(default_factory=list)


@dataclass
class RefiCoding:
    guid: str
    code_guid: str
    user_guid: str | None = None
    created_at: datetime | None = None
    note_guids: list[str] = field(default_factory=list)


@dataclass
class RefiSelection:
    guid: str
    start: int
    end: int
    user_guid: str | None = None
    created_at: datetime | None = None
    description: str = ""
    codings: list[RefiCoding] = field(default_factory=list)
    note_guids: list[str] = field(default_factory=list)


@dataclass
class RefiVariable:
    guid: str
    name: str
    type: str = "Text"  # Text, Boolean, Integer, Float, Date, DateTime


@dataclass
class RefiSource:
    guid: str
    name: str = ""
    # The text as the file holds it (a leading U+FEFF kept, line ends as stored); None when
    # the source has no plain text this importer can read.
    text: str | None = None
    text_path: str = ""
    kind: str = "TextSource"
    user_guid: str | None = None
    created_at: datetime | None = None
    description: str = ""
    selections: list[RefiSelection] = field(default_factory=list)
    codings: list[RefiCoding] = field(default_factory=list)  # the whole source coded
    note_guids: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)  # variable name → value
    skipped: str = ""  # why the source cannot be imported, when it cannot


@dataclass
class RefiNote:
    guid: str
    text: str
    name: str = ""
    user_guid: str | None = None
    created_at: datetime | None = None


@dataclass
class RefiProject:
    name: str = ""
    origin: str = ""
    description: str = ""
    created_at: datetime | None = None
    users: dict[str, RefiUser] = field(default_factory=dict)
    codes: list[RefiCode] = field(default_factory=list)
    variables: list[RefiVariable] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: dict[str, RefiNote] = field(default_factory=dict)
    note_guids: list[str] = field(default_factory=list)  # notes on the project as a whole
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RefiCodebook:
    codes: list[RefiCode]
    origin: str = ""
    repairs: list[str] = field(default_factory=list)
    xml: bytes = b""  # the repaired document (valid against the codebook schema)


def codes_walk(codes: list[RefiCode]):
    """Every code of a tree, parents before their children."""
    for code in codes:
        yield code
        yield from codes_walk(code.children)


def guid_new(*parts: object) -> str:
    """A stable GUID for an exported object, from what identifies it."""
    return str(uuid.uuid5(GUID_NAMESPACE, ":".join(str(p) for p in parts)))


# --- Safe XML ---------------------------------------------------------------------------


def xml_parse(data: bytes, *, what: str = "The XML") -> ET.Element:
    """Parse untrusted XML: no DTD (so no entity can expand), nothing fetched."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DTDForbidden, EntitiesForbidden) as exc:
        raise ImportFileError(
            f"{what} declares a document type or entities ({type(exc).__name__}); it is refused "
            "because entities can expand without limit (a “billion laughs” attack) or read "
            "other files. REFI-QDA files never need them."
        ) from None
    except DefusedXmlException as exc:
        raise ImportFileError(
            f"{what} refers to external resources ({type(exc).__name__}); it is refused."
        ) from None
    except ET.ParseError as exc:
        raise ImportFileError(f"{what} is not well-formed XML ({exc}).") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _canonicalise(root: ET.Element, kind: str, repairs: list[str]) -> None:
    """Put every element in the schema's namespace (older and broken exports use others)."""
    target = NS_CODEBOOK if kind == "codebook" else NS_PROJECT
    found = _namespace(root.tag)
    if found != target:
        repairs.append(
            f"namespace “{found}” read as “{target}”"
            if found
            else f"elements without a namespace read as “{target}”"
        )
    for element in root.iter():
        if isinstance(element.tag, str) and _namespace(element.tag) != target:
            element.tag = f"{{{target}}}{_local(element.tag)}"


def _drop_empty(root: ET.Element, repairs: list[str]) -> None:
    """Remove containers the schema requires to be non-empty but that hold nothing."""
    for parent in list(root.iter()):
        for child in list(parent):
            if _local(child.tag) in _NON_EMPTY and len(child) == 0:
                parent.remove(child)
                repairs.append(f"empty <{_local(child.tag)}/> removed")


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text_of(element: ET.Element, name: str) -> str:
    child = _child(element, name)
    return (child.text or "") if child is not None else ""


def _guid(value: str | None) -> str:
    """A GUID as this module keys it: without braces, lower case."""
    value = (value or "").strip()
    match = _GUID.fullmatch(value)
    return match.group(1).lower() if match else value.lower()


def _opt_guid(value: str | None) -> str | None:
    return _guid(value) if value and value.strip() else None


def colour_parse(value: str | None) -> str | None:
    """``#rrggbb`` (lower case) from ``#RGB``/``#RRGGBB`` (with or without ``#``), else None."""
    match = _COLOUR.fullmatch((value or "").strip())
    if not match:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return f"#{digits}"


def _bool(value: str | None, default: bool = True) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "1")


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _note_refs(element: ET.Element) -> list[str]:
    return [_guid(ref.get("targetGUID")) for ref in _children(element, "NoteRef")]


# --- Reading codes, sources, notes --------------------------------------------------------


def _read_codes(codes_element: ET.Element | None) -> list[RefiCode]:
    if codes_element is None:
        return []

    def read(element: ET.Element) -> RefiCode:
        return RefiCode(
            guid=_guid(element.get("guid")),
            name=element.get("name") or "",
            codable=_bool(element.get("isCodable")),
            colour=colour_parse(element.get("color")),
            description=_text_of(element, "Description"),
            note_guids=_note_refs(element),
            children=[read(child) for child in _children(element, "Code")],
        )

    return [read(element) for element in _children(codes_element, "Code")]


def _read_coding(element: ET.Element) -> RefiCoding | None:
    ref = _child(element, "CodeRef")
    if ref is None or not ref.get("targetGUID"):
        return None
    return RefiCoding(
        guid=_guid(element.get("guid")),
        code_guid=_guid(ref.get("targetGUID")),
        user_guid=_opt_guid(element.get("creatingUser")),
        created_at=_datetime(element.get("creationDateTime")),
        note_guids=_note_refs(element),
    )


def _read_codings(element: ET.Element) -> list[RefiCoding]:
    return [c for c in map(_read_coding, _children(element, "Coding")) if c is not None]


def _read_variables(element: ET.Element, names: dict[str, str]) -> dict[str, str]:
    values = {}
    for value in _children(element, "VariableValue"):
        ref = _child(value, "VariableRef")
        name = names.get(_guid(ref.get("targetGUID"))) if ref is not None else None
        if not name:
            continue
        for child in value:
            if _local(child.tag).endswith("Value"):
                values[name] = (child.text or "").strip()
    return values


def _read_source(element: ET.Element, variables: dict[str, str]) -> RefiSource:
    kind = _local(element.tag)
    source = RefiSource(
        guid=_guid(element.get("guid")),
        name=element.get("name") or "",
        kind=kind,
        user_guid=_opt_guid(element.get("creatingUser")),
        created_at=_datetime(element.get("creationDateTime")),
        description=_text_of(element, "Description"),
        codings=_read_codings(element),
        note_guids=_note_refs(element),
        variables=_read_variables(element, variables),
    )
    if kind != "TextSource":
        source.skipped = f"it is a {kind.removesuffix('Source').lower()} source, not text"
        return source
    content = _child(element, "PlainTextContent")
    if content is not None:
        source.text = content.text or ""
    else:
        source.text_path = (element.get("plainTextPath") or "").strip()
        if not source.text_path:
            source.skipped = "it has no plain text (only rich text)"
    for selection in _children(element, "PlainTextSelection"):
        start, end = _int(selection.get("startPosition")), _int(selection.get("endPosition"))
        if start is None or end is None:
            continue
        source.selections.append(
            RefiSelection(
                guid=_guid(selection.get("guid")),
                start=start,
                end=end,
                user_guid=_opt_guid(selection.get("creatingUser")),
                created_at=_datetime(selection.get("creationDateTime")),
                description=_text_of(selection, "Description"),
                codings=_read_codings(selection),
                note_guids=_note_refs(selection),
            )
        )
    return source


def _read_note(element: ET.Element) -> RefiNote:
    return RefiNote(
        guid=_guid(element.get("guid")),
        name=element.get("name") or "",
        text=_text_of(element, "PlainTextContent") or _text_of(element, "Description"),
        user_guid=_opt_guid(element.get("creatingUser")),
        created_at=_datetime(element.get("creationDateTime")),
    )


def project_read_xml(data: bytes, *, repairs: list[str] | None = None) -> RefiProject:
    """A project from the XML of ``project.qde`` (source texts not yet loaded)."""
    repairs = [] if repairs is None else repairs
    root = xml_parse(data, what="The project XML")
    if _local(root.tag) != "Project":
        raise ImportFileError(
            f"The project XML's root element is <{_local(root.tag)}>, not <Project>: this is "
            "not a REFI-QDA project."
        )
    _canonicalise(root, "project", repairs)
    _drop_empty(root, repairs)
    project = RefiProject(
        name=root.get("name") or "",
        origin=root.get("origin") or "",
        description=_text_of(root, "Description"),
        created_at=_datetime(root.get("creationDateTime")),
        note_guids=_note_refs(root),
        repairs=repairs,
    )
    users = _child(root, "Users")
    for element in _children(users, "User") if users is not None else []:
        user = RefiUser(
            guid=_guid(element.get("guid")),
            name=(element.get("name") or "").strip(),
            id=(element.get("id") or "").strip(),
        )
        project.users[user.guid] = user
    codebook = _child(root, "CodeBook")
    project.codes = _read_codes(_child(codebook, "Codes") if codebook is not None else None)
    variables = _child(root, "Variables")
    for element in _children(variables, "Variable") if variables is not None else []:
        project.variables.append(
            RefiVariable(
                guid=_guid(element.get("guid")),
                name=element.get("name") or "",
                type=element.get("typeOfVariable") or "Text",
            )
        )
    names = {v.guid: v.name for v in project.variables}
    sources = _child(root, "Sources")
    for element in list(sources) if sources is not None else []:
        if isinstance(element.tag, str):
            project.sources.append(_read_source(element, names))
    notes = _child(root, "Notes")
    for element in _children(notes, "Note") if notes is not None else []:
        note = _read_note(element)
        project.notes[note.guid] = note
    return project


def codebook_read(data: bytes) -> RefiCodebook:
    """A codebook (.qdc), repaired where real exports deviate from the schema.

    Accepts the old namespaces (``urn:QDA-XML:codebook:0:4``, ``…:1:0``), none at all, an
    empty ``<Sets/>``, and a whole project XML given as a codebook (its codebook is read).
    """
    repairs: list[str] = []
    root = xml_parse(data, what="The codebook XML")
    if _local(root.tag) == "Project":
        project = project_read_xml(data, repairs=repairs)
        repairs.append("a project XML was given as a codebook; its codebook was read")
        return RefiCodebook(codes=project.codes, origin=project.origin, repairs=repairs)
    if _local(root.tag) != "CodeBook":
        raise ImportFileError(
            f"The codebook's root element is <{_local(root.tag)}>, not <CodeBook>: this is "
            "not a REFI-QDA codebook (.qdc)."
        )
    _canonicalise(root, "codebook", repairs)
    _drop_empty(root, repairs)
    codes = _read_codes(_child(root, "Codes"))
    if not codes:
        raise ImportFileError("The codebook holds no codes.")
    return RefiCodebook(
        codes=codes,
        origin=root.get("origin") or "",
        repairs=repairs,
        xml=ET.tostring(root, encoding="utf-8", xml_declaration=True),
    )


# --- Archives -----------------------------------------------------------------------------


def archive_check_paths(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        name = member_name(info)
        reason = unsafe_member_path(name)
        if reason:
            raise ImportFileError(
                f"The archive member “{name}” would be written outside the archive's folder "
                f"({reason}); the file is refused (a path-traversal attempt or a broken "
                "archive)."
            )


def _decode(data: bytes, what: str, warnings: list[str]) -> str:
    """The text of a source file, keeping a leading byte-order mark as U+FEFF (it may count
    in the offsets)."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return "\ufeff" + data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"{what} is not UTF-8; it was read as Windows-1252.")
        return data.decode("cp1252", errors="replace")


def _find_project_xml(archive: zipfile.ZipFile, repairs: list[str]) -> zipfile.ZipInfo:
    infos = [i for i in archive.infolist() if not i.is_dir()]
    for info in infos:
        if member_name(info).lower() == PROJECT_XML:
            return info
    candidates = [i for i in infos if member_name(i).lower().endswith(".qde")] or [
        i
        for i in infos
        if member_name(i).lower().endswith(".xml") and "/" not in member_name(i).strip("/")
    ]
    if len(candidates) == 1:
        repairs.append(
            f"the project XML is named “{member_name(candidates[0])}” instead of "
            f"{PROJECT_XML}; it was read anyway"
        )
        return candidates[0]
    if not candidates:
        raise ImportFileError(
            f"The archive holds no {PROJECT_XML}: it is not a REFI-QDA project (.qdpx)."
        )
    raise ImportFileError(
        f"The archive holds no {PROJECT_XML} but several project files ("
        + ", ".join(member_name(i) for i in candidates[:5])
        + "); which one to read is unclear."
    )


def _source_member(
    archive: zipfile.ZipFile, path: str, source: RefiSource
) -> zipfile.ZipInfo | None:
    """The archive member ``internal://file.txt`` names (under Sources/, or anywhere)."""
    if path.lower().startswith(_EXTERNAL_SCHEMES):
        source.skipped = f"its text is outside the archive ({path}); nothing outside is read"
        return None
    relative = path.split("://", 1)[1] if "://" in path else path
    reason = unsafe_member_path(relative)
    if reason:
        raise ImportFileError(
            f"The source “{source.name or source.guid}” points at “{path}”, outside the "
            f"archive's folder ({reason}); the file is refused."
        )
    wanted = relative.strip("/").lower()
    by_name = {member_name(i).lower(): i for i in archive.infolist() if not i.is_dir()}
    for candidate in (f"sources/{wanted}", wanted):
        if candidate in by_name:
            return by_name[candidate]
    basename = PurePosixPath(wanted).name
    matches = [i for n, i in by_name.items() if PurePosixPath(n).name == basename]
    if len(matches) == 1:
        return matches[0]
    source.skipped = f"its text file ({path}) is missing from the archive"
    return None


def qdpx_read(
    fileobj: BinaryIO, *, max_total_bytes: int | None = None, max_ratio: float | None = None
) -> RefiProject:
    """A whole project from a .qdpx archive (or a bare project XML), with source texts.

    Refuses (``ImportFileError``) ZIP bombs, member paths leaving the folder, and XML with
    a DTD or entities, before anything is imported.
    """
    head = fileobj.read(4)
    fileobj.seek(0)
    if not head:
        raise ImportFileError("The file is empty.")
    if not is_zip(head):  # a project.qde on its own: only inline texts can be read
        project = project_read_xml(fileobj.read())
        for source in project.sources:
            if source.text is None and not source.skipped:
                source.skipped = "its text file is not here (a bare project XML, no archive)"
        return project
    archive = open_zip(
        fileobj, what="REFI-QDA project", max_total_bytes=max_total_bytes, max_ratio=max_ratio
    )
    with archive:
        archive_check_paths(archive)
        repairs: list[str] = []
        info = _find_project_xml(archive, repairs)
        project = project_read_xml(archive.read(info), repairs=repairs)
        for source in project.sources:
            if source.text is not None or source.skipped:
                continue
            member = _source_member(archive, source.text_path, source)
            if member is not None:
                what = f"The text of “{source.name or source.guid}”"
                source.text = _decode(archive.read(member), what, project.warnings)
    return project


# --- Offsets ------------------------------------------------------------------------------


@cache
def _composes_backwards() -> frozenset[str]:
    """Starters that NFC can merge with the character before them (e.g. Hangul vowels)."""
    found = {chr(c) for c in range(0x1161, 0x1176)} | {chr(c) for c in range(0x11A8, 0x11C3)}
    for point in range(0x30000):
        decomposition = unicodedata.decomposition(chr(point))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                second = chr(int(parts[1], 16))
                if unicodedata.combining(second) == 0:
                    found.add(second)
    return frozenset(found)


def _segment_start(char: str) -> bool:
    return unicodedata.combining(char) == 0 and char not in _composes_backwards()


@dataclass
class NormalizedText:
    """The stored text and, for every offset 0..len(raw) of the raw text, where it lands:
    ``starts`` snaps an offset inside a merged unit back, ``ends`` forward."""

    text: str
    starts: list[int]
    ends: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end]


_SPECIAL = re.compile("\r\n|[\r\u2028\u2029\x85\x00\ud800-\udfff]")


def _special(match: re.Match) -> str:
    char = match.group()
    if char == "\x00":
        return ""
    return "\ufffd" if "\ud800" <= char <= "\udfff" else "\n"


def _pieces(raw: str):
    """(raw start, raw end, output) for the text in order; output None means unchanged."""
    n = len(raw)
    i = 0
    if raw.startswith("\ufeff"):
        yield 0, 1, ""
        i = 1
    if unicodedata.is_normalized("NFC", raw):
        for match in _SPECIAL.finditer(raw, i):
            if match.start() > i:
                yield i, match.start(), None
            yield match.start(), match.end(), _special(match)
            i = match.end()
        if i < n:
            yield i, n, None
        return
    while i < n:  # not NFC: normalise segment by segment (a starter and what follows it)
        match = _SPECIAL.match(raw, i)
        if match:
            yield i, match.end(), _special(match)
            i = match.end()
            continue
        j = i + 1
        while j < n and not _segment_start(raw[j]) and raw[j] not in "\r\x00":
            j += 1
        yield i, j, unicodedata.normalize("NFC", raw[i:j])
        i = j


def text_normalize(raw: str) -> NormalizedText:
    """Grounded's post text from a source file (BOM dropped, line ends as \\n, NUL removed,
    NFC, stripped), with the offset maps from the raw text to it."""
    n = len(raw)
    starts = [0] * (n + 1)
    ends = [0] * (n + 1)
    parts = []
    pos = 0  # length of the output so far
    for a, b, out in _pieces(raw):
        if out is None:
            starts[a:b] = ends[a:b] = range(pos, pos + b - a)
            parts.append(raw[a:b])
            pos += b - a
            continue
        starts[a] = ends[a] = pos
        for k in range(a + 1, b):
            starts[k], ends[k] = pos, pos + len(out)
        parts.append(out)
        pos += len(out)
    starts[n] = ends[n] = pos
    joined = "".join(parts)
    text = joined.strip()
    lead = len(joined) - len(joined.lstrip())
    size = len(text)
    if lead or size != len(joined):
        starts = [min(max(p - lead, 0), size) for p in starts]
        ends = [min(max(p - lead, 0), size) for p in ends]
    return NormalizedText(text=text, starts=starts, ends=ends)


UNITS = ("code points", "UTF-16 units", "UTF-8 bytes")
NEWLINES = ("as stored", "one per line end", "two per line end")


@dataclass(frozen=True)
class OffsetScheme:
    """How a tool counted positions: the unit, whether a leading byte-order mark counts,
    and how line ends count (as stored, or every line end as one or as two units)."""

    unit: str = "code points"
    bom: bool = False
    newlines: str = "as stored"

    def describe(self, *, has_bom: bool = False, crlf: bool = False) -> str:
        words = [self.unit]
        if has_bom:
            words.append("byte-order mark counted" if self.bom else "byte-order mark not counted")
        if self.newlines == "as stored":
            words.append("CRLF line ends counted as two" if crlf else "line ends as stored")
        elif self.newlines == "one per line end":
            words.append("CRLF line ends counted as one")
        else:
            words.append("line ends counted as two (CRLF)")
        return ", ".join(words)


STANDARD = OffsetScheme()


def _unit_lengths(raw: str, scheme: OffsetScheme) -> list[int]:
    if scheme.unit == "UTF-16 units":
        lengths = [1 + (char > "\uffff") for char in raw]
    elif scheme.unit == "UTF-8 bytes":
        lengths = [len(char.encode("utf-8", "surrogatepass")) for char in raw]
    else:
        lengths = [1] * len(raw)
    if raw.startswith("\ufeff") and not scheme.bom:
        lengths[0] = 0
    if scheme.newlines == "one per line end":
        for match in re.finditer("\r\n", raw):
            lengths[match.start()] = 0
    elif scheme.newlines == "two per line end":
        for match in re.finditer("(?<!\r)\n", raw):
            lengths[match.start()] = 2
    return lengths


@dataclass
class OffsetChoice:
    scheme: OffsetScheme
    label: str
    hits: int  # selection starts and ends on word boundaries
    of: int  # twice the selections
    invalid: int  # selections out of range or splitting a unit
    spans: list[tuple[int, int] | None]  # per selection, in the stored text
    runner_up: str = ""
    runner_up_hits: int | None = None


def _at_boundary(text: str, p: int) -> bool:
    return p <= 0 or p >= len(text) or not (text[p - 1].isalnum() and text[p].isalnum())


def _convert(
    raw: str, normalized: NormalizedText, cumulative: list[int], offsets: list[tuple[int, int]]
) -> tuple[list[tuple[int, int] | None], int, int]:
    spans: list[tuple[int, int] | None] = []
    hits = invalid = 0
    total = cumulative[-1]
    text = normalized.text
    for start, end in offsets:
        if start < 0 or end > total or start >= end:
            spans.append(None)
            invalid += 1
            continue
        a, b = bisect_left(cumulative, start), bisect_left(cumulative, end)
        if cumulative[a] != start or cumulative[b] != end:  # inside a unit
            spans.append(None)
            invalid += 1
            continue
        s, e = normalized.span(a, b)
        if s >= e:
            spans.append(None)
            invalid += 1
            continue
        spans.append((s, e))
        hits += _at_boundary(text, s) + _at_boundary(text, e)
    return spans, hits, invalid


def offsets_detect(
    raw: str,
    offsets: list[tuple[int, int]],
    *,
    normalized: NormalizedText | None = None,
    trusted: bool = False,
) -> OffsetChoice:
    """Choose how a source's selections count (see ``OffsetScheme``) and convert them.

    Each interpretation that differs on this text is tried; the one whose selections
    start and end on word boundaries most often wins (a selection out of range or
    splitting a character counts as two misses). Ties keep the standard, code points.
    ``trusted`` (a Grounded export) skips the detection.
    """
    normalized = normalized or text_normalize(raw)
    has_bom = raw.startswith("\ufeff")
    crlf = "\r\n" in raw
    lone_lf = re.search("(?<!\r)\n", raw) is not None
    units = ["code points"]
    if not trusted and any(char > "\uffff" for char in raw):
        units.append("UTF-16 units")
    if not trusted and not raw.isascii():
        units.append("UTF-8 bytes")
    boms = [False, True] if has_bom and not trusted else [False]
    newlines = ["as stored"]
    if not trusted and crlf:
        newlines.append("one per line end")
    if not trusted and lone_lf:
        newlines.append("two per line end")
    results = []
    for rank, (unit, bom, newline) in enumerate(product(units, boms, newlines)):
        scheme = OffsetScheme(unit, bom, newline)
        cumulative = list(accumulate(_unit_lengths(raw, scheme), initial=0))
        spans, hits, invalid = _convert(raw, normalized, cumulative, offsets)
        results.append((hits - 2 * invalid, -rank, scheme, spans, hits, invalid))
    results.sort(key=lambda r: (r[0], r[1]), reverse=True)
    _, _, scheme, spans, hits, invalid = results[0]
    choice = OffsetChoice(
        scheme=scheme,
        label=scheme.describe(has_bom=has_bom, crlf=crlf),
        hits=hits,
        of=2 * len(offsets),
        invalid=invalid,
        spans=spans,
    )
    if len(results) > 1:
        choice.runner_up = results[1][2].describe(has_bom=has_bom, crlf=crlf)
        choice.runner_up_hits = results[1][4]
    return choice


def text_align(source: str, target: str) -> NormalizedText:
    """Offset maps from ``source`` to ``target`` when the two differ only in whitespace
    (the same content hash): a span keeps the same non-space characters."""
    if source == target:
        return NormalizedText(target, list(range(len(source) + 1)), list(range(len(source) + 1)))
    solid = [i for i, char in enumerate(target) if not char.isspace()]
    starts, ends = [], []
    count = 0  # non-space characters of source before the offset
    for offset in range(len(source) + 1):
        starts.append(solid[count] if count < len(solid) else len(target))
        ends.append(solid[count - 1] + 1 if count else 0)
        if offset < len(source) and not source[offset].isspace():
            count += 1
    return NormalizedText(target, starts, ends)


# --- Code descriptions --------------------------------------------------------------------


def description_compose(
    definition: str, *, inclusion: str = "", exclusion: str = "", example: str = ""
) -> str:
    values = {"inclusion": inclusion, "exclusion": exclusion, "example": example}
    parts = [definition.strip()] if definition.strip() else []
    for key, label in DESCRIPTION_SECTIONS:
        if values[key].strip():
            parts.append(f"{label}: {values[key].strip()}")
    return "\n\n".join(parts)


_SECTION = re.compile(
    r"(?:^|\n\n)(" + "|".join(re.escape(label) for _, label in DESCRIPTION_SECTIONS) + r"): "
)


def description_split(text: str) -> dict[str, str]:
    """``definition`` and the labelled guidance paragraphs ``description_compose`` wrote."""
    fields = {"definition": "", "inclusion": "", "exclusion": "", "example": ""}
    labels = {label: key for key, label in DESCRIPTION_SECTIONS}
    matches = list(_SECTION.finditer(text))
    order = [labels[m.group(1)] for m in matches]
    keys = [key for key, _ in DESCRIPTION_SECTIONS]
    # Only the sections in the order they are written, each once, are split off.
    if not matches or order != sorted(order, key=keys.index) or len(set(order)) != len(order):
        fields["definition"] = text.strip()
        return fields
    fields["definition"] = text[: matches[0].start()].strip()
    for index, match in enumerate(matches):
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields[labels[match.group(1)]] = text[match.end() : stop].strip()
    return fields


# --- Writing ------------------------------------------------------------------------------


def _clean(value: str) -> str:
    return _XML_INVALID.sub("", value or "")


def _xsd_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _element(parent: ET.Element | None, tag: str, attrs: dict | None = None, text=None):
    attributes = {k: _clean(str(v)) for k, v in (attrs or {}).items() if v is not None}
    element = (
        ET.Element(tag, attributes) if parent is None else ET.SubElement(parent, tag, attributes)
    )
    if text is not None:
        element.text = _clean(text)
    return element


def _write_codes(parent: ET.Element, codes: list[RefiCode], *, notes: bool) -> None:
    for code in codes:
        element = _element(
            parent,
            "Code",
            {
                "guid": code.guid,
                "name": code.name,
                "isCodable": "true" if code.codable else "false",
                "color": code.colour,
            },
        )
        if code.description:
            _element(element, "Description", text=code.description)
        if notes:
            for guid in code.note_guids:
                _element(element, "NoteRef", {"targetGUID": guid})
        _write_codes(element, code.children, notes=notes)


def _write_coding(parent: ET.Element, coding: RefiCoding) -> None:
    element = _element(
        parent,
        "Coding",
        {
            "guid": coding.guid,
            "creatingUser": coding.user_guid,
            "creationDateTime": _xsd_datetime(coding.created_at),
        },
    )
    _element(element, "CodeRef", {"targetGUID": coding.code_guid})
    for guid in coding.note_guids:
        _element(element, "NoteRef", {"targetGUID": guid})


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def source_path(source: RefiSource) -> str:
    return f"{source.guid}.txt"


def project_build_xml(project: RefiProject) -> bytes:
    """``project.qde`` for a project, in the element order the schema requires; each text
    source points at ``internal://<guid>.txt`` (see ``qdpx_write``)."""
    root = _element(
        None,
        "Project",
        {
            "xmlns": NS_PROJECT,
            "name": project.name or "Untitled",
            "origin": project.origin or GROUNDED_ORIGIN,
            "creationDateTime": _xsd_datetime(project.created_at),
        },
    )
    if project.users:
        users = _element(root, "Users")
        for user in project.users.values():
            _element(users, "User", {"guid": user.guid, "name": user.name, "id": user.id or None})
    if project.codes:
        codebook = _element(root, "CodeBook")
        _write_codes(_element(codebook, "Codes"), project.codes, notes=True)
    if project.variables:
        variables = _element(root, "Variables")
        for variable in project.variables:
            _element(
                variables,
                "Variable",
                {"guid": variable.guid, "name": variable.name, "typeOfVariable": variable.type},
            )
    by_name = {v.name: v for v in project.variables}
    if project.sources:
        sources = _element(root, "Sources")
        for source in project.sources:
            element = _element(
                sources,
                "TextSource",
                {
                    "guid": source.guid,
                    "name": source.name,
                    "plainTextPath": f"internal://{source_path(source)}",
                    "creatingUser": source.user_guid,
                    "creationDateTime": _xsd_datetime(source.created_at),
                },
            )
            if source.description:
                _element(element, "Description", text=source.description)
            for selection in source.selections:
                item = _element(
                    element,
                    "PlainTextSelection",
                    {
                        "guid": selection.guid,
                        "name": selection.description[:60] or None,
                        "startPosition": selection.start,
                        "endPosition": selection.end,
                        "creatingUser": selection.user_guid,
                        "creationDateTime": _xsd_datetime(selection.created_at),
                    },
                )
                for coding in selection.codings:
                    _write_coding(item, coding)
                for guid in selection.note_guids:
                    _element(item, "NoteRef", {"targetGUID": guid})
            for coding in source.codings:
                _write_coding(element, coding)
            for guid in source.note_guids:
                _element(element, "NoteRef", {"targetGUID": guid})
            for name, value in source.variables.items():
                variable = by_name[name]
                item = _element(element, "VariableValue")
                _element(item, "VariableRef", {"targetGUID": variable.guid})
                _element(item, f"{variable.type}Value", text=value)
    if project.notes:
        notes = _element(root, "Notes")
        for note in project.notes.values():
            item = _element(
                notes,
                "Note",
                {
                    "guid": note.guid,
                    "name": note.name or None,
                    "creatingUser": note.user_guid,
                    "creationDateTime": _xsd_datetime(note.created_at),
                },
            )
            _element(item, "PlainTextContent", text=note.text)
    if project.description:
        _element(root, "Description", text=project.description)
    for guid in project.note_guids:
        _element(root, "NoteRef", {"targetGUID": guid})
    return _serialise(root)


def codebook_build_xml(codes: list[RefiCode], *, origin: str = GROUNDED_ORIGIN) -> bytes:
    """A .qdc codebook (root ``<CodeBook>`` in the codebook namespace)."""
    if not codes:
        raise ImportFileError("The codebook is empty: a REFI-QDA codebook needs a code.")
    root = _element(None, "CodeBook", {"xmlns": NS_CODEBOOK, "origin": origin})
    _write_codes(_element(root, "Codes"), codes, notes=False)
    return _serialise(root)


def qdpx_write(project: RefiProject, out: BinaryIO) -> None:
    """A .qdpx archive: ``project.qde`` and each source's text as ``Sources/<guid>.txt``
    (UTF-8 without a byte-order mark, so positions count code points of the file)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PROJECT_XML, project_build_xml(project))
        for source in project.sources:
            archive.writestr(f"Sources/{source_path(source)}", (source.text or "").encode("utf-8"))


def qdpx_bytes(project: RefiProject) -> bytes:
    buffer = io.BytesIO()
    qdpx_write(project, buffer)
    return buffer.getvalue()

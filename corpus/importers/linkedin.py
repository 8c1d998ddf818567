"""LinkedIn's member data export ``Shares.csv``: recognising it and repairing its text.

LinkedIn writes every line of a multi-line post wrapped in its own pair of quotes, then
quotes the whole cell as CSV. After ordinary CSV parsing a cell therefore reads::

    I'm off for a 10-day program."\\n""\\n"𝗪𝗛𝗔𝗧? A 10-day ...

— each line break has a stray ``"`` right before and right after it. The repair removes
exactly those pairs, and only in a cell where *every* line break shows the pattern; a cell
with even one bare line break, and any one-line cell, is left as written, so quotes the
author typed survive (``"Inferencing" is the new "Compiling!"`` keeps its four quotes).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

LINKEDIN_COLUMNS = ("Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility")
# The column ``open_rows(..., "linkedin")`` adds: the post's URN decoded from ShareLink.
SHARE_URN_COLUMN = "share_urn"
LINKEDIN_MAPPING = {
    "text": "ShareCommentary",
    "posted_at": "Date",
    "url": "ShareLink",
    "external_id": SHARE_URN_COLUMN,
}
# The columns the linkedin reader needs to find in the header.
REQUIRED_COLUMNS = ("Date", "ShareLink", "ShareCommentary")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WRAPPED_BREAK = re.compile(r'"(\r\n|\r|\n)"')
_URN = re.compile(r"urn:li:[A-Za-z]+:[A-Za-z0-9_-]+")


def repair_text(text: str) -> str:
    """Remove LinkedIn's stray quote pairs around line breaks, when the cell shows them
    around every line break; otherwise return the text unchanged."""
    if not isinstance(text, str):
        return text
    breaks = len(_LINE_BREAK.findall(text))
    if not breaks:
        return text
    repaired, wrapped = _WRAPPED_BREAK.subn(r"\1", text)
    # Each line break must have consumed its own pair of quotes ("\n""\n" holds two pairs).
    return repaired if wrapped == breaks else text


def share_urn(link: object) -> str:
    """The post's URN from a ShareLink (``urn:li:share:734…``, ``urn:li:ugcPost:…``), or ""."""
    if not isinstance(link, str) or not link:
        return ""
    match = _URN.search(unquote(link))
    return match.group() if match else ""


def is_linkedin_header(names: list[str] | tuple[str, ...]) -> bool:
    """Whether a CSV header row is exactly the Shares.csv header."""
    return tuple(name.replace("\ufeff", "").strip() for name in names) == LINKEDIN_COLUMNS

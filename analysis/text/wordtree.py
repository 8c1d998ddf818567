"""Word trees: the words that follow and precede a root word or phrase, merged into branches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from analysis.text.frequency import Grouping, synonym_members
from analysis.text.kwic import Occurrence, find_occurrences
from analysis.text.tokenize import DEFAULT, TokenizeOptions, words

__all__ = ["word_tree"]

OccurrenceKey = tuple[object, int, int]


class _Node:
    __slots__ = ("children", "count", "occurrences")

    def __init__(self) -> None:
        self.count = 0
        self.children: dict[str, _Node] = {}
        # A dict keeps first-seen order and drops repeats of one (doc, sentence).
        self.occurrences: dict[OccurrenceKey, None] = {}

    def add(self, sequence: list[str], occurrence: OccurrenceKey) -> None:
        node = self
        node.count += 1
        node.occurrences[occurrence] = None
        for word in sequence:
            node = node.children.setdefault(word, _Node())
            node.count += 1
            node.occurrences[occurrence] = None


def word_tree(
    docs: Iterable[tuple[object, str]],
    root: str,
    *,
    depth: int = 5,
    grouping: Grouping = "exact",
    options: TokenizeOptions = DEFAULT,
    max_children: int | None = None,
    occurrences: Iterable[Occurrence] | None = None,
) -> dict[str, Any]:
    """The word tree of ``root`` in ``docs`` (``(doc_id, text)`` pairs), as NVivo draws it.

    Every occurrence of ``root`` (a word or phrase, matched as ``kwic.find_occurrences``
    does) inside its sentence contributes the up to ``depth`` words after it to the
    ``right`` tree and the up to ``depth`` words before it, nearest first, to the ``left``
    tree. Each tree is a trie of next words whose nodes count the occurrences passing
    through them; an occurrence whose sentence (or depth) ends at a node counts there and
    goes no further, so a node's count is at least the sum of its children's. A node with
    one child of the same count is merged with it into one phrase node. Left phrases read
    in text order ("the real" for "... the real skills gap"), though the left tree grows
    away from the root.

    A node is ``{"phrase", "count", "children", "occurrences"}``: ``children`` sorted by
    count, descending, then phrase (the ``max_children`` first, if given); ``occurrences``
    the distinct ``[doc_id, sentence_start, sentence_end]`` of the occurrences through it.
    The top node of each side has phrase "" and counts every occurrence of the root.
    Phrases are normalised words joined by spaces; branch words are never stemmed. The
    result's ``root`` is the root as matched: its normalised words, the synonym group
    label, or, for stem grouping, the most frequent matched form. ``occurrences``, when
    given, are the root's occurrences already found (``docs`` is then not read).
    """
    right, left = _Node(), _Node()
    forms: Counter[str] = Counter()
    target = tuple(words(root, options))
    label = " ".join(target)
    if isinstance(grouping, Mapping):
        label = synonym_members(grouping, options).get(target, label)
    if occurrences is None:
        occurrences = find_occurrences(docs, root, grouping=grouping, options=options)
    for occ in occurrences:
        lo, hi = occ.sentence_tokens
        key = (occ.doc_id, *occ.sentence)
        found = occ.found
        right.add([t.word for t in found[occ.last : min(occ.last + depth, hi)]], key)
        before = found[max(occ.first - depth, lo) : occ.first]
        left.add([t.word for t in reversed(before)], key)
        forms[occ.matched] += 1
        label = occ.label
    if grouping == "stem" and forms:
        label = min(forms, key=lambda form: (-forms[form], form))
    return {
        "root": label,
        "count": right.count,
        "right": _render(right, [], False, max_children, top=True),
        "left": _render(left, [], True, max_children, top=True),
    }


def _render(
    node: _Node, phrase: list[str], reverse: bool, max_children: int | None, *, top: bool = False
) -> dict[str, Any]:
    # Follow the chain of single children that every occurrence continues into.
    while not top and len(node.children) == 1:
        ((word, child),) = node.children.items()
        if child.count != node.count:
            break
        phrase.append(word)
        node = child
    children = [
        _render(child, [word], reverse, max_children) for word, child in node.children.items()
    ]
    children.sort(key=lambda c: (-c["count"], c["phrase"]))
    if max_children is not None:
        children = children[:max_children]
    return {
        "phrase": " ".join(reversed(phrase) if reverse else phrase),
        "count": node.count,
        "children": children,
        "occurrences": [list(key) for key in node.occurrences],
    }

// Offsets: the server counts Unicode code points; JavaScript strings count UTF-16 units.
// These convert between the two for one string, so a span after an emoji or a
// mathematical-bold letter (both outside the Basic Multilingual Plane) stays exact.

/** Code point offset of a UTF-16 offset into `text`. */
export function utf16ToCodePoint(text, utf16Offset) {
  let cp = 0;
  for (let i = 0; i < utf16Offset && i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low surrogate is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    cp++;
  }
  return cp;
}

/** UTF-16 offset of a code point offset into `text`. */
export function codePointToUtf16(text, cpOffset) {
  let i = 0;
  for (let cp = 0; cp < cpOffset && i < text.length; cp++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    i++;
  }
  return i;
}

/** The UTF-16 offset of a DOM point (node, offset) within `container`'s text. */
export function domPointToUtf16(container, node, offset) {
  const range = document.createRange();
  range.setStart(container, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

/** Code point [start, end) of the current selection inside `container`, or null. */
export function selectionToCodePoints(container, text) {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) {
    return null;
  }
  let a = domPointToUtf16(container, range.startContainer, range.startOffset);
  let b = domPointToUtf16(container, range.endContainer, range.endOffset);
  if (a > b) [a, b] = [b, a];
  const start = utf16ToCodePoint(text, a);
  const end = utf16ToCodePoint(text, b);
  return start < end ? { start, end } : null;
}

/** Select the code point span [start, end) of `container` (used by keyboard and tests). */
export function selectCodePoints(container, text, start, end) {
  const a = codePointToUtf16(text, start);
  const b = codePointToUtf16(text, end);
  const range = document.createRange();
  const startPoint = locate(container, a);
  const endPoint = locate(container, b);
  range.setStart(startPoint.node, startPoint.offset);
  range.setEnd(endPoint.node, endPoint.offset);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return range;
}

/**
 * A lookup from code point spans of `container`'s text to DOM Ranges, built once per
 * drawing: text nodes with their UTF-16 start offsets and a code point → UTF-16 table,
 * so each span costs two binary searches (hundreds of codings stay fast).
 */
export function spanLocator(container, text) {
  const nodes = [];
  const starts = [];
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  let at = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push(node);
    starts.push(at);
    at += node.data.length;
  }
  const utf16 = [];
  let i = 0;
  for (const ch of text) { utf16.push(i); i += ch.length; }
  utf16.push(i);
  const point = (offset) => {
    let lo = 0;
    let hi = nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { node: nodes[lo], offset: offset - starts[lo] };
  };
  return (start, end) => {
    const range = document.createRange();
    if (!nodes.length) return range;
    const a = point(utf16[Math.min(start, utf16.length - 1)]);
    const b = point(utf16[Math.min(end, utf16.length - 1)]);
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    return range;
  };
}

function locate(container, utf16Offset) {
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  let remaining = utf16Offset;
  let node = walker.nextNode();
  let last = null;
  while (node) {
    if (remaining <= node.data.length) return { node, offset: remaining };
    remaining -= node.data.length;
    last = node;
    node = walker.nextNode();
  }
  return last ? { node: last, offset: last.data.length } : { node: container, offset: 0 };
}

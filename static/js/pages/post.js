// The post page: a post with its codings highlighted and striped, coded by mouse or keyboard,
// kept up to date with other coders' work by polling the project's change feed.
import { api } from "../lib/api.js";
import { codePointToUtf16, selectionToCodePoints, spanLocator } from "../lib/offsets.js";
import * as stripes from "../charts/stripes.js";

const data = JSON.parse(document.getElementById("page-data").textContent);
const text = data.post.text;
let codes = new Map(data.codes.map((c) => [c.id, c]));
let codings = data.codings;
let since = data.since;
let pending = null; // the code point span waiting for a code
let active = 0; // highlighted option in the menu

const $ = (id) => document.getElementById(id);
const container = $("post-text");
const stripeBox = $("stripes");
const list = $("coding-list");
const empty = $("coding-empty");
const menu = $("code-menu");
const filter = $("code-filter");
const options = $("code-options");
const newCode = $("new-code");
const popover = $("coding-popover");
const status = $("status");
const RECENT_KEY = `grounded:recent-codes:${data.project}:${data.user.id}`;
const PIN_KEY = `grounded:pinned-codes:${data.project}:${data.user.id}`;
const POLL_MS = 2500;

// The queue's count above the post: a post counts as coded once it holds a coding of the
// coder's or is marked coded, as the queue page counts it.
const queueDone = $("queue-done");
const queueProgress = $("queue-progress");
const countedHere = () =>
  $("mark-done")?.getAttribute("aria-pressed") === "true" ||
  codings.some((c) => c.coder.id === data.user.id);
const queueBase = queueProgress ? Number(queueProgress.value) - (countedHere() ? 1 : 0) : 0;
function renderQueueCount() {
  if (!queueProgress) return;
  const n = queueBase + (countedHere() ? 1 : 0);
  queueProgress.value = n;
  queueDone.textContent = `${n} of ${queueProgress.max} coded`;
}

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("error", isError);
}

const short = (s, n = 60) => (s.length > n ? `${s.slice(0, n)}…` : s);
const codeName = (id) => codes.get(id)?.name ?? "(deleted code)";

// ---------------------------------------------------------------- drawing the post

// Split the text at every coding boundary and wrap covered segments in a coloured mark.
function renderText() {
  const bounds = new Set([0, text.length]);
  const spans = codings.map((c) => ({
    ...c,
    a: codePointToUtf16(text, c.start),
    b: codePointToUtf16(text, c.end),
  }));
  spans.forEach((s) => { bounds.add(s.a); bounds.add(s.b); });
  const pend = pending && { a: codePointToUtf16(text, pending.start), b: codePointToUtf16(text, pending.end) };
  if (pend) { bounds.add(pend.a); bounds.add(pend.b); }
  const cuts = [...bounds].sort((x, y) => x - y);
  // Sweep once over the cuts with the spans sorted by start: a 3,000-word post with
  // 500 codings stays fast (no segment × coding scan).
  spans.sort((x, y) => x.a - y.a);
  const open = [];
  let next = 0;
  const fragment = document.createDocumentFragment();
  for (let i = 0; i < cuts.length - 1; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    while (next < spans.length && spans[next].a <= a) open.push(spans[next++]);
    for (let j = open.length - 1; j >= 0; j--) if (open[j].b <= a) open.splice(j, 1);
    const segment = text.slice(a, b);
    if (pend && pend.a <= a && pend.b >= b) {
      const mark = document.createElement("mark");
      mark.className = "pending";
      mark.textContent = segment;
      fragment.appendChild(mark);
      continue;
    }
    if (!open.length) {
      fragment.appendChild(document.createTextNode(segment));
      continue;
    }
    // The shortest covering span is drawn on top, so nested codings stay visible.
    const covering = [...open].sort((x, y) => (x.b - x.a) - (y.b - y.a));
    const top = covering[0];
    const mark = document.createElement("mark");
    mark.className = covering.length > 1 ? "hl overlap" : "hl";
    mark.dataset.codings = covering.map((s) => s.id).join(" ");
    mark.style.backgroundColor = codes.get(top.code)?.colour || "#ddd";
    mark.title = covering.map((s) => `${codeName(s.code)} (${s.coder.username})`).join("\n");
    mark.textContent = segment;
    fragment.appendChild(mark);
  }
  container.replaceChildren(fragment);
}

function renderStripes() {
  const box = container.getBoundingClientRect();
  const rangeOf = spanLocator(container, text);
  const items = [];
  for (const c of codings) {
    // The first and last line boxes of the span give its vertical extent.
    const rects = rangeOf(c.start, c.end).getClientRects();
    let top = Infinity;
    let bottom = -Infinity;
    for (const r of rects) {
      if (r.width <= 0.5) continue;
      if (r.top < top) top = r.top;
      if (r.bottom > bottom) bottom = r.bottom;
    }
    if (top === Infinity) continue;
    const code = codes.get(c.code);
    items.push({
      id: c.id,
      code: c.code,
      name: code?.name ?? "(deleted)",
      colour: code?.colour ?? "#ccc",
      top: top - box.top,
      bottom: bottom - box.top,
      title: `${code?.path.join(" › ")}: “${short(c.quote, 80)}” (${c.coder.username})`,
    });
  }
  stripes.render(stripeBox, items, { height: container.offsetHeight, onClick: showPopover });
  // More lanes than the column holds (a long document coded to forty codes): the lanes
  // scroll sideways, and the text keeps its width.
  const svg = stripeBox.querySelector("svg");
  stripeBox.classList.toggle("many", Boolean(svg) && svg.getBoundingClientRect().width > stripeBox.clientWidth + 1);
}

function renderList() {
  const sorted = [...codings].sort((x, y) => x.start - y.start || x.end - y.end);
  const items = d3.select(list).selectAll("li").data(sorted, (c) => c.id).join("li")
    .attr("id", (c) => `coding-${c.id}`)
    .attr("class", "coding-item");
  items.selectAll("*").remove();
  items.append("span").attr("class", "swatch").style("background", (c) => codes.get(c.code)?.colour);
  items.append("a").attr("class", "code-name")
    .attr("href", (c) => data.code_url.replace("/0/", `/${c.code}/`))
    .text((c) => codes.get(c.code)?.path.join(" › ") ?? "(deleted code)");
  items.append("q").attr("class", "quote").text((c) => c.quote);
  items.append("span").attr("class", "muted small")
    .text((c) => `${c.coder.username} · ${new Date(c.created_at).toLocaleString()}`);
  items.filter((c) => c.memo).append("p").attr("class", "memo small").text((c) => `Memo: ${c.memo}`);
  const mine = items.filter((c) => c.coder.id === data.user.id);
  mine.append("button").attr("class", "linklike memo-edit").attr("type", "button")
    .text((c) => (c.memo ? "Edit memo" : "Add memo"))
    .on("click", (event, c) => editMemo(c));
  mine.append("button").attr("class", "linklike remove").attr("type", "button")
    .attr("aria-label", (c) => `Remove the coding ${codeName(c.code)}`).text("Remove")
    .on("click", (event, c) => removeCoding(c));
  empty.hidden = codings.length > 0;
}

function render() {
  const started = performance.now();
  renderText();
  performance.measure("grounded:text", { start: started });
  renderStripes();
  performance.measure("grounded:stripes", { start: started });
  renderList();
  renderQueueCount();
  // Read by bench/post_render_bench.py (a 3,000-word post with 500 codings).
  performance.measure("grounded:render", { start: started });
}

// ---------------------------------------------------------------- popover on a highlight

function showPopover(ids, event) {
  const here = codings.filter((c) => ids.includes(c.id));
  if (!here.length) return;
  const items = d3.select("#popover-list").selectAll("li").data(here, (c) => c.id).join("li");
  items.selectAll("*").remove();
  items.append("span").attr("class", "swatch").style("background", (c) => codes.get(c.code)?.colour);
  items.append("strong").text((c) => codeName(c.code));
  items.append("span").attr("class", "muted small")
    .text((c) => ` ${c.coder.username} · ${new Date(c.created_at).toLocaleString()}`);
  items.filter((c) => c.memo).append("p").attr("class", "memo small").text((c) => c.memo);
  items.filter((c) => c.coder.id === data.user.id).append("button")
    .attr("type", "button").attr("class", "linklike remove").text("Remove")
    .on("click", (e, c) => { hidePopover(); removeCoding(c); });
  popover.hidden = false;
  popover.style.left = `${Math.min(event.pageX + 8, window.scrollX + window.innerWidth - 340)}px`;
  popover.style.top = `${event.pageY + 12}px`;
  flash(ids);
}

function hidePopover() { popover.hidden = true; }

function flash(ids) {
  ids.forEach((id) => {
    const item = $(`coding-${id}`);
    if (!item) return;
    item.classList.add("flash");
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    setTimeout(() => item.classList.remove("flash"), 1200);
  });
}

container.addEventListener("click", (event) => {
  const mark = event.target.closest("mark.hl");
  if (!mark || !window.getSelection().isCollapsed) return;
  showPopover(mark.dataset.codings.split(" ").map(Number), event);
});

// ---------------------------------------------------------------- the code menu

function readList(key) {
  try { return JSON.parse(localStorage.getItem(key)) || []; } catch { return []; }
}

function recentCodes() { return readList(RECENT_KEY).filter((id) => codes.has(id)); }

function remember(codeId) {
  const recent = [codeId, ...recentCodes().filter((id) => id !== codeId)].slice(0, 5);
  localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
}

// Pinned codes answer to 1-9. Until a coder pins any, the first nine codes (leaves first)
// are pinned, so the number keys work from the first post.
function pinnedCodes() {
  const stored = readList(PIN_KEY).filter((id) => codes.has(id));
  if (stored.length) return stored.slice(0, 9);
  const all = [...codes.values()];
  return [...all.filter((c) => c.level === "code"), ...all.filter((c) => c.level !== "code")]
    .slice(0, 9).map((c) => c.id);
}

function togglePin(codeId) {
  let pins = pinnedCodes();
  pins = pins.includes(codeId) ? pins.filter((id) => id !== codeId) : [...pins, codeId].slice(-9);
  localStorage.setItem(PIN_KEY, JSON.stringify(pins));
  renderOptions();
}

function matchingCodes() {
  const query = filter.value.trim().toLowerCase();
  const all = [...codes.values()];
  if (!query) {
    const pins = pinnedCodes();
    const first = [...pins, ...recentCodes().filter((id) => !pins.includes(id))]
      .map((id) => codes.get(id));
    return [...first, ...all.filter((c) => !first.includes(c))];
  }
  // Names that start with the query come first, then any code whose path contains it.
  const hits = all.filter((c) => c.path.join(" ").toLowerCase().includes(query));
  const starts = (c) => (c.name.toLowerCase().startsWith(query) ? 0 : 1);
  return hits.sort((x, y) => starts(x) - starts(y));
}

function renderOptions() {
  const matches = matchingCodes();
  const pins = pinnedCodes();
  const recent = recentCodes();
  active = Math.min(active, Math.max(matches.length - 1, 0));
  d3.select(options).selectAll("li.muted").remove();
  const items = d3.select(options).selectAll("li.code-option").data(matches, (c) => c.id)
    .join("li")
    .attr("role", "option")
    .attr("id", (c) => `option-${c.id}`)
    .attr("class", (c, i) => `code-option level-${c.level}${i === active ? " active" : ""}`)
    .attr("aria-selected", (c, i) => i === active)
    .attr("data-code", (c) => c.id)
    .on("mousedown", (event) => event.preventDefault()) // keep the text selection
    .on("click", (event, c) => {
      if (event.target.closest(".pin")) togglePin(c.id);
      else applyCode(c);
    });
  items.selectAll("*").remove();
  items.append("kbd").attr("class", "key")
    .text((c) => (pins.includes(c.id) ? String(pins.indexOf(c.id) + 1) : ""));
  items.append("span").attr("class", "swatch").style("background", (c) => c.colour);
  items.append("span").attr("class", "option-name").text((c) => c.name);
  items.append("span").attr("class", "option-path muted small")
    .text((c) => (recent.includes(c.id) && !filter.value ? "recent · " : "") + c.path.slice(0, -1).join(" › "));
  items.append("button").attr("type", "button").attr("class", "pin linklike")
    .attr("title", (c) => (pins.includes(c.id) ? "Unpin" : "Pin to a number key"))
    .attr("aria-label", (c) => `${pins.includes(c.id) ? "Unpin" : "Pin"} ${c.name}`)
    .text((c) => (pins.includes(c.id) ? "★" : "☆"));
  filter.setAttribute("aria-activedescendant", matches[active] ? `option-${matches[active].id}` : "");
  if (!matches.length) d3.select(options).append("li").attr("class", "muted small").text("No code matches.");
  const typed = filter.value.trim();
  const selected = pending ? text.slice(codePointToUtf16(text, pending.start), codePointToUtf16(text, pending.end)) : "";
  const name = typed && !matches.some((c) => c.name.toLowerCase() === typed.toLowerCase())
    ? typed : inVivoName(selected);
  newCode.hidden = !data.may_create_codes || !name;
  newCode.textContent = typed && name === typed ? `+ New code “${short(name, 40)}”` : `+ New in-vivo code “${short(name, 40)}”`;
  newCode.dataset.name = name;
  const item = options.querySelector(".active");
  if (item) item.scrollIntoView({ block: "nearest" });
}

function inVivoName(selected) {
  return selected.split(/\s+/).filter(Boolean).join(" ").replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "").slice(0, 80);
}

function openMenu() {
  const selection = window.getSelection();
  const rect = selection.rangeCount ? selection.getRangeAt(0).getBoundingClientRect() : container.getBoundingClientRect();
  hidePopover();
  menu.hidden = false;
  const top = window.scrollY + rect.bottom + 6;
  const left = Math.min(window.scrollX + rect.left, window.scrollX + window.innerWidth - menu.offsetWidth - 12);
  menu.style.top = `${top}px`;
  menu.style.left = `${Math.max(left, 8)}px`;
  filter.value = "";
  active = 0;
  renderText(); // shows the pending span, since focus moves to the filter box
  renderOptions();
  filter.focus({ preventScroll: true });
}

function closeMenu({ keepFocus = false } = {}) {
  menu.hidden = true;
  if (stale) {
    stale = false;
    pending = null;
    render();
  } else if (pending) {
    pending = null;
    renderText();
  }
  if (keepFocus) container.focus({ preventScroll: true });
}

async function applyCode(code) {
  if (!pending) return;
  const span = pending;
  closeMenu();
  try {
    const coding = await api(data.api.codings, {
      method: "POST",
      json: { post: data.post.id, code: code.id, start: span.start, end: span.end },
    });
    addCoding(coding);
    remember(code.id);
    window.getSelection().removeAllRanges();
    render();
    container.focus({ preventScroll: true });
    say(`Coded “${short(coding.quote)}” as ${code.name}.`);
  } catch (error) {
    say(`Could not save the coding: ${error.message}`, true);
  }
}

async function createAndApply(name) {
  if (!pending || !name) return;
  try {
    const code = await api(data.api.codes, {
      method: "POST",
      json: { project: data.project, name, parent: null, colour: "#fdd0a2" },
    });
    await refreshCodes();
    await applyCode(codes.get(code.id));
  } catch (error) {
    say(`Could not create the code: ${error.message}`, true);
  }
}

function addCoding(coding) {
  if (coding.post !== data.post.id || codings.some((c) => c.id === coding.id)) return false;
  codings.push({ ...coding, coder: { id: coding.coder.id, username: coding.coder.username } });
  return true;
}

async function removeCoding(coding) {
  try {
    await api(`${data.api.codings}${coding.id}/`, { method: "DELETE" });
    codings = codings.filter((c) => c.id !== coding.id);
    render();
    say(`Removed the coding “${codeName(coding.code)}”.`);
  } catch (error) {
    say(`Could not remove the coding: ${error.message}`, true);
  }
}

// The memo of one's own coding is edited in place, in its list item.
function editMemo(coding) {
  const item = d3.select(`#coding-${coding.id}`);
  if (!item.select("form.memo-inline").empty()) return;
  item.selectAll(".memo, .memo-edit").remove();
  const form = item.append("form").attr("class", "memo-inline");
  const box = form.append("textarea").attr("rows", 2).attr("maxlength", 20000)
    .attr("aria-label", "Memo on this coding").property("value", coding.memo || "");
  form.append("button").attr("type", "submit").text("Save memo");
  form.append("button").attr("type", "button").attr("class", "linklike").text("Cancel")
    .on("click", () => renderList());
  box.node().focus();
  box.on("keydown", (event) => {
    if (event.key === "Escape") renderList();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.node().requestSubmit();
  });
  form.on("submit", async (event) => {
    event.preventDefault();
    const memo = box.property("value");
    try {
      const saved = await api(`${data.api.codings}${coding.id}/`, { method: "PATCH", json: { memo } });
      coding.memo = saved.memo;
      renderList();
      say(memo ? "Memo saved." : "Memo removed.");
    } catch (error) {
      say(`Could not save the memo: ${error.message}`, true);
    }
  });
}

function onSelectionDone() {
  if (!menu.hidden && menu.contains(document.activeElement)) return;
  const span = selectionToCodePoints(container, text);
  if (!span) return false;
  if (!data.may_code) {
    say("This post is not in your queue: coders code the posts assigned to them.", true);
    return false;
  }
  pending = span;
  if (!codes.size && !data.may_create_codes) {
    say("The codebook is empty: a supervisor adds themes and codes first.", true);
    return false;
  }
  openMenu();
  return true;
}

// ---------------------------------------------------------------- keyboard

// The text is contenteditable only so the browser gives a caret and Shift+arrow selection;
// nothing may change it.
["beforeinput", "paste", "drop", "cut"].forEach((type) =>
  container.addEventListener(type, (event) => event.preventDefault()));
container.addEventListener("mouseup", () => setTimeout(onSelectionDone, 0));
container.addEventListener("keydown", (event) => {
  const selection = window.getSelection();
  const hasSelection = selection && !selection.isCollapsed;
  if (event.key === "Enter") {
    event.preventDefault();
    if (hasSelection) onSelectionDone();
  } else if (/^[1-9]$/.test(event.key) && hasSelection && !event.altKey && !event.ctrlKey) {
    event.preventDefault();
    const span = selectionToCodePoints(container, text);
    const id = pinnedCodes()[Number(event.key) - 1];
    if (span && id && data.may_code) { pending = span; applyCode(codes.get(id)); }
  }
});

filter.addEventListener("input", () => { active = 0; renderOptions(); });
filter.addEventListener("keydown", (event) => {
  const matches = matchingCodes();
  if (/^[1-9]$/.test(event.key) && !filter.value) {
    const id = pinnedCodes()[Number(event.key) - 1];
    if (id) { event.preventDefault(); applyCode(codes.get(id)); }
  } else if (event.key === "ArrowDown") { active = Math.min(active + 1, matches.length - 1); renderOptions(); event.preventDefault(); }
  else if (event.key === "ArrowUp") { active = Math.max(active - 1, 0); renderOptions(); event.preventDefault(); }
  else if (event.key === "Enter") {
    event.preventDefault();
    if (matches[active]) applyCode(matches[active]);
    else if (!newCode.hidden) createAndApply(newCode.dataset.name);
  } else if (event.key === "Escape") { closeMenu({ keepFocus: true }); }
});
newCode.addEventListener("mousedown", (event) => event.preventDefault());
newCode.addEventListener("click", () => createAndApply(newCode.dataset.name));
document.addEventListener("mousedown", (event) => {
  if (!menu.hidden && !menu.contains(event.target)) closeMenu();
  if (!popover.hidden && !popover.contains(event.target)) hidePopover();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") hidePopover();
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "ArrowRight" && data.next_post) { event.preventDefault(); location.href = data.next_post; }
  else if (event.key === "ArrowLeft" && data.previous_post) { event.preventDefault(); location.href = data.previous_post; }
  else if ((event.key === "d" || event.key === "D" || event.code === "KeyD") && data.in_queue) { event.preventDefault(); toggleDone(); }
});

// ---------------------------------------------------------------- queue and memos

const doneButton = $("mark-done");
async function toggleDone() {
  const done = doneButton.getAttribute("aria-pressed") !== "true";
  try {
    await api(data.api.done, { method: "POST", json: { done } });
    doneButton.setAttribute("aria-pressed", String(done));
    doneButton.classList.toggle("on", done);
    doneButton.textContent = done ? "✓ Coded" : "Mark coded";
    renderQueueCount();
    say(done ? "Marked coded." : "Marked not coded yet.");
    if (done && data.next_post) say("Marked coded. Alt+→ opens the next post.");
  } catch (error) {
    say(`Could not mark the post: ${error.message}`, true);
  }
}
if (doneButton) doneButton.addEventListener("click", toggleDone);

function renderMemos(memos) {
  const others = memos.filter((m) => !m.mine);
  d3.select("#memo-list").selectAll("li").data(others).join("li")
    .attr("class", "memo")
    .text((m) => `${m.author}: ${m.text}`);
  const mine = memos.find((m) => m.mine);
  $("memo-text").value = mine ? mine.text : "";
}
$("memo-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const memos = await api(data.api.memos, { method: "PUT", json: { text: $("memo-text").value } });
    renderMemos(memos.map((m) => ({ ...m, mine: m.author === data.user.username })));
    say($("memo-text").value.trim() ? "Your memo on this post is saved." : "Your memo on this post is removed.");
  } catch (error) {
    say(`Could not save the memo: ${error.message}`, true);
  }
});

// ---------------------------------------------------------------- live updates

async function refreshCodes() {
  const tree = await api(`${data.api.codes}tree/?project=${encodeURIComponent(data.project)}`);
  const flat = [];
  const walk = (node) => { flat.push(node); node.children.forEach(walk); };
  tree.forEach(walk);
  codes = new Map(flat.map((c) => [c.id, c]));
  renderSidebar(tree);
}

// The codebook beside the post, redrawn when someone changes it.
function renderSidebar(tree) {
  const aside = document.querySelector("aside.codebook");
  if (!aside) return;
  aside.querySelectorAll(":scope > ul.tree, :scope > p.empty").forEach((el) => el.remove());
  if (!tree.length) {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = "No codes yet.";
    aside.appendChild(empty);
    return;
  }
  const build = (nodes) => {
    const ul = document.createElement("ul");
    for (const node of nodes) {
      const li = document.createElement("li");
      li.className = `tree-node level-${node.level}`;
      const link = document.createElement("a");
      link.href = data.code_url.replace("/0/", `/${node.id}/`);
      link.title = node.definition || "";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = node.colour;
      link.append(swatch, node.name);
      li.appendChild(link);
      if (node.children.length) li.appendChild(build(node.children));
      ul.appendChild(li);
    }
    return ul;
  };
  const root = build(tree);
  root.className = "tree";
  aside.appendChild(root);
}

async function refreshCodings() {
  let url = `${data.api.codings}?post=${data.post.id}`;
  const all = [];
  while (url) {
    const page = await api(url);
    all.push(...page.results);
    url = page.next;
  }
  codings = all;
}

let polling = false;
let stale = false;
async function poll() {
  if (polling || document.hidden) return;
  polling = true;
  try {
    const feed = await api(`${data.api.changes}?since=${since}&post=${data.post.id}`);
    since = feed.latest;
    let redraw = false;
    let codebook = false;
    let reloadCodings = false;
    for (const change of feed.changes) {
      if (change.kind === "coding.add" && change.after) redraw = addCoding(change.after) || redraw;
      else if (change.kind === "coding.remove" && change.post === data.post.id) {
        codings = codings.filter((c) => c.id !== change.coding);
        redraw = true;
      } else if (change.kind === "coding.memo" && change.post === data.post.id) {
        const c = codings.find((x) => x.id === change.coding);
        if (c) { c.memo = change.after.memo; redraw = true; }
      } else if (change.kind.startsWith("code.")) {
        codebook = true;
        if (["code.merge", "code.split", "code.delete", "code.restore"].includes(change.kind)) reloadCodings = true;
      } else if (change.kind === "project.settings" && "blind_coding" in (change.after || {})) {
        reloadCodings = true;
      }
    }
    if (feed.more) setTimeout(poll, 50);
    if (codebook) await refreshCodes();
    if (reloadCodings) await refreshCodings();
    if (redraw || codebook || reloadCodings) {
      if (menu.hidden) render();
      else stale = true; // drawn when the menu closes, so the selection is not lost
    }
  } catch (error) {
    if (error.status === 403 || error.status === 404) return;
  } finally {
    polling = false;
  }
}
setInterval(poll, POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
window.addEventListener("resize", () => renderStripes());

renderMemos(data.memos);
render();
if (location.hash.startsWith("#coding-")) flash([Number(location.hash.slice(8))]);

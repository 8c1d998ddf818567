// The post page: shows a post with its codings highlighted and codes a selected span.
import { api } from "../lib/api.js";
import { codePointToUtf16, selectionToCodePoints } from "../lib/offsets.js";

const data = JSON.parse(document.getElementById("page-data").textContent);
const text = data.post.text;
const codes = new Map(data.codes.map((c) => [c.id, c]));
let codings = data.codings;
let pending = null; // the code point span waiting for a code
let active = 0; // highlighted option in the menu

const container = document.getElementById("post-text");
const list = document.getElementById("coding-list");
const empty = document.getElementById("coding-empty");
const menu = document.getElementById("code-menu");
const filter = document.getElementById("code-filter");
const options = document.getElementById("code-options");
const status = document.getElementById("status");
const RECENT_KEY = `grounded:recent-codes:${data.user.id}`;

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle("error", isError);
}

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
  const root = d3.select(container);
  root.selectAll("*").remove();
  container.textContent = "";
  for (let i = 0; i < cuts.length - 1; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    const segment = text.slice(a, b);
    const covering = spans.filter((s) => s.a <= a && s.b >= b);
    if (pend && pend.a <= a && pend.b >= b) {
      root.append("mark").attr("class", "pending").text(segment);
      continue;
    }
    if (!covering.length) {
      container.appendChild(document.createTextNode(segment));
      continue;
    }
    // The shortest covering span is drawn on top, so nested codings stay visible.
    covering.sort((x, y) => (x.b - x.a) - (y.b - y.a));
    const top = covering[0];
    const colour = codes.get(top.code)?.colour || "#ddd";
    const mark = root.append("mark")
      .attr("class", covering.length > 1 ? "hl overlap" : "hl")
      .attr("data-codings", covering.map((s) => s.id).join(" "))
      .style("background-color", colour)
      .attr("title", covering.map((s) => `${codes.get(s.code)?.name} (${s.coder.username})`).join("\n"))
      .text(segment);
    mark.on("click", () => flash(covering.map((s) => s.id)));
  }
}

function flash(ids) {
  ids.forEach((id) => {
    const item = document.getElementById(`coding-${id}`);
    if (!item) return;
    item.classList.add("flash");
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    setTimeout(() => item.classList.remove("flash"), 1200);
  });
}

function renderList() {
  const sorted = [...codings].sort((x, y) => x.start - y.start || x.end - y.end);
  const items = d3.select(list).selectAll("li").data(sorted, (c) => c.id).join("li")
    .attr("id", (c) => `coding-${c.id}`)
    .attr("class", "coding-item");
  items.selectAll("*").remove();
  items.append("span").attr("class", "swatch").style("background", (c) => codes.get(c.code)?.colour);
  items.append("a").attr("class", "code-name")
    .attr("href", (c) => `../../codes/${c.code}/`)
    .text((c) => codes.get(c.code)?.path.join(" › ") ?? "(deleted code)");
  items.append("q").attr("class", "quote").text((c) => c.quote);
  items.append("span").attr("class", "muted small")
    .text((c) => `${c.coder.username} · ${new Date(c.created_at).toLocaleString()}`);
  items.filter((c) => c.coder.id === data.user.id)
    .append("button").attr("class", "linklike remove").attr("type", "button")
    .attr("aria-label", "Remove this coding").text("Remove")
    .on("click", (event, c) => removeCoding(c));
  empty.hidden = codings.length > 0;
}

function render() { renderText(); renderList(); }

function recentCodes() {
  try { return JSON.parse(localStorage.getItem(RECENT_KEY)) || []; } catch { return []; }
}

function remember(codeId) {
  const recent = [codeId, ...recentCodes().filter((id) => id !== codeId)].slice(0, 5);
  localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
}

function matchingCodes() {
  const query = filter.value.trim().toLowerCase();
  const all = [...codes.values()];
  if (!query) {
    const recent = recentCodes().map((id) => codes.get(id)).filter(Boolean);
    return [...recent, ...all.filter((c) => !recent.includes(c))];
  }
  return all.filter((c) => c.path.join(" ").toLowerCase().includes(query));
}

function renderOptions() {
  const matches = matchingCodes();
  active = Math.min(active, Math.max(matches.length - 1, 0));
  const items = d3.select(options).selectAll("li").data(matches, (c) => c.id).join("li")
    .attr("role", "option")
    .attr("class", (c, i) => `code-option level-${c.level}${i === active ? " active" : ""}`)
    .attr("aria-selected", (c, i) => i === active)
    .attr("data-code", (c) => c.id)
    .on("mousedown", (event) => event.preventDefault()) // keep the text selection
    .on("click", (event, c) => applyCode(c));
  items.selectAll("*").remove();
  items.append("span").attr("class", "swatch").style("background", (c) => c.colour);
  items.append("span").attr("class", "option-name").text((c) => c.name);
  items.append("span").attr("class", "option-path muted small")
    .text((c) => c.path.slice(0, -1).join(" › "));
  if (!matches.length) {
    d3.select(options).append("li").attr("class", "muted small").text("No code matches.");
  }
}

function openMenu() {
  const selection = window.getSelection();
  const rect = selection.getRangeAt(0).getBoundingClientRect();
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

function closeMenu() {
  menu.hidden = true;
  if (pending) {
    pending = null;
    renderText();
  }
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
    if (!codings.some((c) => c.id === coding.id)) {
      codings.push({ ...coding, coder: { id: coding.coder.id, username: coding.coder.username } });
    }
    remember(code.id);
    window.getSelection().removeAllRanges();
    render();
    say(`Coded “${coding.quote.slice(0, 60)}${coding.quote.length > 60 ? "…" : ""}” as ${code.name}.`);
  } catch (error) {
    say(`Could not save the coding: ${error.message}`, true);
  }
}

async function removeCoding(coding) {
  try {
    await api(`${data.api.codings}${coding.id}/`, { method: "DELETE" });
    codings = codings.filter((c) => c.id !== coding.id);
    render();
    say(`Removed the coding “${codes.get(coding.code)?.name}”.`);
  } catch (error) {
    say(`Could not remove the coding: ${error.message}`, true);
  }
}

function onSelectionDone() {
  if (!menu.hidden && menu.contains(document.activeElement)) return;
  const span = selectionToCodePoints(container, text);
  if (!span) return;
  pending = span;
  if (!codes.size) {
    say("The codebook is empty: a supervisor adds themes and codes first.", true);
    return;
  }
  openMenu();
}

container.addEventListener("mouseup", () => setTimeout(onSelectionDone, 0));
container.addEventListener("keyup", (event) => {
  if (event.shiftKey && event.key.startsWith("Arrow")) return; // still extending
  if (event.key === "Shift" || event.key === "Enter") onSelectionDone();
});
container.tabIndex = 0;

filter.addEventListener("input", () => { active = 0; renderOptions(); });
filter.addEventListener("keydown", (event) => {
  const matches = matchingCodes();
  if (event.key === "ArrowDown") { active = Math.min(active + 1, matches.length - 1); renderOptions(); event.preventDefault(); }
  else if (event.key === "ArrowUp") { active = Math.max(active - 1, 0); renderOptions(); event.preventDefault(); }
  else if (event.key === "Enter") { if (matches[active]) applyCode(matches[active]); event.preventDefault(); }
  else if (event.key === "Escape") { closeMenu(); container.focus(); }
});
document.addEventListener("mousedown", (event) => {
  if (!menu.hidden && !menu.contains(event.target)) closeMenu();
});

render();
if (location.hash.startsWith("#coding-")) flash([Number(location.hash.slice(8))]);

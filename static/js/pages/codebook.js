// The codebook page: the tree of themes → sub-themes → codes, the selected code's form,
// the codebook's history and live updates from the rest of the team.
import { api } from "../lib/api.js";

const data = JSON.parse(document.getElementById("page-data").textContent);
const $ = (id) => document.getElementById(id);
const FIELDS = ["name", "colour", "definition", "inclusion", "exclusion", "example", "memo"];
const LABELS = {
  name: "name",
  colour: "colour",
  definition: "definition",
  inclusion: "inclusion notes",
  exclusion: "exclusion notes",
  example: "example quote",
  memo: "memo",
};
const PALETTE = d3.schemeSet3;
const POLL_MS = 3000;

let tree = data.tree;
let nodes = new Map(); // id → tree node (with parentNode, total)
let selectedId = null;
let loaded = null; // the code as loaded into the form: what "dirty" compares against
let conflictMine = null; // {field: what the user typed} after a 409
let since = data.since;
let polling = false;
let dragId = null;
let addParent = undefined; // undefined: add form closed; null: a new theme; id: a sub-code
let lastDeleted = null;
const names = new Map(Object.entries(data.names).map(([id, name]) => [Number(id), name]));
const collapsed = new Set();

const treeEl = $("tree");
const filterEl = $("tree-filter");
const form = $("code-form"); // editors only
const view = $("code-view"); // readers only
const panel = form || view;
const statusEl = $("status");

// ------------------------------------------------------------------ helpers

function url(template, id) {
  return template.replace(/\/0\/(?!.*\/0\/)/, `/${id}/`);
}

function say(message, isError = false) {
  statusEl.textContent = message;
  statusEl.classList.toggle("error", isError);
}

function problem(error) {
  const errors = error.body?.errors || {};
  const first = Object.values(errors).flat()[0];
  return first && first !== error.message ? `${error.message} ${first}` : error.message;
}

function fail(what, error) {
  say(`${what}: ${problem(error)}`, true);
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function nameOf(id) {
  return names.get(id) ?? `code #${id}`;
}

function clip(text, n = 160) {
  text = text ?? "";
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function when(iso) {
  const at = new Date(iso);
  const seconds = (Date.now() - at.getTime()) / 1000;
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// ------------------------------------------------------------------ the tree

function index() {
  nodes = new Map();
  const walk = (list, parent) => {
    for (const node of list) {
      node.parentNode = parent;
      nodes.set(node.id, node);
      names.set(node.id, node.name);
      walk(node.children, node);
      node.total = node.count + node.children.reduce((sum, child) => sum + child.total, 0);
    }
  };
  walk(tree, null);
}

function flat() {
  const out = [];
  const walk = (list) => list.forEach((node) => { out.push(node); walk(node.children); });
  walk(tree);
  return out;
}

function subtreeIds(node) {
  const ids = new Set();
  const walk = (n) => { ids.add(n.id); n.children.forEach(walk); };
  walk(node);
  return ids;
}

function siblingsOf(node) {
  return node.parentNode ? node.parentNode.children : tree;
}

function matching(query) {
  const shown = new Set();
  for (const node of nodes.values()) {
    if (node.name.toLowerCase().includes(query) || node.definition.toLowerCase().includes(query)) {
      for (let n = node; n; n = n.parentNode) shown.add(n.id);
    }
  }
  return shown;
}

function appendHighlighted(element, text, query) {
  const at = query ? text.toLowerCase().indexOf(query) : -1;
  if (at < 0) { element.text(text); return; }
  element.append("span").text(text.slice(0, at));
  element.append("mark").text(text.slice(at, at + query.length));
  element.append("span").text(text.slice(at + query.length));
}

function renderTree() {
  const query = filterEl.value.trim().toLowerCase();
  const shown = query ? matching(query) : null;
  const focused = treeEl.contains(document.activeElement)
    ? document.activeElement.closest("[data-code-id]")?.dataset.codeId
    : null;
  const root = d3.select(treeEl);
  root.selectAll("*").remove();
  const build = (parent, list) => {
    const ul = parent.append("ul").attr("class", "cb-list");
    for (const node of list) {
      if (shown && !shown.has(node.id)) continue;
      const open = Boolean(query) || !collapsed.has(node.id);
      const li = ul.append("li").attr("class", `cb-node level-${node.level}`);
      const row = li.append("div")
        .attr("class", `cb-row${node.id === selectedId ? " selected" : ""}`)
        .attr("data-code-id", node.id);
      if (node.children.length) {
        row.append("button").attr("type", "button").attr("class", "cb-toggle")
          .attr("aria-expanded", open)
          .attr("aria-label", `${open ? "Collapse" : "Expand"} ${node.name}`)
          .text(open ? "▾" : "▸")
          .on("click", () => {
            if (collapsed.has(node.id)) collapsed.delete(node.id);
            else collapsed.add(node.id);
            renderTree();
          });
      } else {
        row.append("span").attr("class", "cb-toggle").attr("aria-hidden", "true");
      }
      row.append("span").attr("class", "swatch").style("background", node.colour);
      const name = row.append("button").attr("type", "button").attr("class", "cb-name")
        .attr("aria-current", node.id === selectedId ? "true" : null)
        .attr("title", node.definition || null)
        .on("click", () => select(node.id));
      appendHighlighted(name, node.name, query);
      row.append("span").attr("class", `cb-level cb-level-${node.level}`).text(node.level);
      row.append("span").attr("class", "cb-count")
        .attr("title", node.children.length
          ? `${plural(node.total, "coding")} with the codes below (${node.count} on “${node.name}” itself)`
          : plural(node.count, "coding"))
        .text(node.total);
      if (data.may_edit) dragHandlers(row, node);
      if (node.children.length && open) build(li, node.children);
    }
  };
  build(root, tree);
  $("tree-empty").hidden = !query || shown.size > 0;
  if (focused) treeEl.querySelector(`[data-code-id="${focused}"] .cb-name`)?.focus();
}

function renderSummary() {
  const all = [...nodes.values()];
  const count = (level) => all.filter((n) => n.level === level).length;
  const codings = all.reduce((sum, n) => sum + n.count, 0);
  $("cb-summary").textContent = all.length
    ? `${plural(count("theme"), "theme")} · ${plural(count("sub-theme"), "sub-theme")} · ` +
      `${plural(count("code"), "code")} · ${plural(codings, "coding")}`
    : "";
  $("empty-state").hidden = all.length > 0;
  $("tree-none").hidden = all.length > 0;
  filterEl.hidden = all.length === 0;
  if (!all.length && data.may_create && addParent === undefined) openAdd(null, false);
}

// Drag a row onto another: its top quarter puts it before, its bottom quarter after,
// the middle under that code.
function dropPlace(event, row, target) {
  if (dragId == null || dragId === target.id) return null;
  const dragged = nodes.get(dragId);
  if (!dragged || subtreeIds(dragged).has(target.id)) return null;
  const box = row.getBoundingClientRect();
  const y = (event.clientY - box.top) / box.height;
  return y < 0.25 ? "before" : y > 0.75 ? "after" : "inside";
}

function clearDrop() {
  treeEl.querySelectorAll(".drop-before, .drop-after, .drop-inside")
    .forEach((el) => el.classList.remove("drop-before", "drop-after", "drop-inside"));
}

function dragHandlers(row, node) {
  row.attr("draggable", "true")
    .on("dragstart", (event) => {
      dragId = node.id;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", node.name);
      row.classed("dragging", true);
      $("root-drop").hidden = node.parentNode == null;
    })
    .on("dragend", () => {
      dragId = null;
      row.classed("dragging", false);
      clearDrop();
      $("root-drop").hidden = true;
    })
    .on("dragover", (event) => {
      const place = dropPlace(event, row.node(), node);
      if (!place) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      clearDrop();
      row.classed(`drop-${place}`, true);
    })
    .on("dragleave", () => row.classed("drop-before drop-after drop-inside", false))
    .on("drop", (event) => {
      const place = dropPlace(event, row.node(), node);
      event.preventDefault();
      clearDrop();
      if (!place) return;
      const code = nodes.get(dragId);
      if (place === "inside") {
        move(code, node, node.children.filter((c) => c.id !== code.id).length);
      } else {
        const siblings = siblingsOf(node).filter((c) => c.id !== code.id);
        move(code, node.parentNode, siblings.indexOf(node) + (place === "after" ? 1 : 0));
      }
    });
}

function rootDropHandlers() {
  const zone = $("root-drop");
  if (!zone) return;
  zone.addEventListener("dragover", (event) => {
    if (dragId == null) return;
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const code = nodes.get(dragId);
    if (code) move(code, null, tree.filter((c) => c.id !== code.id).length);
  });
}

async function move(code, parent, position) {
  const parentId = parent ? parent.id : null;
  try {
    const fresh = await api(`${url(data.api.code, code.id)}move/`, {
      method: "POST",
      json: { parent: parentId, position, version: code.version },
    });
    if (loaded && loaded.id === code.id) loaded.version = fresh.version;
    const moved = (code.parentNode?.id ?? null) !== parentId;
    say(!moved
      ? `Reordered “${code.name}”.`
      : parent ? `Moved “${code.name}” under “${parent.name}”.`
      : `Moved “${code.name}” to the top: it is now a theme.`);
    if (parent) collapsed.delete(parent.id);
    await reload();
  } catch (error) {
    if (error.status === 409) {
      say(`Someone changed “${code.name}” meanwhile; the codebook is reloaded, please try again.`, true);
      await reload();
    } else {
      fail(`Could not move “${code.name}”`, error);
    }
  }
}

// ------------------------------------------------------------------ the selected code

function field(name) {
  return $(`f-${name}`);
}

function same(name, a, b) {
  a = a ?? "";
  b = b ?? "";
  return name === "colour" ? a.toLowerCase() === b.toLowerCase() : a === b;
}

function dirtyFields() {
  if (!form || !loaded) return [];
  return FIELDS.filter((name) => !same(name, field(name).value, loaded[name]));
}

function isDirty() {
  return dirtyFields().length > 0;
}

function renderHeader(node) {
  $("edit-title").textContent = node.name;
  $("edit-swatch").style.background = node.colour;
  $("edit-level").textContent = node.level;
  $("edit-path").textContent = node.path.length > 1
    ? `In ${node.path.slice(0, -1).join(" › ")}`
    : "A theme: at the top of the codebook";
  $("edit-count").textContent = node.total;
  $("edit-quotes").href = url(data.code_page, node.id);
  if (form) {
    $("edit-version").textContent = `version ${loaded?.version ?? node.version}`;
    const siblings = siblingsOf(node);
    $("move-up").disabled = siblings[0] === node;
    $("move-down").disabled = siblings[siblings.length - 1] === node;
    $("split-open").disabled = node.count === 0;
    $("split-open").title = node.count === 0 ? "No codings on this code itself to split off" : "";
  }
}

function fillForm(code) {
  loaded = Object.fromEntries([...FIELDS, "id", "version"].map((k) => [k, code[k]]));
  if (form) {
    FIELDS.forEach((name) => { field(name).value = code[name] ?? ""; });
    fillMoveSelect(nodes.get(code.id));
    $("remote-notice").hidden = true;
  } else {
    for (const name of ["definition", "inclusion", "exclusion", "example", "memo"]) {
      const dd = $(`v-${name}`);
      dd.textContent = code[name] || "—";
      dd.classList.toggle("muted", !code[name]);
    }
  }
  const node = nodes.get(code.id);
  if (node) renderHeader(node);
}

function fillMoveSelect(node) {
  const select = d3.select("#move-parent");
  select.selectAll("*").remove();
  if (!node) return;
  const blocked = subtreeIds(node);
  select.append("option").attr("value", "").text("(top level: a theme)");
  for (const n of flat()) {
    if (blocked.has(n.id)) continue;
    select.append("option").attr("value", n.id)
      .property("selected", node.parentNode?.id === n.id)
      .text(`${"\u00a0\u00a0\u00a0".repeat(n.depth)}${n.name}`);
  }
  if (!node.parentNode) select.property("value", "");
}

function select(id, { force = false } = {}) {
  if (!force && id !== selectedId && isDirty()
      && !window.confirm(`Discard your unsaved changes to “${loaded.name}”?`)) return;
  const node = nodes.get(id);
  if (!node) return;
  selectedId = id;
  hideConflict();
  closeAdd();
  fillForm(node);
  panel.hidden = false;
  $("pick-hint").hidden = true;
  $("history-this").disabled = false;
  history.replaceState(null, "", `#code-${id}`);
  renderTree();
  if ($("history-this").checked) loadHistory();
}

function clearSelection() {
  selectedId = null;
  loaded = null;
  panel.hidden = true;
  $("pick-hint").hidden = nodes.size === 0;
  $("history-this").disabled = true;
  $("history-this").checked = false;
  history.replaceState(null, "", location.pathname);
}

async function save(event) {
  event.preventDefault();
  const changed = dirtyFields();
  if (!changed.length) { say("Nothing to save: no field has changed."); return; }
  if (!field("name").value.trim()) {
    say("A code needs a name.", true);
    field("name").focus();
    return;
  }
  const json = { version: loaded.version };
  changed.forEach((name) => { json[name] = field(name).value; });
  const mine = Object.fromEntries(FIELDS.map((name) => [name, field(name).value]));
  $("save").disabled = true;
  try {
    const fresh = await api(url(data.api.code, loaded.id), { method: "PATCH", json });
    hideConflict();
    const node = nodes.get(fresh.id);
    if (node) Object.assign(node, Object.fromEntries([...FIELDS, "version"].map((k) => [k, fresh[k]])));
    fillForm(fresh);
    say(`Saved “${fresh.name}”.`);
    await reload();
  } catch (error) {
    if (error.status === 409 && error.body?.current) showConflict(error.body.current, mine, changed);
    else fail("Not saved", error);
  } finally {
    $("save").disabled = false;
  }
}

// A stale edit: load the fresh code into the form and list what the user typed beside it.
function showConflict(current, mine, changed) {
  const node = nodes.get(current.id);
  if (node) Object.assign(node, Object.fromEntries([...FIELDS, "version"].map((k) => [k, current[k]])));
  fillForm(current);
  conflictMine = Object.fromEntries(
    changed.filter((name) => !same(name, mine[name], current[name])).map((name) => [name, mine[name]]),
  );
  const list = d3.select("#conflict-list");
  list.selectAll("*").remove();
  for (const [name, value] of Object.entries(conflictMine)) {
    const li = list.append("li");
    li.append("span").attr("class", "cb-conflict-label").text(`Your ${LABELS[name]}: `);
    if (name === "colour") li.append("span").attr("class", "swatch").style("background", value);
    li.append("q").attr("class", "cb-mine").text(value || "(empty)");
    li.append("button").attr("type", "button").attr("class", "linklike")
      .text("Use mine").on("click", () => { field(name).value = value; field(name).focus(); });
  }
  if (!Object.keys(conflictMine).length) {
    list.append("li").text("Their version already has what you typed.");
  }
  $("conflict-who").textContent = "";
  $("conflict").hidden = false;
  say("Not saved: someone changed this code meanwhile. Check their version, then save again.", true);
  api(`${data.api.history}?code=${current.id}`).then((changes) => {
    const last = changes[0];
    // Name the author only if that entry is the change that made the current version.
    if (last?.user && last.after?.version === current.version && loaded?.id === current.id) {
      $("conflict-who").textContent = `${last.user} changed it ${when(last.at)}.`;
    }
  }).catch(() => {});
  reload();
}

function hideConflict() {
  conflictMine = null;
  if (form) $("conflict").hidden = true;
}

// ------------------------------------------------------------------ adding codes

function nextColour() {
  return PALETTE[nodes.size % PALETTE.length];
}

function openAdd(parentId, focus = true) {
  const addForm = $("add-form");
  if (!addForm) return;
  addParent = parentId;
  $("add-title").textContent = parentId == null
    ? "New theme"
    : `New code under “${nameOf(parentId)}”`;
  $("add-name").value = "";
  $("add-definition").value = "";
  $("add-colour").value = nextColour();
  addForm.hidden = false;
  $("pick-hint").hidden = true;
  $("add-cancel").hidden = nodes.size === 0;
  if (focus) {
    addForm.scrollIntoView({ block: "nearest" });
    $("add-name").focus();
  }
}

function closeAdd() {
  if (!$("add-form")) return;
  $("add-form").hidden = true;
  addParent = undefined;
  $("pick-hint").hidden = selectedId != null || nodes.size === 0;
}

async function addCode(event) {
  event.preventDefault();
  const name = $("add-name").value.trim();
  if (!name) { say("A code needs a name.", true); $("add-name").focus(); return; }
  try {
    const code = await api(data.api.codes, {
      method: "POST",
      json: {
        project: data.project,
        parent: addParent ?? null,
        name,
        colour: $("add-colour").value,
        definition: $("add-definition").value,
      },
    });
    if (addParent != null) collapsed.delete(addParent);
    closeAdd();
    say(`Added “${code.name}”.`);
    await reload();
    select(code.id, { force: true });
  } catch (error) {
    fail("Not added", error);
  }
}

// ------------------------------------------------------------------ merge, split, delete

function dialogAction(dialog, value, errorEl, run) {
  dialog.querySelector("form").addEventListener("submit", async (event) => {
    if (event.submitter?.value !== value) return; // Cancel just closes
    event.preventDefault();
    errorEl.textContent = "";
    event.submitter.disabled = true;
    try {
      await run();
      dialog.close();
    } catch (error) {
      errorEl.textContent = problem(error);
    } finally {
      event.submitter.disabled = false;
    }
  });
}

function openDialog(dialog) {
  dialog.returnValue = "";
  dialog.querySelectorAll(".error").forEach((el) => { el.textContent = ""; });
  dialog.showModal();
}

function mergeImpact() {
  const source = nodes.get(selectedId);
  const target = nodes.get(Number($("merge-target").value));
  if (!source || !target) { $("merge-impact").textContent = ""; return; }
  const subs = source.children.length;
  $("merge-impact").textContent =
    `${plural(source.count, "coding")} of “${source.name}” will move to “${target.name}”` +
    (subs ? `, and its ${plural(subs, "sub-code")} will move under “${target.name}”` : "") +
    `. “${source.name}” is then retired; the history keeps a record.`;
}

function openMerge() {
  const source = nodes.get(selectedId);
  if (!source) return;
  $("merge-source").textContent = `“${source.name}”`;
  const blocked = subtreeIds(source);
  const select = d3.select("#merge-target");
  select.selectAll("*").remove();
  select.append("option").attr("value", "").text("Choose a code…");
  for (const n of flat()) {
    if (blocked.has(n.id)) continue;
    select.append("option").attr("value", n.id)
      .text(`${"\u00a0\u00a0\u00a0".repeat(n.depth)}${n.name}`);
  }
  $("merge-impact").textContent = "";
  openDialog($("merge-dialog"));
}

async function runMerge() {
  const source = nodes.get(selectedId);
  const into = Number($("merge-target").value);
  if (!into) throw new Error("Choose the code to merge into.");
  const result = await api(`${url(data.api.code, source.id)}merge/`, {
    method: "POST",
    json: { into },
  });
  const kept = result.duplicates_kept_once
    ? ` (${plural(result.duplicates_kept_once, "span")} coded with both kept once)`
    : "";
  say(`Merged “${source.name}” into “${result.into_name}”: ${plural(result.moved, "coding")} moved${kept}.`);
  await reload();
  select(result.into, { force: true });
}

async function openSplit() {
  const source = nodes.get(selectedId);
  if (!source) return;
  $("split-source").textContent = `“${source.name}”`;
  $("split-name").value = "";
  $("split-colour").value = nextColour();
  const box = d3.select("#split-quotes");
  box.selectAll("*").remove();
  box.append("p").attr("class", "muted small").text("Loading quotes…");
  $("split-go").disabled = true;
  openDialog($("split-dialog"));
  const quotes = [];
  try {
    let next = `${url(data.api.code, source.id)}quotes/`;
    for (let pages = 0; next && pages < 20; pages++) {
      const page = await api(next);
      quotes.push(...page.results.filter((q) => q.code === source.id));
      next = page.next;
    }
  } catch (error) {
    box.selectAll("*").remove();
    box.append("p").attr("class", "error small").text(`Could not load the quotes: ${problem(error)}`);
    return;
  }
  box.selectAll("*").remove();
  if (!quotes.length) {
    box.append("p").attr("class", "muted").text("This code has no codings of its own to split off.");
    return;
  }
  $("split-go").disabled = false;
  const items = box.selectAll("label").data(quotes).join("label").attr("class", "check cb-quote");
  items.append("input").attr("type", "checkbox").attr("value", (q) => q.id);
  const text = items.append("span");
  text.append("q").text((q) => clip(q.quote, 240));
  text.append("span").attr("class", "muted small")
    .text((q) => ` · post ${q.post} · ${q.coder?.username ?? ""}`);
}

async function runSplit() {
  const source = nodes.get(selectedId);
  const name = $("split-name").value.trim();
  const codings = [...document.querySelectorAll("#split-quotes input:checked")].map((i) => Number(i.value));
  if (!name) throw new Error("Give the new code a name.");
  if (!codings.length) throw new Error("Tick at least one quote to move to the new code.");
  const code = await api(`${url(data.api.code, source.id)}split/`, {
    method: "POST",
    json: { name, codings, colour: $("split-colour").value },
  });
  say(`Split “${code.name}” off “${source.name}”: ${plural(codings.length, "coding")} moved.`);
  await reload();
  select(code.id, { force: true });
}

async function openDelete() {
  const code = nodes.get(selectedId);
  if (!code) return;
  try {
    const impact = await api(`${url(data.api.code, code.id)}impact/`);
    const below = impact.codes - 1;
    $("delete-title").textContent = `Delete “${code.name}”?`;
    const codings = impact.codings
      ? `${plural(impact.codings, "coding")} by ${plural(impact.coders, "coder")}`
      : "no codings";
    $("delete-impact").textContent = below
      ? `This deletes “${code.name}” and ${plural(below, "code")} below it ` +
        `(${plural(impact.codes, "code")} in all), with ${codings}.`
      : `This deletes “${code.name}”, with ${codings}.`;
    openDialog($("delete-dialog"));
  } catch (error) {
    fail("Could not check what deleting touches", error);
  }
}

async function runDelete() {
  const code = nodes.get(selectedId);
  const result = await api(url(data.api.code, code.id), { method: "DELETE" });
  lastDeleted = { id: code.id, name: code.name };
  clearSelection();
  say(`Deleted “${result.name}”.`);
  $("undo-text").textContent =
    `Deleted “${result.name}”: ${plural(result.codes, "code")} and ${plural(result.codings, "coding")}.`;
  $("undo-bar").hidden = false;
  $("undo-button").focus();
  await reload();
}

async function undoDelete() {
  if (!lastDeleted) return;
  const { id, name } = lastDeleted;
  try {
    await api(`${url(data.api.code, id)}restore/`, { method: "POST" });
    lastDeleted = null;
    $("undo-bar").hidden = true;
    say(`Restored “${name}” with its codes and codings.`);
    await reload();
    select(id, { force: true });
  } catch (error) {
    fail(`Could not restore “${name}”`, error);
  }
}

// ------------------------------------------------------------------ history

function listOf(words) {
  return words.length < 2 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

// One history entry as a sentence, plus the fields it changed (before → after).
function describe(change) {
  const who = change.user || "someone";
  const before = change.before || {};
  const after = change.after || {};
  const name = before.name || after.name || nameOf(change.code);
  const details = [];
  let text;
  switch (change.kind) {
    case "code.create":
      text = `${who} added “${after.name || name}”` +
        (after.parent ? ` under “${nameOf(after.parent)}”` : " as a theme");
      break;
    case "code.update": {
      const fields = FIELDS.filter((f) => f in after && (before[f] ?? "") !== (after[f] ?? ""));
      const others = fields.filter((f) => f !== "name");
      others.forEach((f) => details.push({ field: f, before: before[f], after: after[f] }));
      if (fields.includes("name")) {
        text = `${who} renamed “${before.name}” to “${after.name}”` +
          (others.length ? ` and edited its ${listOf(others.map((f) => LABELS[f]))}` : "");
      } else {
        text = `${who} edited the ${listOf(others.map((f) => LABELS[f])) || "text"} of “${name}”`;
      }
      break;
    }
    case "code.move":
      if ((before.parent ?? null) !== (after.parent ?? null)) {
        text = after.parent
          ? `${who} moved “${name}” under “${nameOf(after.parent)}”`
          : `${who} moved “${name}” to the top level (now a theme)`;
        text += before.parent ? ` from “${nameOf(before.parent)}”` : " (it was a theme)";
      } else {
        text = `${who} moved “${name}” ${after.position < before.position ? "up" : "down"} among its siblings`;
      }
      break;
    case "code.merge":
      // A blind coder gets no coding tallies (the API leaves them out): say nothing of them.
      text = `${who} merged “${name}” into “${after.into_name ?? nameOf(after.into)}”` +
        (after.moved !== undefined ? ` (${plural(after.moved, "coding")} moved)` : "");
      break;
    case "code.split":
      text = `${who} split “${after.new_name}” off “${name}”` +
        (after.codings !== undefined ? ` (${plural(after.codings.length, "coding")} moved)` : "");
      break;
    case "code.delete":
      text = `${who} deleted “${name}”` +
        (after.codes > 1 ? ` and ${plural(after.codes - 1, "code")} below it` : "") +
        (after.codings !== undefined ? ` (${plural(after.codings, "coding")})` : "");
      break;
    case "code.restore":
      text = `${who} restored “${name}”` +
        (after.codings ? ` with ${plural(after.codings, "coding")}` : "");
      break;
    case "code.import":
      text = `${who} imported codes from a CSV file`;
      break;
    default:
      text = `${who}: ${change.label}`;
  }
  return { text, details };
}

function renderValue(cell, field, value) {
  if (field === "colour") {
    cell.append("span").attr("class", "swatch").style("background", value);
    cell.append("span").text(value);
  } else {
    cell.text(value ? clip(value) : "(empty)").attr("title", value && value.length > 160 ? value : null);
  }
}

function renderHistory(changes) {
  const list = d3.select("#history");
  list.selectAll("*").remove();
  $("history-empty").hidden = changes.length > 0;
  for (const change of changes) {
    const { text, details } = describe(change);
    const li = list.append("li").attr("class", `cb-change kind-${change.kind.replace(".", "-")}`);
    const head = li.append("div").attr("class", "cb-change-head");
    head.append("span").attr("class", "cb-change-text").text(text);
    head.append("time").attr("class", "muted small").attr("datetime", change.at)
      .attr("title", new Date(change.at).toLocaleString()).text(when(change.at));
    const restorable = ["code.update", "code.move"].includes(change.kind) && nodes.has(change.code);
    if (data.may_edit && restorable) {
      head.append("button").attr("type", "button").attr("class", "cb-restore small-button")
        .attr("aria-label", `Restore: undo “${text}”`)
        .text("Restore")
        .on("click", () => revert(change, text));
    }
    if (details.length) {
      const dl = li.append("dl").attr("class", "cb-diff");
      for (const d of details) {
        dl.append("dt").text(LABELS[d.field]);
        const dd = dl.append("dd");
        renderValue(dd.append("del"), d.field, d.before);
        dd.append("span").attr("class", "arrow").attr("aria-label", "became").text(" → ");
        renderValue(dd.append("ins"), d.field, d.after);
      }
    }
  }
}

async function loadHistory() {
  const only = $("history-this").checked && selectedId != null;
  try {
    const changes = await api(only ? `${data.api.history}?code=${selectedId}` : data.api.history);
    for (const change of changes) {
      for (const snap of [change.before, change.after]) {
        if (snap?.id && snap.name && !names.has(snap.id)) names.set(snap.id, snap.name);
      }
    }
    renderHistory(changes);
  } catch (error) {
    fail("Could not load the history", error);
  }
}

async function revert(change, text) {
  try {
    const code = await api(url(data.api.revert, change.id), { method: "POST" });
    say(`Restored “${code.name}” as it was before: ${text}.`);
    if (loaded?.id === code.id && !isDirty()) {
      const node = nodes.get(code.id);
      if (node) Object.assign(node, Object.fromEntries([...FIELDS, "version"].map((k) => [k, code[k]])));
      fillForm(code);
    }
    await reload();
  } catch (error) {
    fail("Could not restore", error);
  }
}

// ------------------------------------------------------------------ loading and live updates

// Fetch the tree again, keep the selection, and bring the form up to date unless the
// user is typing in it. `remote` lists other people's changes that caused the reload.
async function reload({ remote = [], history: withHistory = true } = {}) {
  try {
    tree = await api(data.api.tree);
  } catch (error) {
    fail("Could not reload the codebook", error);
    return;
  }
  index();
  renderTree();
  renderSummary();
  if (selectedId != null) {
    const node = nodes.get(selectedId);
    if (!node) {
      const gone = loaded?.name;
      clearSelection();
      if (remote.length) say(`“${gone}” was deleted or merged by ${remote.at(-1).user || "someone"}.`, true);
    } else {
      const theirs = remote.filter((c) => c.code === node.id).at(-1);
      if (loaded && node.version !== loaded.version) {
        if (!isDirty()) {
          fillForm(node);
          if (theirs) showNotice(`${theirs.user || "Someone"} just changed this code; the form shows the new version.`);
        } else if (theirs) {
          showNotice(`${theirs.user || "Someone"} changed this code while you were editing. ` +
            "Your text is kept; when you save you will see both versions.");
        }
      } else {
        renderHeader(node);
      }
      if (form && !isDirty()) fillMoveSelect(node);
    }
  }
  if (withHistory) await loadHistory();
}

function showNotice(message) {
  if (!form) return;
  $("remote-notice").textContent = message;
  $("remote-notice").hidden = false;
}

function applySettings(settings) {
  if ("coders_create_codes" in settings && $("setting-coders-create")) {
    $("setting-coders-create").checked = settings.coders_create_codes;
  }
  if ("blind_coding" in settings && $("setting-blind")) {
    $("setting-blind").checked = settings.blind_coding;
  }
}

async function poll() {
  if (polling || document.hidden) return;
  polling = true;
  try {
    const changes = [];
    for (let more = true, rounds = 0; more && rounds < 10; rounds++) {
      const page = await api(`${data.api.changes}?since=${since}`);
      changes.push(...page.changes);
      since = page.latest;
      more = page.more;
    }
    changes.filter((c) => c.kind === "project.settings").forEach((c) => applySettings(c.after || {}));
    const codebook = changes.filter((c) => c.kind.startsWith("code."));
    const remote = codebook.filter((c) => c.user !== data.user.username);
    if (codebook.length) await reload({ remote });
    else if (changes.some((c) => c.kind.startsWith("coding."))) await reload({ history: false });
  } catch {
    // A missed poll is retried on the next tick.
  } finally {
    polling = false;
  }
}

async function setSetting(checkbox, key, on, off) {
  const value = checkbox.checked;
  try {
    await api(data.api.project, { method: "PATCH", json: { [key]: value } });
    say(value ? on : off);
  } catch (error) {
    checkbox.checked = !value;
    fail("The setting was not changed", error);
  }
}

// ------------------------------------------------------------------ wiring

filterEl.addEventListener("input", renderTree);
filterEl.addEventListener("keydown", (event) => {
  if (event.key === "Escape") { filterEl.value = ""; renderTree(); }
});
$("history-this").addEventListener("change", loadHistory);
$("add-theme")?.addEventListener("click", () => openAdd(null));
$("add-child")?.addEventListener("click", () => openAdd(selectedId));
$("add-form")?.addEventListener("submit", addCode);
$("add-cancel")?.addEventListener("click", closeAdd);

if (form) {
  form.addEventListener("submit", save);
  form.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("input", () => { $("edit-swatch").style.background = field("colour").value; });
  $("revert-form").addEventListener("click", () => {
    hideConflict();
    const node = nodes.get(loaded.id);
    if (node) fillForm(node);
  });
  $("conflict-mine").addEventListener("click", () => {
    Object.entries(conflictMine || {}).forEach(([name, value]) => { field(name).value = value; });
    $("conflict").hidden = true;
    say("Your text is back in the form over the current version: save to keep it.");
    field("name").focus();
  });
  $("conflict-dismiss").addEventListener("click", hideConflict);
  $("move-go").addEventListener("click", () => {
    const node = nodes.get(selectedId);
    const value = $("move-parent").value;
    const parent = value ? nodes.get(Number(value)) : null;
    if ((node.parentNode?.id ?? null) === (parent?.id ?? null)) {
      say(`“${node.name}” is already there.`);
      return;
    }
    const siblings = parent ? parent.children : tree;
    move(node, parent, siblings.filter((c) => c.id !== node.id).length);
  });
  for (const [id, step] of [["move-up", -1], ["move-down", 1]]) {
    $(id).addEventListener("click", () => {
      const node = nodes.get(selectedId);
      const at = siblingsOf(node).indexOf(node);
      move(node, node.parentNode, Math.max(at + step, 0));
    });
  }
  $("merge-open").addEventListener("click", openMerge);
  $("merge-target").addEventListener("change", mergeImpact);
  dialogAction($("merge-dialog"), "merge", $("merge-error"), runMerge);
  $("split-open").addEventListener("click", openSplit);
  dialogAction($("split-dialog"), "split", $("split-error"), runSplit);
  $("delete-open").addEventListener("click", openDelete);
  dialogAction($("delete-dialog"), "delete", $("delete-error"), runDelete);
  $("undo-button").addEventListener("click", undoDelete);
  rootDropHandlers();
  window.addEventListener("beforeunload", (event) => {
    if (isDirty()) event.preventDefault();
  });
}

$("setting-coders-create")?.addEventListener("change", (event) => setSetting(
  event.target, "coders_create_codes",
  "Coders may now add codes.", "Only supervisors and admins add codes now.",
));
$("setting-blind")?.addEventListener("change", (event) => setSetting(
  event.target, "blind_coding",
  "Blind coding is on: coders see only their own codings.", "Blind coding is off: coders see everyone's codings.",
));

index();
renderTree();
renderSummary();
loadHistory();
const linked = Number((location.hash.match(/^#code-(\d+)$/) || [])[1]);
if (nodes.has(linked)) {
  for (let n = nodes.get(linked).parentNode; n; n = n.parentNode) collapsed.delete(n.id);
  select(linked);
}
setInterval(poll, POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });

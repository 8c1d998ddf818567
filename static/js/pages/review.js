// The review page: the theme hierarchy (tree, sunburst or icicle) with a side panel of the
// selected node's quotes, status and comments; drag to move codes; the co-occurrence matrix.
import { api } from "../lib/api.js";
import { downloadPNG, downloadSVG } from "../lib/export.js";
import { agreementColour, render as renderHierarchy } from "../charts/hierarchy.js";
import { render as renderMatrix } from "../charts/cooccurrence.js";

const data = JSON.parse(document.getElementById("review-data").textContent);
const urls = data.urls;
const $ = (id) => document.getElementById(id);
const fill = (template, id) => template.replace("{id}", id);

function el(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const statusLabel = Object.fromEntries(data.statuses.map((s) => [s.value, s.label]));

// ---------------------------------------------------------------- tabs

const tabs = document.querySelectorAll(".review-tabs [role=tab]");
function showTab(name) {
  tabs.forEach((t) => t.setAttribute("aria-selected", String(t.dataset.tab === name)));
  document.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== name; });
  if (name === "cooccurrence") loadMatrix();
  if (name === "hierarchy") draw();
  if (history.replaceState) history.replaceState(null, "", `#${name}`);
}
tabs.forEach((t) => t.addEventListener("click", () => showTab(t.dataset.tab)));

// ---------------------------------------------------------------- hierarchy state

const state = {
  layout: "tree", sizeBy: "quotes", colourBy: "code", selected: null, collapsed: new Set(),
};
let hierarchy = data.hierarchy;
const figure = $("hierarchy-chart");

function findNode(id, nodes = hierarchy.tree) {
  for (const node of nodes) {
    if (node.id === id) return node;
    const found = findNode(id, node.children);
    if (found) return found;
  }
  return null;
}

function draw() {
  if (!figure || figure.closest("[data-panel]").hidden) return;
  renderHierarchy(figure, hierarchy.tree, {
    ...state,
    draggable: data.can_review,
    onSelect: (node) => select(node ? node.id : null),
    onToggle: (id) => {
      if (state.collapsed.has(id)) state.collapsed.delete(id);
      else state.collapsed.add(id);
      draw();
    },
    onMove: move,
  });
  const legend = $("agreement-legend");
  if (legend) {
    legend.hidden = state.colourBy !== "agreement";
    legend.replaceChildren(
      ...[["α < 0", -0.1], ["0.4", 0.4], ["0.67", 0.67], ["≥ 0.8", 0.9], ["none", null]].map(([label, v]) =>
        el("span", { className: "legend-item" }, [
          el("span", { className: "swatch", attrs: { style: `background:${agreementColour(v)}` } }), label,
        ])),
    );
  }
}

function bindSegmented(attr, key, after = draw) {
  document.querySelectorAll(`[data-${attr}]`).forEach((button) => {
    button.addEventListener("click", () => {
      document.querySelectorAll(`[data-${attr}]`).forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      state[key] = button.dataset[attr];
      after();
    });
  });
}
bindSegmented("layout", "layout");
bindSegmented("size", "sizeBy");
bindSegmented("colour", "colourBy");

async function refresh() {
  hierarchy = await api(urls.hierarchy);
  draw();
  if (state.selected && !findNode(state.selected)) select(null);
}

const moveStatus = $("move-status");
async function move(node, parentId, parentNode) {
  const where = parentId ? `under “${parentNode.name}”` : "to the top level, as a theme";
  if (!window.confirm(`Move “${node.name}” ${where}?`)) return;
  moveStatus.className = "status";
  moveStatus.textContent = `Moving “${node.name}”…`;
  try {
    await api(fill(urls.move, node.id), { method: "POST", json: { parent: parentId } });
    moveStatus.textContent = `Moved “${node.name}” ${where}. The codebook's history records it.`;
    await refresh();
  } catch (error) {
    moveStatus.className = "status error";
    moveStatus.textContent = `Not moved: ${error.message}`;
  }
}

// ---------------------------------------------------------------- the side panel

const panel = $("node-panel");
let comments = data.comments;

function figures(node) {
  const line = el("p", { className: "node-counts" }, [
    `${plural(node.quotes, "quote")} · ${plural(node.posts, "post")} · ${plural(node.coders, "coder")}`,
  ]);
  if (node.agreement) {
    const a = node.agreement;
    const f = (v) => (v === null || v === undefined ? "—" : v.toFixed(2));
    const pct = a.percent === null || a.percent === undefined ? "—" : `${(a.percent * 100).toFixed(1)}%`;
    line.append(el("br"), el("span", { className: "muted", text: `Agreement: α ${f(a.alpha)} · ${pct} · κ ${f(a.kappa)}` }));
  }
  return line;
}

function statusControl(node) {
  const box = el("div", { className: "status-control" });
  if (!data.can_review) {
    box.append(el("span", { className: `status-tag status-${node.status}`, text: statusLabel[node.status] }));
    return box;
  }
  const group = el("div", { className: "segmented", attrs: { role: "radiogroup", "aria-label": "Review status" } }, [
    el("span", { className: "seg-label", text: "Status" }),
  ]);
  for (const s of data.statuses) {
    const button = el("button", {
      text: s.label, className: `status-choice status-${s.value}`,
      attrs: { type: "button", "aria-pressed": String(node.status === s.value), "data-status": s.value },
    });
    button.addEventListener("click", async () => {
      try {
        const saved = await api(fill(urls.status, node.id), { method: "POST", json: { status: s.value } });
        node.status = saved.status;
        group.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.status === saved.status)));
        note.textContent = `Saved: ${statusLabel[saved.status]}.`;
        draw();
      } catch (error) {
        note.textContent = `Not saved: ${error.message}`;
      }
    });
    group.append(button);
  }
  const note = el("span", { className: "muted small", attrs: { role: "status" } });
  box.append(group, note);
  return box;
}

function commentItem(c) {
  const to = c.addressed_to_name || "all coders";
  const li = el("li", { className: `comment${c.resolved_at ? " resolved" : ""}` }, [
    el("div", { className: "comment-meta muted small", text: `${c.author} → ${to}, ${c.created_at.slice(0, 10)}${c.resolved_at ? " · resolved" : ""}` }),
    el("p", { className: "comment-text", text: c.text }),
  ]);
  if (data.can_review) {
    const button = el("button", { className: "linklike small", text: c.resolved_at ? "Reopen" : "Mark resolved", attrs: { type: "button" } });
    button.addEventListener("click", async () => {
      const saved = await api(fill(urls.resolve, c.id), { method: "POST", json: { resolved: !c.resolved_at } });
      Object.assign(c, saved);
      li.replaceWith(commentItem(c));
    });
    li.append(button);
  }
  return li;
}

function commentSection(node) {
  const section = el("section", { className: "panel-section" }, [el("h3", { text: "Comments" })]);
  const list = el("ul", { className: "comment-list" });
  const mine = comments.filter((c) => c.code === node.id);
  mine.forEach((c) => list.append(commentItem(c)));
  if (!mine.length) list.append(el("li", { className: "muted small", text: data.can_review ? "No comment yet." : "No comment for you here." }));
  section.append(list);
  if (data.can_review) {
    const form = el("form", { className: "comment-form" });
    const text = el("textarea", { attrs: { rows: "3", name: "text", required: "", maxlength: "4000", "aria-label": "Comment", placeholder: "What should the coders change or check?" } });
    const to = el("select", { attrs: { name: "addressed_to", "aria-label": "Addressed to" } }, [
      el("option", { text: "All coders", attrs: { value: "" } }),
      ...data.coders.filter((m) => m.id !== data.me).map((m) => el("option", { text: `${m.username} (${m.role})`, attrs: { value: String(m.id) } })),
    ]);
    const send = el("button", { text: "Add comment", className: "primary", attrs: { type: "submit" } });
    const note = el("span", { className: "muted small", attrs: { role: "status" } });
    form.append(text, el("div", { className: "row" }, [el("label", { className: "inline-label" }, ["To ", to]), send, note]));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const saved = await api(urls.comments, {
          method: "POST",
          json: { code: node.id, text: text.value, addressed_to: to.value ? Number(to.value) : null },
        });
        comments = [saved, ...comments];
        node.open_comments = (node.open_comments || 0) + 1;
        list.querySelector("li.muted")?.remove();
        list.prepend(commentItem(saved));
        text.value = "";
        note.textContent = "Added.";
        draw();
      } catch (error) {
        note.textContent = `Not added: ${error.message}`;
      }
    });
    section.append(form);
  }
  return section;
}

async function quotesSection(node, section) {
  section.replaceChildren(el("h3", { text: "Quotes" }), el("p", { className: "muted small", text: "Loading…" }));
  let result;
  try {
    result = await api(`${urls.quotes}?code=${node.id}`);
  } catch (error) {
    section.lastChild.textContent = `Could not load the quotes: ${error.message}`;
    return;
  }
  if (state.selected !== node.id) return;
  const heading = el("h3", { text: `Quotes (${result.total})` });
  if (!result.quotes.length) {
    section.replaceChildren(heading, el("p", { className: "muted", text: "No quote yet: nobody has applied this code (or a code beneath it)." }));
    return;
  }
  const list = el("ol", { className: "panel-quotes", attrs: { id: "panel-quotes" } });
  for (const q of result.quotes) {
    const meta = [q.author || "unknown author", q.posted_at || "undated", `coded by ${q.coder}`];
    if (q.code_id !== node.id) meta.push(q.code);
    list.append(el("li", { className: "panel-quote" }, [
      el("blockquote", { text: q.quote }),
      el("div", { className: "quote-meta muted small" }, [
        meta.join(" · "), " · ",
        el("a", { text: `post ${q.external_id || q.post}`, attrs: { href: q.url } }),
      ]),
    ]));
  }
  section.replaceChildren(heading, list);
  if (result.total > result.quotes.length) {
    section.append(el("p", { className: "muted small" }, [
      `Showing ${result.quotes.length} of ${result.total}. `,
      el("a", { text: "All quotes on the code's page", attrs: { href: fill(urls.code, node.id) } }),
    ]));
  }
}

function select(id) {
  state.selected = id;
  draw();
  const node = id ? findNode(id) : null;
  if (!node) {
    panel.replaceChildren(el("div", { className: "panel-empty" }, [
      el("p", {}, [el("strong", { text: "Nothing selected." })]),
      el("p", { className: "muted", text: "Click a theme, sub-theme or code to read its quotes." }),
    ]));
    return;
  }
  const quotes = el("section", { className: "panel-section", attrs: { id: "panel-quotes-section" } });
  panel.replaceChildren(
    el("div", { className: "panel-head" }, [
      el("p", { className: "crumbs-path muted small", text: node.path.slice(0, -1).join(" › ") || "Theme" }),
      el("h2", { attrs: { id: "panel-title" } }, [
        el("span", { className: "swatch big", attrs: { style: `background:${node.colour}` } }),
        node.name,
      ]),
      el("span", { className: "tag", text: node.level }), " ",
      el("a", { className: "small", text: "Code page", attrs: { href: fill(urls.code, node.id) } }),
    ]),
    figures(node),
    node.definition ? el("p", { className: "definition", text: node.definition }) : el("p", { className: "muted small", text: "No definition yet." }),
    statusControl(node),
    commentSection(node),
    quotes,
  );
  quotesSection(node, quotes);
}

document.querySelectorAll("[data-select]").forEach((button) => {
  button.addEventListener("click", () => {
    showTab("hierarchy");
    select(Number(button.dataset.select));
    panel.scrollIntoView({ behavior: "smooth", block: "start" });
  });
});

// ---------------------------------------------------------------- co-occurrence

const matrix = { mode: "post", level: "code", loaded: null };
const matrixBox = $("cooc");
const postsBox = $("cooc-posts");

async function loadMatrix() {
  const limit = $("cooc-limit").value;
  const key = `${matrix.mode}/${matrix.level}/${limit}`;
  if (matrix.loaded === key) return;
  matrix.loaded = key;
  const result = await api(`${urls.cooccurrence}?mode=${matrix.mode}&level=${matrix.level}&limit=${limit}`);
  const what = matrix.level === "theme" ? "themes" : "codes";
  const how = matrix.mode === "post" ? "applied in the same post" : "applied to overlapping spans of a post";
  const together = result.values.some((row, i) => row.some((v, j) => i !== j && v > 0));
  $("cooc-summary").textContent = result.codes.length
    ? `Each cell: the number of posts where both ${what} were ${how}; the grey diagonal, the posts of each one. Showing ${result.codes.length} of ${result.total} ${what} (the most applied).${together ? "" : ` No two different ${what} were ${how} yet.`}`
    : "";
  if (!result.codes.length) {
    matrixBox.replaceChildren(el("div", { className: "empty" }, [el("p", { text: "Nothing is coded yet, so no codes co-occur." })]));
    postsBox.hidden = true;
    return;
  }
  postsBox.hidden = false;
  renderMatrix(matrixBox, result, { onClick: showPosts });
  postsBox.replaceChildren(el("p", { className: "muted", text: "Click a cell to list the posts where both occur." }));
}

async function showPosts(a, b) {
  const result = await api(`${urls.cooccurrence_posts}?a=${a.id}&b=${b.id}&mode=${matrix.mode}&level=${matrix.level}`);
  const title = a.id === b.id ? `Posts with “${a.name}”` : `Posts with “${a.name}” and “${b.name}”`;
  const list = el("ul", { className: "cooc-post-list" });
  for (const p of result.results) {
    list.append(el("li", {}, [
      el("a", { text: `Post ${p.external_id || p.id}`, attrs: { href: fill(urls.post, p.id) } }),
      el("span", { className: "muted small", text: ` ${p.author || "unknown author"}${p.posted_at ? ", " + p.posted_at : ""}` }),
      el("p", { className: "excerpt", text: p.text.length >= 240 ? `${p.text}…` : p.text }),
    ]));
  }
  postsBox.replaceChildren(el("h3", { text: `${title} (${result.results.length})` }), list);
}

function bindMatrix(attr, key) {
  document.querySelectorAll(`[data-${attr}]`).forEach((button) => {
    button.addEventListener("click", () => {
      document.querySelectorAll(`[data-${attr}]`).forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      matrix[key] = button.dataset[attr];
      loadMatrix();
    });
  });
}
if (matrixBox) {
  bindMatrix("mode", "mode");
  bindMatrix("level", "level");
  $("cooc-limit").addEventListener("change", loadMatrix);
}

// ---------------------------------------------------------------- export and start

const exporters = {
  "hierarchy-svg": () => [figure, downloadSVG, `hierarchy-${state.layout}.svg`],
  "hierarchy-png": () => [figure, downloadPNG, `hierarchy-${state.layout}.png`],
  "cooc-svg": () => [matrixBox, downloadSVG, `co-occurrence-${matrix.mode}.svg`],
  "cooc-png": () => [matrixBox, downloadPNG, `co-occurrence-${matrix.mode}.png`],
};
document.querySelectorAll("[data-export]").forEach((button) => {
  button.addEventListener("click", () => {
    const [box, save, name] = exporters[button.dataset.export]();
    const svg = box && box.querySelector("svg");
    if (svg) save(svg, name);
  });
});

const initial = window.location.hash.slice(1);
showTab(["hierarchy", "cooccurrence", "status"].includes(initial) ? initial : "hierarchy");

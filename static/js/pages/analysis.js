// The text analysis page: frequency query → cloud, bars, table; a word → KWIC and word tree.
import { api } from "../lib/api.js";
import { downloadCSV, downloadJSON, downloadPNG, downloadSVG } from "../lib/export.js";
import { render as renderBars } from "../charts/barchart.js";
import { render as renderCloud } from "../charts/wordcloud.js";
import { render as renderTree } from "../charts/wordtree.js";

const data = JSON.parse(document.getElementById("page-data").textContent);
const $ = (id) => document.getElementById(id);
let frequency = null; // the last frequency result
let treeJob = null; // the last word tree job
let selection = null; // the selected branch {phrase, side, node}
let lastCoded = []; // coding ids created by "code these sentences" (for undo)
let sortKey = "rank";
let sortDescending = false;

function scopeParams() {
  const [scope, id] = $("scope").value.split(":");
  if (scope === "attribute") return { scope, attribute: $("attribute").value.trim() };
  return id ? { scope, scope_id: Number(id) } : { scope };
}

$("scope").addEventListener("change", () => { $("attribute-field").hidden = $("scope").value !== "attribute"; });

async function runJob(kind, params, progressBox) {
  const bar = progressBox.querySelector("progress");
  const label = progressBox.querySelector("span");
  progressBox.hidden = false;
  bar.value = 0;
  label.textContent = "Queued…";
  let job = await api(data.urls.analyses, { method: "POST", json: { project: data.project, kind, params } });
  while (job.status === "queued" || job.status === "running") {
    bar.value = job.progress;
    label.textContent = job.status === "queued" ? "Waiting for a worker…" : `${Math.round(job.progress * 100)}%`;
    await new Promise((resolve) => setTimeout(resolve, 400));
    job = await api(`${data.urls.analyses}${job.id}/`);
  }
  progressBox.hidden = true;
  if (job.status !== "succeeded") throw new Error(job.message || `The analysis ${job.status}.`);
  return job;
}

// ---------------------------------------------------------------- frequency

$("frequency-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const params = {
    ...scopeParams(),
    top: Number(form.get("top")),
    min_length: Number(form.get("min_length")),
    grouping: form.get("grouping"),
    stopwords: form.get("stopwords") === "on",
  };
  try {
    const job = await runJob("frequency", params, $("frequency-progress"));
    frequency = job.result;
    frequency.jobId = job.id;
    showFrequency();
  } catch (error) {
    $("frequency-progress").hidden = false;
    $("frequency-progress").querySelector("span").textContent = error.message;
  }
});

function showFrequency() {
  $("frequency-results").hidden = false;
  const words = frequency.words;
  $("frequency-summary").textContent =
    `${frequency.total_words.toLocaleString()} words in ${frequency.documents.toLocaleString()} posts or quotes; the top ${words.length} shown.`;
  if (!words.length) {
    $("cloud").textContent = "No word passes the filters. Lower the minimum length or include stop words.";
  } else {
    renderCloud($("cloud"), words, { onClick: openWord });
  }
  renderBars($("bars"), words.slice(0, 30), { onClick: openWord });
  renderTable();
}

function renderTable() {
  const rows = frequency.words.map((w, i) => ({ ...w, rank: i + 1 }));
  rows.sort((a, b) => {
    const x = a[sortKey];
    const y = b[sortKey];
    const order = typeof x === "string" ? x.localeCompare(y) : x - y;
    return sortDescending ? -order : order;
  });
  const body = d3.select("#freq-table tbody");
  const tr = body.selectAll("tr").data(rows, (d) => d.word).join("tr");
  tr.selectAll("*").remove();
  tr.append("td").attr("class", "num muted").text((d) => d.rank);
  tr.append("td").append("button").attr("type", "button").attr("class", "word-link").text((d) => d.word)
    .on("click", (event, d) => openWord(d.word));
  tr.append("td").attr("class", "num").text((d) => d.count.toLocaleString());
  tr.append("td").attr("class", "num").text((d) => d.percent.toFixed(2));
  tr.append("td").attr("class", "small muted").text((d) => d.grouped.join(", "));
  const actions = tr.append("td");
  if (data.can_shape_codebook) {
    actions.append("button").attr("type", "button").attr("class", "linklike small").text("Make a theme")
      .on("click", (event, d) => makeTheme(d.word));
  }
}

document.querySelectorAll("#freq-table th[data-sort]").forEach((th) => {
  th.addEventListener("click", () => {
    const key = th.dataset.sort;
    sortDescending = sortKey === key ? !sortDescending : key === "count" || key === "percent";
    sortKey = key;
    renderTable();
  });
});

document.querySelectorAll(".tabs button").forEach((tab) => {
  tab.addEventListener("click", () => {
    document.querySelectorAll(".tabs button").forEach((t) => t.setAttribute("aria-selected", t === tab));
    document.querySelectorAll(".tab-panel").forEach((p) => { p.hidden = p.dataset.panel !== tab.dataset.tab; });
  });
});

async function makeTheme(word) {
  try {
    const code = await api(`${data.urls.analyses}${frequency.jobId}/theme/`, { method: "POST", json: { word } });
    alert(`“${code.name}” is now a theme in the codebook, with this query attached.`);
  } catch (error) {
    alert(`Could not make a theme: ${error.message}`);
  }
}

// ---------------------------------------------------------------- word tree and KWIC

function openWord(word) {
  $("root-input").value = word;
  buildTree(word);
  $("word-panel").scrollIntoView({ behavior: "smooth", block: "start" });
}

$("depth").addEventListener("input", () => { $("depth-value").textContent = $("depth").value; });
$("tree-form").addEventListener("submit", (event) => {
  event.preventDefault();
  buildTree($("root-input").value.trim());
});

async function buildTree(root) {
  if (!root) return;
  $("word-panel").hidden = false;
  $("branch-panel").hidden = true;
  $("word-root").textContent = root;
  $("word-summary").textContent = "";
  const params = { ...scopeParams(), root, depth: Number($("depth").value), grouping: document.querySelector("[name=grouping]").value };
  try {
    treeJob = await runJob("wordtree", params, $("tree-progress"));
  } catch (error) {
    $("word-summary").textContent = error.message;
    return;
  }
  const result = treeJob.result;
  $("word-summary").textContent = `${result.tree.count.toLocaleString()} occurrences · ${result.kwic_total.toLocaleString()} lines in context`;
  $("make-theme").hidden = !(data.can_shape_codebook && frequency && frequency.words.some((w) => w.word === root));
  $("add-stopword").hidden = !data.can_shape_codebook || root.includes(" ");
  renderTree($("tree"), result.tree, { onSelect: selectBranch });
  renderKwic(result.kwic);
}

function renderKwic(lines) {
  const rows = d3.select("#kwic tbody").selectAll("tr").data(lines).join("tr");
  rows.selectAll("*").remove();
  rows.append("td").attr("class", "left").append("span").attr("dir", "ltr").text((d) => d.left);
  rows.append("td").attr("class", "kwc").append("a")
    .attr("href", (d) => data.urls.post.replace("{id}", d.post)).text((d) => d.keyword);
  rows.append("td").attr("class", "right").text((d) => d.right);
}

function selectBranch(branch) {
  selection = branch;
  lastCoded = [];
  $("undo-branch").hidden = true;
  $("branch-status").textContent = "";
  $("branch-panel").hidden = false;
  $("branch-phrase").textContent = branch.phrase;
  const n = branch.node.occurrence_count ?? branch.node.count;
  $("branch-count").textContent = `${branch.node.count} occurrence${branch.node.count === 1 ? "" : "s"} · ${n} sentence${n === 1 ? "" : "s"}`;
  const items = d3.select("#branch-sentences").selectAll("li").data(branch.node.occurrences || []).join("li");
  items.selectAll("*").remove();
  items.append("a").attr("href", (d) => data.urls.post.replace("{id}", d[0])).text((d) => d[3] || `post ${d[0]}`);
  $("code-branch").disabled = !data.codes.length;
}

$("reroot").addEventListener("click", () => {
  if (!selection) return;
  $("root-input").value = selection.phrase;
  buildTree(selection.phrase);
});

$("code-branch").addEventListener("click", async () => {
  if (!selection || !treeJob) return;
  const code = Number($("branch-code").value);
  try {
    const result = await api(`${data.urls.analyses}${treeJob.id}/code-branch/`, {
      method: "POST", json: { code, phrase: selection.phrase },
    });
    lastCoded = result.created;
    $("branch-status").textContent = `Coded ${result.created.length} sentence${result.created.length === 1 ? "" : "s"} (${result.sentences - result.created.length} were already coded).`;
    $("undo-branch").hidden = !lastCoded.length;
  } catch (error) {
    $("branch-status").textContent = `Could not code: ${error.message}`;
  }
});

$("undo-branch").addEventListener("click", async () => {
  for (const id of lastCoded) await api(`${data.urls.codings}${id}/`, { method: "DELETE" });
  $("branch-status").textContent = `Removed ${lastCoded.length} codings.`;
  lastCoded = [];
  $("undo-branch").hidden = true;
});

$("make-theme").addEventListener("click", () => makeTheme($("word-root").textContent));
$("add-stopword").addEventListener("click", async () => {
  const word = $("word-root").textContent;
  await api(data.urls.stopwords, { method: "POST", json: { project: data.project, word } });
  $("add-stopword").textContent = `“${word}” added to stop words`;
});

// ---------------------------------------------------------------- export

const exporters = {
  "cloud-svg": () => downloadSVG($("cloud").querySelector("svg"), "word-cloud.svg"),
  "cloud-png": () => downloadPNG($("cloud").querySelector("svg"), "word-cloud.png"),
  "bars-svg": () => downloadSVG($("bars").querySelector("svg"), "word-frequency.svg"),
  "bars-png": () => downloadPNG($("bars").querySelector("svg"), "word-frequency.png"),
  "table-csv": () => downloadCSV(["rank", "word", "count", "weighted_percent", "grouped"],
    frequency.words.map((w, i) => [i + 1, w.word, w.count, w.percent, w.grouped.join(" ")]), "word-frequency.csv"),
  "tree-svg": () => downloadSVG($("tree").querySelector("svg"), `word-tree-${$("word-root").textContent}.svg`),
  "tree-png": () => downloadPNG($("tree").querySelector("svg"), `word-tree-${$("word-root").textContent}.png`),
  "tree-json": () => downloadJSON(treeJob.result.tree, `word-tree-${$("word-root").textContent}.json`),
  "kwic-csv": () => downloadCSV(["post", "left", "keyword", "right"],
    treeJob.result.kwic.map((l) => [l.post, l.left, l.keyword, l.right]), `kwic-${$("word-root").textContent}.csv`),
};
document.querySelectorAll("[data-export]").forEach((button) => {
  button.addEventListener("click", () => exporters[button.dataset.export]());
});

if (data.initial.root) openWord(data.initial.root);

// The saturation page: the curves (SVG/PNG), the post-by-post table of one line and a CSV
// of every line.
import { downloadCSV, downloadPNG, downloadSVG } from "../lib/export.js";
import { render as renderCurves } from "../charts/saturation.js";

const data = JSON.parse(document.getElementById("saturation-data").textContent);
const box = document.getElementById("saturation-chart");
const series = [data.overall, ...data.coders];
const shown = box && box.closest("section").querySelector("#series-choice");
const onlyOverall = shown && shown.options.length === 1;

function draw(highlight = null) {
  if (!box) return;
  const width = Math.max(640, Math.min(1100, box.clientWidth || 860));
  renderCurves(box, onlyOverall ? [data.overall] : series, { highlight, width, height: Math.round(width * 0.42) });
}

function cell(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

function fillTable(line) {
  const body = document.querySelector("#saturation-table tbody");
  body.replaceChildren(...line.points.map((p) => {
    const row = document.createElement("tr");
    if (p.new.length) row.className = "adds";
    const link = document.createElement("a");
    link.href = data.post_url.replace("{id}", p.post);
    link.textContent = `Post ${p.external_id || p.post}`;
    const post = document.createElement("td");
    post.append(link);
    const codes = document.createElement("td");
    codes.className = "new-codes";
    if (p.new.length) {
      p.new.forEach((c) => {
        const tag = cell("span", c.name, "tag new-code");
        tag.title = c.path.join(" › ");
        codes.append(tag);
      });
    } else codes.append(cell("span", "none", "muted"));
    row.append(cell("td", p.index, "num"), post, cell("td", p.author || "—"), cell("td", p.when, "nowrap"), codes, cell("td", p.distinct, "num"));
    return row;
  }));
}

if (shown) {
  shown.addEventListener("change", () => {
    const index = shown.value === "overall" ? 0 : series.findIndex((s) => String(s.coder) === shown.value);
    fillTable(series[index]);
    draw(index === 0 ? null : index);
  });
}

const exporters = {
  svg: () => downloadSVG(box.querySelector("svg"), "saturation.svg"),
  png: () => downloadPNG(box.querySelector("svg"), "saturation.png"),
  csv: () => downloadCSV(
    ["line", "index", "post", "external_id", "author", "first_coded", "new_codes", "distinct_codes"],
    (onlyOverall ? [data.overall] : series).flatMap((s) => s.points.map((p) => [
      s.label, p.index, p.post, p.external_id, p.author, p.first_coded, p.new.map((c) => c.path.join(" > ")).join("; "), p.distinct,
    ])),
    "saturation.csv",
  ),
};
document.querySelectorAll("[data-export]").forEach((button) => {
  button.addEventListener("click", () => {
    if (button.dataset.export !== "csv" && !box.querySelector("svg")) return;
    exporters[button.dataset.export]();
  });
});
draw();

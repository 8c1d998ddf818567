// The agreement page: waits for the comparison job, then draws the heatmap of agreement by
// code and post, with SVG and PNG export.
import { api } from "../lib/api.js";
import { downloadPNG, downloadSVG } from "../lib/export.js";
import { render as renderHeatmap } from "../charts/heatmap.js";

const data = JSON.parse(document.getElementById("heatmap-data").textContent);
const box = document.getElementById("heatmap");
if (box && data.grid) {
  renderHeatmap(box, data.grid, {
    onClick: (post) => {
      if (data.drill) window.location.href = data.drill.replace("{post}", post);
    },
  });
  document.querySelector("[data-export=heatmap-svg]")?.addEventListener("click", () => downloadSVG(box.querySelector("svg"), "agreement-heatmap.svg"));
  document.querySelector("[data-export=heatmap-png]")?.addEventListener("click", () => downloadPNG(box.querySelector("svg"), "agreement-heatmap.png"));
}

const progress = document.getElementById("agreement-progress");
async function poll() {
  const job = await api(`/api/analyses/${progress.dataset.job}/`);
  progress.querySelector("progress").value = job.progress;
  if (["succeeded", "failed", "cancelled"].includes(job.status)) window.location.reload();
  else setTimeout(poll, 700);
}
if (progress) poll();

const mode = document.getElementById("mode");
function showMode() {
  document.querySelectorAll("fieldset[data-mode]").forEach((f) => { f.hidden = f.dataset.mode !== mode.value; });
}
if (mode) { mode.addEventListener("change", showMode); showMode(); }

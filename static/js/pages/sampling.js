// The sampling page: a live count as criteria change, and relevant / not-relevant marks.
import { api } from "../lib/api.js";

const slug = JSON.parse(document.getElementById("project-slug").textContent);
const form = document.getElementById("criteria-form");
const count = document.getElementById("pool-count");
const criteriaText = document.getElementById("criteria-text");
const sampleForm = document.getElementById("sample-form");
const drawCount = document.getElementById("draw-count");
let timer = null;

async function refreshCount() {
  const params = new URLSearchParams(new FormData(form));
  params.set("project", slug);
  try {
    const pool = await api(`/api/pool/?${params}`);
    count.textContent = pool.count;
    if (drawCount) drawCount.textContent = pool.count;
    criteriaText.textContent = pool.criteria ? ` (${pool.criteria})` : "";
  } catch (error) {
    criteriaText.textContent = ` — ${error.message}`;
  }
}

// A sample is drawn from the criteria as typed (and counted above), not as the page was
// last loaded with: they are copied into the draw form when it is sent.
if (sampleForm) {
  sampleForm.addEventListener("submit", () => {
    sampleForm.querySelectorAll("input[data-criterion]").forEach((input) => input.remove());
    for (const [name, value] of new FormData(form)) {
      const input = document.createElement("input");
      Object.assign(input, { type: "hidden", name, value });
      input.dataset.criterion = "";
      sampleForm.append(input);
    }
  });
}

form.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(refreshCount, 250);
});

document.querySelectorAll("tr[data-post]").forEach((row) => {
  const note = row.querySelector(".mark-note");
  row.querySelectorAll("button.mark").forEach((button) => {
    button.addEventListener("click", async () => {
      const wasOn = button.classList.contains("on");
      const relevant = wasOn ? null : button.dataset.relevant === "true";
      try {
        await api(`/api/posts/${row.dataset.post}/mark/`, { method: "POST", json: { relevant, note: note.value } });
        row.querySelectorAll("button.mark").forEach((b) => b.classList.remove("on"));
        if (relevant !== null) button.classList.add("on");
        row.classList.toggle("left-pool", relevant === false);
        refreshCount();
      } catch (error) {
        alert(`Could not save the mark: ${error.message}`);
      }
    });
  });
});

const method = document.getElementById("method");
function showMethodFields() {
  document.querySelectorAll("#sample-form [data-for]").forEach((label) => {
    label.hidden = !label.dataset.for.split(" ").includes(method.value);
  });
}
if (method) {
  method.addEventListener("change", showMethodFields);
  showMethodFields();
}

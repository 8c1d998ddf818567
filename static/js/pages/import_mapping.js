// The column mapping page: the preview's header names the field each column is chosen for,
// and that column is tinted, as the selects change.
const form = document.getElementById("mapping-form");
const table = document.querySelector("table.preview");

function fieldName(select) {
  return select.closest("label").querySelector("span").firstChild.textContent.trim();
}

function show() {
  const chosen = new Map();
  for (const select of form.querySelectorAll("select[name^='map_']")) {
    if (!select.value) continue;
    chosen.set(select.value, [...(chosen.get(select.value) || []), fieldName(select)]);
  }
  const headers = [...table.querySelectorAll("thead th")];
  headers.forEach((th, index) => {
    if (!th.dataset.column) return;
    const fields = chosen.get(th.dataset.column) || [];
    th.querySelector(".as").textContent = fields.length ? `→ ${fields.join(", ")}` : "";
    for (const cell of table.querySelectorAll(`tr > :nth-child(${index + 1})`)) {
      cell.classList.toggle("mapped", fields.length > 0);
    }
  });
}

if (form && table) {
  form.addEventListener("change", show);
  show();
}

// The imports page: polls running import jobs and draws their progress until they finish.
import { api } from "../lib/api.js";

const running = JSON.parse(document.getElementById("running-ids").textContent);

async function poll(id) {
  const row = document.querySelector(`tr[data-batch="${id}"]`);
  if (!row) return;
  try {
    const batch = await api(`/api/import-batches/${id}/`);
    const bar = row.querySelector("progress");
    if (bar) bar.value = batch.progress;
    const label = row.querySelector(".job-status");
    label.textContent = batch.status.charAt(0).toUpperCase() + batch.status.slice(1);
    label.className = `job-status status-${batch.status}`;
    for (const cell of row.querySelectorAll("[data-field]")) cell.textContent = batch[cell.dataset.field];
    if (["succeeded", "failed", "cancelled"].includes(batch.status)) {
      // Reload once to show the final counts, messages and rejected rows.
      window.location.reload();
      return;
    }
  } catch (error) {
    console.warn("polling import", id, error);
  }
  setTimeout(() => poll(id), 700);
}

running.forEach((id) => poll(id));

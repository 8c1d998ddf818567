// The report page: choose all or no themes at once.
document.querySelectorAll("[data-themes]").forEach((button) => {
  button.addEventListener("click", () => {
    const on = button.dataset.themes === "all";
    document.querySelectorAll("#report-form input[name=themes]").forEach((box) => { box.checked = on; });
  });
});

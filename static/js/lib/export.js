// Figures and tables out of the browser: SVG, PNG (drawn from the SVG), CSV and JSON files.

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A standalone SVG string: inline size and a white background, fonts named explicitly. */
export function svgString(svg) {
  const clone = svg.cloneNode(true);
  const box = svg.getBoundingClientRect();
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", Math.ceil(box.width));
  clone.setAttribute("height", Math.ceil(box.height));
  clone.setAttribute("font-family", "system-ui, -apple-system, Segoe UI, Roboto, sans-serif");
  const background = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  background.setAttribute("width", "100%");
  background.setAttribute("height", "100%");
  background.setAttribute("fill", "#fff");
  clone.insertBefore(background, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

export function downloadSVG(svg, filename) {
  download(new Blob([svgString(svg)], { type: "image/svg+xml;charset=utf-8" }), filename);
}

export function downloadPNG(svg, filename, scale = 2) {
  const box = svg.getBoundingClientRect();
  const image = new Image();
  image.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(box.width * scale);
    canvas.height = Math.ceil(box.height * scale);
    const context = canvas.getContext("2d");
    context.scale(scale, scale);
    context.drawImage(image, 0, 0);
    canvas.toBlob((blob) => download(blob, filename), "image/png");
  };
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgString(svg))}`;
}

function csvCell(value) {
  const text = value === null || value === undefined ? "" : String(value);
  // Quote everything that could break a row; neutralise spreadsheet formulas.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function downloadCSV(header, rows, filename) {
  const lines = [header, ...rows].map((row) => row.map(csvCell).join(","));
  download(new Blob(["\ufeff" + lines.join("\r\n")], { type: "text/csv;charset=utf-8" }), filename);
}

export function downloadJSON(data, filename) {
  download(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }), filename);
}

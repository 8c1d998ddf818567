// Code co-occurrence matrix: render(element, data, options) with data {codes: [{id, name,
// path, colour}], values: n × n counts} (the diagonal: posts of the code itself).
// options.onClick(codeA, codeB) for a cell with a count; options.cell (size in px).
export function render(element, data, { cell = 24, unit = "posts", onClick = () => {} } = {}) {
  const d3 = window.d3;
  element.replaceChildren();
  if (!data || !data.codes.length) return null;
  const n = data.codes.length;
  const label = (c) => (c.name.length > 28 ? `${c.name.slice(0, 27)}…` : c.name);
  const margin = { top: 150, right: 140, bottom: 16, left: 210 };
  const width = margin.left + n * cell + margin.right;
  const height = margin.top + n * cell + margin.bottom;
  let peak = 1;
  data.values.forEach((row, i) => row.forEach((v, j) => { if (i !== j) peak = Math.max(peak, v); }));
  const colour = (v) => d3.interpolateBlues(0.2 + (0.65 * v) / peak);
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("role", "img").attr("aria-label", "Code co-occurrence matrix");
  const cells = data.values.flatMap((row, i) => row.map((value, j) => ({ i, j, value })));
  const g = svg.append("g").attr("transform", `translate(${margin.left},${margin.top})`);
  const cellG = g.selectAll("g.cooc-cell").data(cells).join("g")
    .attr("class", (d) => `cooc-cell${d.i === d.j ? " diagonal" : ""}${d.value ? " has-value" : ""}`)
    .attr("data-a", (d) => data.codes[d.i].id).attr("data-b", (d) => data.codes[d.j].id)
    .attr("transform", (d) => `translate(${d.j * cell},${d.i * cell})`)
    .style("cursor", (d) => (d.value ? "pointer" : "default"))
    .on("click", function (event, d) {
      if (!d.value) return;
      svg.selectAll(".cooc-cell.selected").classed("selected", false);
      d3.select(this).classed("selected", true);
      onClick(data.codes[d.i], data.codes[d.j]);
    });
  cellG.append("rect").attr("width", cell - 1).attr("height", cell - 1)
    .attr("fill", (d) => (d.i === d.j ? (d.value ? "#e4e7ec" : "#f2f4f7") : d.value ? colour(d.value) : "#f7f8fa"));
  cellG.filter((d) => d.value).append("text")
    .attr("x", (cell - 1) / 2).attr("y", (cell - 1) / 2).attr("dy", "0.35em").attr("text-anchor", "middle")
    .attr("font-size", 10).attr("pointer-events", "none")
    .attr("fill", (d) => (d.i !== d.j && d.value > peak * 0.6 ? "#fff" : "#1d2330"))
    .text((d) => d.value);
  cellG.append("title").text((d) => {
    const a = data.codes[d.i].path.join(" › ");
    const b = data.codes[d.j].path.join(" › ");
    if (d.i === d.j) return `${a}: applied in ${d.value} ${unit}`;
    return `${a}\n${b}\ntogether in ${d.value} ${unit}`;
  });
  const swatch = (sel) => sel.append("rect").attr("width", 9).attr("height", 9).attr("rx", 2)
    .attr("fill", (d) => d.colour).attr("stroke", "rgba(0,0,0,.2)");
  const rows = svg.append("g").attr("transform", `translate(${margin.left - 8},${margin.top})`)
    .selectAll("g").data(data.codes).join("g")
    .attr("transform", (d, i) => `translate(0,${i * cell + cell / 2})`);
  rows.append("text").attr("x", -14).attr("dy", "0.35em").attr("text-anchor", "end").attr("font-size", 11)
    .attr("fill", "#1d2330").text(label).append("title").text((d) => d.path.join(" › "));
  swatch(rows).attr("x", -9).attr("y", -5);
  const cols = svg.append("g").attr("transform", `translate(${margin.left},${margin.top - 8})`)
    .selectAll("g").data(data.codes).join("g")
    .attr("transform", (d, i) => `translate(${i * cell + cell / 2},0) rotate(-50)`);
  cols.append("text").attr("x", 14).attr("dy", "0.35em").attr("font-size", 11).attr("fill", "#1d2330")
    .text(label).append("title").text((d) => d.path.join(" › "));
  swatch(cols).attr("x", 0).attr("y", -5);
  return svg.node();
}

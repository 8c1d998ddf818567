// Heatmap of agreement by code (rows) and post (columns): render(element, grid, options)
// with grid {codes, posts, values} and values in [0, 1] or null (nobody coded there).
export function render(element, grid, { cell = 16, onClick = () => {} } = {}) {
  const d3 = window.d3;
  element.replaceChildren();
  if (!grid || !grid.codes.length || !grid.posts.length) return null;
  const margin = { top: 30, right: 20, bottom: 10, left: 190 };
  const width = Math.max(480, margin.left + margin.right + grid.posts.length * cell);
  const height = margin.top + margin.bottom + grid.codes.length * cell;
  const colour = d3.scaleSequential(d3.interpolateRdYlGn).domain([0.5, 1]);
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("role", "img").attr("aria-label", "Agreement by code and post");
  const cells = grid.values.flatMap((line, i) => line.map((value, j) => ({ i, j, value })));
  svg.append("g").attr("transform", `translate(${margin.left},${margin.top})`)
    .selectAll("rect").data(cells).join("rect")
    .attr("x", (d) => d.j * cell).attr("y", (d) => d.i * cell)
    .attr("width", cell - 1).attr("height", cell - 1)
    .attr("fill", (d) => (d.value === null ? "#eef1f5" : colour(d.value)))
    .attr("class", "heat-cell")
    .style("cursor", (d) => (d.value === null ? "default" : "pointer"))
    .on("click", (event, d) => { if (d.value !== null) onClick(grid.posts[d.j]); })
    .append("title")
    .text((d) => `${grid.codes[d.i]} · post ${grid.posts[d.j]}: ${d.value === null ? "not coded" : `${(d.value * 100).toFixed(1)}% agreement`}`);
  svg.append("g").selectAll("text").data(grid.codes).join("text")
    .attr("x", margin.left - 6).attr("y", (d, i) => margin.top + i * cell + cell / 2).attr("dy", "0.35em")
    .attr("text-anchor", "end").attr("font-size", 11).attr("fill", "#1d2330").text((d) => d);
  svg.append("text").attr("x", margin.left).attr("y", 14).attr("font-size", 11).attr("fill", "#5f6b7a")
    .text("posts →  (grey: nobody coded this code there)");
  return svg.node();
}

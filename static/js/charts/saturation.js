// Saturation curves: render(element, series, options) with series [{label, points: [{index,
// distinct, new: [{name}], post}]}]; the first series is drawn bold (all coders together).
// Points that brought new codes are marked; their tooltip lists the codes.
const PALETTE = ["#1d2a44", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f", "#4e79a7"];

export function render(element, series, { width = 860, height = 380, highlight = null } = {}) {
  const d3 = window.d3;
  element.replaceChildren();
  const drawn = (series || []).filter((s) => s.points.length);
  if (!drawn.length) return null;
  const margin = { top: 20, right: 180, bottom: 46, left: 56 };
  const xMax = d3.max(drawn, (s) => s.points.length) || 1;
  const yMax = d3.max(drawn, (s) => d3.max(s.points, (p) => p.distinct)) || 1;
  const x = d3.scaleLinear().domain([1, Math.max(2, xMax)]).range([margin.left, width - margin.right]);
  const y = d3.scaleLinear().domain([0, yMax]).nice().range([height - margin.bottom, margin.top]);
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("role", "img").attr("aria-label", "Distinct codes by posts coded");
  svg.append("g").attr("transform", `translate(0,${height - margin.bottom})`)
    .call(d3.axisBottom(x).ticks(Math.min(xMax, 10)).tickFormat(d3.format("d")));
  svg.append("g").attr("transform", `translate(${margin.left},0)`)
    .call(d3.axisLeft(y).ticks(Math.min(yMax, 8)).tickFormat(d3.format("d")))
    .call((g) => g.selectAll(".tick line").clone().attr("x2", width - margin.left - margin.right).attr("stroke-opacity", 0.08));
  svg.append("text").attr("x", (margin.left + width - margin.right) / 2).attr("y", height - 8)
    .attr("text-anchor", "middle").attr("font-size", 12).attr("fill", "#5f6b7a").text("Posts coded (in coding order)");
  svg.append("text").attr("transform", `translate(16,${(margin.top + height - margin.bottom) / 2}) rotate(-90)`)
    .attr("text-anchor", "middle").attr("font-size", 12).attr("fill", "#5f6b7a").text("Distinct codes so far");
  const line = d3.line().x((p) => x(p.index)).y((p) => y(p.distinct));
  drawn.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const bold = i === 0;
    const dim = highlight !== null && highlight !== i;
    const g = svg.append("g").attr("class", "series").attr("opacity", dim ? 0.25 : 1);
    g.append("path").datum(s.points).attr("fill", "none").attr("stroke", colour)
      .attr("stroke-width", bold ? 3 : 1.6).attr("d", line);
    g.selectAll("circle").data(s.points.filter((p) => p.new.length)).join("circle")
      .attr("class", "point-new").attr("cx", (p) => x(p.index)).attr("cy", (p) => y(p.distinct))
      .attr("r", bold ? 4 : 3).attr("fill", "#fff").attr("stroke", colour).attr("stroke-width", 1.6)
      .append("title").text((p) => `${s.label}, post ${p.index}: new ${p.new.map((c) => `“${c.name}”`).join(", ")} (${p.distinct} distinct)`);
    const ly = margin.top + 6 + i * 20;
    svg.append("line").attr("x1", width - margin.right + 16).attr("x2", width - margin.right + 38)
      .attr("y1", ly).attr("y2", ly).attr("stroke", colour).attr("stroke-width", bold ? 3 : 1.6);
    svg.append("text").attr("x", width - margin.right + 44).attr("y", ly).attr("dy", "0.35em")
      .attr("font-size", 12).attr("fill", "#1d2330")
      .text(s.label.length > 18 ? `${s.label.slice(0, 17)}…` : s.label);
  });
  return svg.node();
}

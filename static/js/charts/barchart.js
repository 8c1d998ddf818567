// Horizontal bar chart: render(element, rows, options) with rows [{word, count}].
export function render(element, rows, { width = 720, barHeight = 20, onClick = () => {} } = {}) {
  const d3 = window.d3;
  element.replaceChildren();
  if (!rows.length) return null;
  const margin = { top: 10, right: 60, bottom: 24, left: 150 };
  const height = margin.top + margin.bottom + rows.length * barHeight;
  const x = d3.scaleLinear().domain([0, d3.max(rows, (d) => d.count)]).nice()
    .range([margin.left, width - margin.right]);
  const y = d3.scaleBand().domain(rows.map((d) => d.word)).range([margin.top, height - margin.bottom]).padding(0.15);
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("role", "img").attr("aria-label", "Bar chart of word counts");
  svg.append("g").selectAll("rect").data(rows).join("rect")
    .attr("x", x(0)).attr("y", (d) => y(d.word)).attr("height", y.bandwidth())
    .attr("width", (d) => x(d.count) - x(0)).attr("fill", "#4e79a7")
    .style("cursor", "pointer").on("click", (event, d) => onClick(d.word))
    .append("title").text((d) => `${d.word}: ${d.count}`);
  svg.append("g").selectAll("text").data(rows).join("text")
    .attr("x", (d) => x(d.count) + 4).attr("y", (d) => y(d.word) + y.bandwidth() / 2)
    .attr("dy", "0.35em").attr("font-size", 11).attr("fill", "#333").text((d) => d.count);
  svg.append("g").attr("transform", `translate(${margin.left},0)`).call(d3.axisLeft(y).tickSizeOuter(0))
    .selectAll("text").attr("font-size", 12);
  svg.append("g").attr("transform", `translate(0,${height - margin.bottom})`).call(d3.axisBottom(x).ticks(6));
  return svg.node();
}

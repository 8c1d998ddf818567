// Word cloud (d3-cloud): render(element, words, options) with words [{word, count}].
export function render(element, words, { width = 720, height = 380, onClick = () => {} } = {}) {
  const d3 = window.d3;
  element.replaceChildren();
  if (!words.length) return null;
  const max = d3.max(words, (d) => d.count);
  const min = d3.min(words, (d) => d.count);
  const size = d3.scaleSqrt().domain([min, max]).range([12, 60]);
  const colour = d3.scaleOrdinal(d3.schemeTableau10);
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("role", "img").attr("aria-label", "Word cloud of the most frequent words");
  const group = svg.append("g").attr("transform", `translate(${width / 2},${height / 2})`);
  d3.layout.cloud()
    .size([width, height])
    .words(words.map((d) => ({ text: d.word, size: size(d.count), count: d.count })))
    .padding(2)
    .rotate(() => 0)
    .font("system-ui, sans-serif")
    .fontSize((d) => d.size)
    .random(() => 0.5) // the same words always give the same picture
    .on("end", (placed) => {
      group.selectAll("text").data(placed).join("text")
        .attr("text-anchor", "middle")
        .attr("transform", (d) => `translate(${d.x},${d.y})`)
        .style("font-size", (d) => `${d.size}px`)
        .style("font-family", "system-ui, sans-serif")
        .style("fill", (d, i) => colour(i))
        .style("cursor", "pointer")
        .attr("class", "cloud-word")
        .attr("data-word", (d) => d.text)
        .text((d) => d.text)
        .on("click", (event, d) => onClick(d.text))
        .append("title").text((d) => `${d.text}: ${d.count}`);
    })
    .start();
  return svg.node();
}

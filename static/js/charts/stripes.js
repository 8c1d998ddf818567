// Coding stripes, as in NVivo: one lane per code beside the text, a bar along the lines
// each coding covers, the code's name written down the lane. Knows nothing of the API.
const LANE = 22; // px per code lane: a 6px bar and the label beside it

/**
 * items: [{id, code, name, colour, top, bottom, title}] in px from the top of `element`.
 * options.onClick(ids) is called with the coding ids of a clicked bar.
 */
export function render(element, items, { height, onClick } = {}) {
  const lanes = [];
  const laneOf = new Map();
  [...items].sort((a, b) => a.top - b.top).forEach((item) => {
    if (!laneOf.has(item.code)) {
      laneOf.set(item.code, lanes.length);
      lanes.push({ code: item.code, name: item.name, colour: item.colour, top: item.top });
    }
  });
  const svg = d3.select(element).selectAll("svg").data([null]).join("svg")
    .attr("width", Math.max(lanes.length * LANE, 1))
    .attr("height", height)
    .attr("role", "img")
    .attr("aria-label", `Coding stripes for ${lanes.length} codes`);
  svg.selectAll("g.lane").data(lanes, (d) => d.code).join(
    (enter) => {
      const g = enter.append("g").attr("class", "lane");
      g.append("text").attr("class", "stripe-label");
      return g;
    },
  )
    .attr("transform", (d, i) => `translate(${i * LANE},0)`)
    .select("text")
    .attr("x", 9)
    .attr("y", (d) => d.top + 2)
    .attr("writing-mode", "vertical-rl")
    .attr("fill", "#333")
    .text((d) => d.name);
  svg.selectAll("rect.stripe").data(items, (d) => d.id).join("rect")
    .attr("class", "stripe")
    .attr("data-code", (d) => d.code)
    .attr("x", (d) => laneOf.get(d.code) * LANE + 1)
    .attr("y", (d) => d.top)
    .attr("width", 6)
    .attr("height", (d) => Math.max(d.bottom - d.top, 4))
    .attr("rx", 3)
    .attr("fill", (d) => d.colour)
    .attr("stroke", "rgba(0,0,0,.25)")
    .on("click", (event, d) => onClick && onClick([d.id], event))
    .selectAll("title").data((d) => [d]).join("title").text((d) => d.title);
  return { lanes: lanes.length };
}

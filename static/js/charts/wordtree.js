// Word tree: the root in the middle, what follows it to the right, what leads to it to the
// left; branches merged where they share words, font size by count (as in NVivo and in
// Jason Davies' word tree). render(element, tree, options) with tree {root, count, right, left}.
export function render(element, tree, { onSelect = () => {}, width = 1100 } = {}) {
  const d3 = window.d3;
  element.replaceChildren();
  const maxCount = Math.max(tree.count, 1);
  const font = d3.scaleSqrt().domain([1, maxCount]).range([11, 30]);
  const rowHeight = 24;

  const right = d3.hierarchy(tree.right || { children: [] }, (d) => d.children);
  const left = d3.hierarchy(tree.left || { children: [] }, (d) => d.children);
  // Every leaf has a row of its own, in reading order, and a branch sits midway between its
  // first and last child. A leaf next to a deeper branch of its neighbour so never shares its
  // line, as it could when only phrases of the same depth were kept apart (a long phrase one
  // word from the root ran into the neighbour's next words).
  const typeSize = (node) => (node.parent ? font(node.data.count || 1) : font(tree.count));
  const layout = (hierarchy) => {
    let y = 0;
    hierarchy.eachAfter((node) => {
      if (node.children) {
        node.x = (node.children[0].x + node.children[node.children.length - 1].x) / 2;
      } else {
        const row = Math.max(rowHeight, typeSize(node) * 1.3);
        node.x = y + row / 2;
        y += row;
      }
    });
  };
  layout(right);
  layout(left);

  const measure = (text, size) => text.length * size * 0.55 + 14;
  const rootWidth = measure(tree.root, font(tree.count));
  const centre = width / 2;

  // Each node sits after its parent's phrase (to the right) or before it (to the left).
  const place = (hierarchy, direction) => {
    hierarchy.each((node) => {
      if (!node.parent) {
        node.px = centre + direction * rootWidth / 2;
        return;
      }
      const parentWidth = node.parent.parent ? measure(node.parent.data.phrase, font(node.parent.data.count)) : 0;
      node.px = node.parent.px + direction * (parentWidth + 24);
    });
  };
  place(right, 1);
  place(left, -1);
  // Both sides share the root's row.
  const rootY = 0;
  for (const h of [right, left]) {
    const shift = rootY - h.x;
    h.each((node) => { node.x += shift; });
  }
  const all = [...right.descendants(), ...left.descendants()];
  const top = Math.min(-40, ...all.map((n) => n.x - typeSize(n) / 2)) - 12;
  const bottom = Math.max(40, ...all.map((n) => n.x + typeSize(n) / 2)) + 12;
  const minX = Math.min(0, ...left.descendants().map((n) => n.px - measure(n.data.phrase || "", font(n.data.count || 1))));
  const maxX = Math.max(width, ...right.descendants().map((n) => n.px + measure(n.data.phrase || "", font(n.data.count || 1))));
  const fullWidth = maxX - minX;
  const fullHeight = bottom - top;

  const svg = d3.select(element).append("svg")
    .attr("viewBox", `${minX} ${top} ${fullWidth} ${fullHeight}`).attr("width", fullWidth).attr("height", fullHeight)
    .attr("role", "img").attr("aria-label", `Word tree for “${tree.root}”`);
  const g = svg.append("g");
  const link = (source, target, direction) => {
    const x0 = source.parent ? source.px + direction * measure(source.data.phrase, font(source.data.count)) : source.px;
    const x1 = target.px;
    const xm = (x0 + x1) / 2;
    return `M${x0},${source.x}C${xm},${source.x} ${xm},${target.x} ${x1},${target.x}`;
  };

  for (const [hierarchy, direction, side] of [[right, 1, "right"], [left, -1, "left"]]) {
    g.append("g").selectAll("path").data(hierarchy.links()).join("path")
      .attr("d", (l) => link(l.source, l.target, direction))
      .attr("fill", "none").attr("stroke", "#b8c2cc").attr("stroke-width", 1.2);
    const nodes = g.append("g").selectAll("text").data(hierarchy.descendants().filter((d) => d.parent)).join("text")
      .attr("class", (d) => `branch ${side}${d.children ? "" : " leaf"}`)
      .attr("x", (d) => d.px).attr("y", (d) => d.x).attr("dy", "0.35em")
      .attr("text-anchor", direction > 0 ? "start" : "end")
      .style("font-size", (d) => `${font(d.data.count)}px`)
      .style("cursor", "pointer").style("fill", "#1d2330")
      .text((d) => d.data.phrase)
      .attr("data-phrase", (d) => d.data.phrase)
      .on("click", (event, d) => {
        const words = d.ancestors().reverse().slice(1).map((n) => n.data.phrase);
        // The branch as one phrase in reading order, with the root.
        const phrase = side === "right" ? [tree.root, ...words].join(" ") : [...words.reverse(), tree.root].join(" ");
        onSelect({ phrase, side, node: d.data });
      });
    nodes.append("title").text((d) => `${d.data.phrase}: ${d.data.count}`);
  }
  g.append("text").attr("class", "root")
    .attr("x", centre).attr("y", rootY).attr("dy", "0.35em")
    .attr("text-anchor", "middle").style("font-size", `${font(tree.count)}px`).style("font-weight", 700)
    .style("fill", "#2f5fb3").text(tree.root).attr("data-phrase", tree.root)
    .append("title").text(`${tree.root}: ${tree.count}`);
  return svg.node();
}

// The theme hierarchy (themes → sub-themes → codes) as a collapsible tree, a sunburst or an
// icicle: render(element, tree, options). `tree` is a list of themes, each node
// {id, name, colour, level, quotes, posts, own_quotes, own_posts, status, open_comments,
// agreement: {alpha, percent, kappa} | null, children}. Knows nothing of the API: clicks,
// folds and drops are reported through the callbacks.

const STATUS_MARK = { approved: "✓", needs_work: "!", draft: "" };
const STATUS_LABEL = { approved: "approved", needs_work: "needs work", draft: "draft" };
const NO_VALUE = "#d0d5dd";

export function agreementColour(alpha) {
  const d3 = window.d3;
  if (alpha === null || alpha === undefined) return NO_VALUE;
  return d3.interpolateRdYlGn(Math.max(0, Math.min(1, (alpha + 0.2) / 1.2)));
}

function fill(node, colourBy) {
  if (!node.data.id) return "#eef1f5";
  if (colourBy === "agreement") return agreementColour(node.data.agreement && node.data.agreement.alpha);
  return node.data.colour || "#9ecae1";
}

function tooltip(d, sizeBy) {
  const n = d.data;
  if (!n.id) return "The whole codebook: drop a code here to make it a theme";
  const lines = [`${(n.path || [n.name]).join(" › ")} (${n.level})`,
    `${n.quotes} quote${n.quotes === 1 ? "" : "s"} in ${n.posts} post${n.posts === 1 ? "" : "s"}`,
    `Status: ${STATUS_LABEL[n.status] || n.status}`];
  if (n.open_comments) lines.push(`${n.open_comments} open comment${n.open_comments === 1 ? "" : "s"}`);
  if (n.agreement) {
    const a = n.agreement;
    const f = (v, digits = 2) => (v === null || v === undefined ? "—" : v.toFixed(digits));
    lines.push(`Agreement: α ${f(a.alpha)}, ${a.percent === null ? "—" : (a.percent * 100).toFixed(1) + "%"}, κ ${f(a.kappa)}`);
  }
  if (sizeBy === "posts" && d.children) lines.push("(a branch's size adds up its codes' posts)");
  return lines.join("\n");
}

function rootOf(tree) {
  return { id: null, name: "Codebook", level: "root", children: tree };
}

// ------------------------------------------------------------------ dragging a node onto another

function enableDrag(svg, selection, root, onMove) {
  const d3 = window.d3;
  let ghost = null;
  let target = null;
  const targetUnder = (event) => {
    const e = event.sourceEvent;
    const point = e.touches ? e.touches[0] : e;
    if (ghost) ghost.attr("display", "none");
    const hit = document.elementFromPoint(point.clientX, point.clientY);
    if (ghost) ghost.attr("display", null);
    const el = hit && hit.closest("[data-node]");
    return el && svg.node().contains(el) ? el : null;
  };
  selection.call(
    d3.drag()
      .clickDistance(5)
      .filter((event) => !event.button && !event.ctrlKey)
      .on("start", () => { ghost = null; target = null; })
      .on("drag", function (event, d) {
        if (!d.data.id) return;
        if (!ghost) {
          ghost = svg.append("text").attr("class", "drag-ghost").attr("pointer-events", "none").text(`↳ ${d.data.name}`);
          d3.select(this).classed("dragging", true);
        }
        const [x, y] = d3.pointer(event, svg.node());
        ghost.attr("x", x + 14).attr("y", y + 22);
        const el = targetUnder(event);
        svg.selectAll(".drop-target").classed("drop-target", false);
        target = null;
        if (el) {
          const over = d3.select(el).datum();
          const inside = d.descendants().includes(over);
          if (!inside && over !== d.parent) {
            target = over;
            d3.select(el).classed("drop-target", true);
          }
        }
      })
      .on("end", function (event, d) {
        d3.select(this).classed("dragging", false);
        svg.selectAll(".drop-target").classed("drop-target", false);
        if (ghost) ghost.remove();
        const moved = ghost !== null;
        ghost = null;
        if (moved && target) onMove(d.data, target.data.id || null, target.data);
      }),
  );
}

// ------------------------------------------------------------------ collapsible tree

function renderTree(element, tree, o) {
  const d3 = window.d3;
  const root = d3.hierarchy(rootOf(tree), (d) => (o.collapsed.has(d.id) ? null : d.children));
  const value = (d) => (d.data.id ? d.data[o.sizeBy] || 0 : 0);
  const peak = d3.max(root.descendants(), value) || 1;
  const radius = d3.scaleSqrt().domain([0, peak]).range([4, 15]);
  const r = (d) => (d.data.id ? radius(value(d)) : 7);
  const dx = 30;
  d3.tree().nodeSize([dx, 1]).separation((a, b) => (a.parent === b.parent ? 1 : 1.3))(root);
  let x0 = Infinity;
  let x1 = -Infinity;
  root.each((d) => { x0 = Math.min(x0, d.x); x1 = Math.max(x1, d.x); });
  const margin = { top: 24, left: 84, right: 24 };
  const svg = d3.select(element).append("svg")
    .attr("class", "hierarchy-svg").attr("role", "img").attr("aria-label", "Theme hierarchy as a tree");
  const g = svg.append("g");
  const links = g.append("g").attr("fill", "none").attr("stroke", "#c4ccd6").attr("stroke-width", 1.2);
  const node = g.append("g").selectAll("g").data(root.descendants()).join("g")
    .attr("class", (d) => `node level-${d.data.level}${d.data.id && d.data.id === o.selected ? " selected" : ""}`)
    .attr("data-node", (d) => d.data.id ?? "root")
    .on("click", (event, d) => o.onSelect(d.data.id ? d.data : null));
  node.append("title").text((d) => tooltip(d, o.sizeBy));
  node.append("circle")
    .attr("r", r)
    .attr("fill", (d) => fill(d, o.colourBy))
    .attr("stroke", (d) => (o.collapsed.has(d.data.id) ? "#1d2330" : "rgba(0,0,0,.25)"))
    .attr("stroke-width", (d) => (o.collapsed.has(d.data.id) ? 3 : 1))
    .attr("class", (d) => (d.data.children && d.data.children.length ? "toggle" : ""))
    .on("click", (event, d) => {
      if (!d.data.id || !(d.data.children && d.data.children.length)) return;
      event.stopPropagation();
      o.onToggle(d.data.id);
    });
  const label = node.append("text").attr("class", "node-label")
    .attr("x", (d) => (d.data.id ? r(d) + 6 : -12))
    .attr("text-anchor", (d) => (d.data.id ? "start" : "end"))
    .attr("dy", "0.35em");
  label.append("tspan").attr("class", "name").text((d) => d.data.name);
  label.filter((d) => d.data.id).append("tspan").attr("class", "count").attr("dx", 6).text((d) => value(d));
  label.filter((d) => d.data.id && STATUS_MARK[d.data.status]).append("tspan")
    .attr("class", (d) => `mark status-${d.data.status}`).attr("dx", 6).text((d) => STATUS_MARK[d.data.status]);
  label.filter((d) => d.data.id && o.collapsed.has(d.data.id)).append("tspan")
    .attr("class", "folded").attr("dx", 6).text((d) => `+${d.data.children.length}`);
  label.filter((d) => d.data.open_comments).append("tspan").attr("class", "comments").attr("dx", 6)
    .text((d) => `✎${d.data.open_comments}`);
  // Each column starts past the longest label of the one before, so names never run into
  // the next level's links.
  const reach = [];
  label.each(function (d) {
    let width = 0;
    try { width = this.getComputedTextLength(); } catch { width = 0; }
    if (!width) width = (d.data.name.length + 6) * 7.5;
    const end = d.data.id ? r(d) + 6 + width : 0;
    reach[d.depth] = Math.max(reach[d.depth] || 0, end);
  });
  const column = [0];
  for (let depth = 1; depth <= root.height; depth += 1) {
    column[depth] = column[depth - 1] + Math.max(depth === 1 ? 70 : 110, (reach[depth - 1] || 0) + 46);
  }
  root.each((d) => { d.y = column[d.depth]; });
  node.attr("transform", (d) => `translate(${d.y},${d.x})`);
  links.selectAll("path").data(root.links()).join("path")
    .attr("d", d3.linkHorizontal().x((d) => d.y).y((d) => d.x));
  const width = margin.left + column[root.height] + (reach[root.height] || 0) + margin.right;
  const height = x1 - x0 + margin.top * 2;
  svg.attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height);
  g.attr("transform", `translate(${margin.left},${margin.top - x0})`);
  return { svg, node };
}

// ------------------------------------------------------------------ sunburst and icicle

function partitioned(tree, o) {
  const d3 = window.d3;
  const root = d3.hierarchy(rootOf(tree))
    .sum((d) => (d.id ? (o.sizeBy === "posts" ? d.own_posts : d.own_quotes) || 0 : 0))
    .sort((a, b) => b.value - a.value);
  return root;
}

function renderSunburst(element, tree, o) {
  const d3 = window.d3;
  const root = partitioned(tree, o);
  const size = Math.max(420, Math.min(720, element.clientWidth || 640));
  const radius = size / 2;
  d3.partition().size([2 * Math.PI, radius])(root);
  const ring = radius / (root.height + 1);
  const arc = d3.arc().startAngle((d) => d.x0).endAngle((d) => d.x1)
    .padAngle((d) => Math.min((d.x1 - d.x0) / 2, 0.004)).padRadius(radius / 2)
    .innerRadius((d) => d.y0).outerRadius((d) => d.y1 - 1);
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `${-radius} ${-radius} ${size} ${size}`).attr("width", size).attr("height", size)
    .attr("class", "hierarchy-svg").attr("role", "img").attr("aria-label", "Theme hierarchy as a sunburst");
  const shown = root.descendants().filter((d) => d.depth && d.x1 - d.x0 > 0.001);
  const node = svg.append("g").selectAll("g").data([root, ...shown]).join("g")
    .attr("class", (d) => `node level-${d.data.level}${d.data.id && d.data.id === o.selected ? " selected" : ""}`)
    .attr("data-node", (d) => d.data.id ?? "root")
    .on("click", (event, d) => o.onSelect(d.data.id ? d.data : null));
  node.append("title").text((d) => tooltip(d, o.sizeBy));
  node.filter((d) => d.depth).append("path").attr("d", arc).attr("fill", (d) => fill(d, o.colourBy))
    .attr("fill-opacity", (d) => (d.data.status === "approved" || o.colourBy === "agreement" ? 1 : 0.8));
  node.filter((d) => !d.depth).append("circle").attr("r", ring - 2).attr("fill", "#f6f7f9").attr("stroke", "#dde2e8");
  node.filter((d) => !d.depth).append("text").attr("text-anchor", "middle").attr("dy", "0.35em")
    .attr("class", "node-label center").text("Codebook");
  node.filter((d) => d.depth && (d.y0 + d.y1) / 2 * (d.x1 - d.x0) > 14).append("text")
    .attr("class", "arc-label").attr("pointer-events", "none").attr("dy", "0.35em").attr("text-anchor", "middle")
    .attr("transform", (d) => {
      const x = (((d.x0 + d.x1) / 2) * 180) / Math.PI;
      const y = (d.y0 + d.y1) / 2;
      return `rotate(${x - 90}) translate(${y},0) rotate(${x < 180 ? 0 : 180})`;
    })
    .text((d) => {
      const room = Math.floor((d.y1 - d.y0 - 6) / 6.5);
      const text = `${STATUS_MARK[d.data.status] ? STATUS_MARK[d.data.status] + " " : ""}${d.data.name}`;
      return text.length > room ? text.slice(0, Math.max(1, room - 1)) + "…" : text;
    });
  return { svg, node, empty: !root.value };
}

function renderIcicle(element, tree, o) {
  const d3 = window.d3;
  const root = partitioned(tree, o);
  const width = Math.max(640, element.clientWidth || 900);
  const rows = Math.max(10, root.leaves().length);
  const height = Math.max(360, Math.min(1400, rows * 22));
  d3.partition().size([height, width]).padding(1)(root);
  // The root ("Codebook") only needs a narrow strip; the levels share the rest.
  const strip = 64;
  const level = (width - strip) / Math.max(1, root.height);
  root.each((d) => {
    d.y0 = d.depth ? strip + (d.depth - 1) * level : 0;
    d.y1 = d.depth ? d.y0 + level - 1 : strip - 1;
  });
  const svg = d3.select(element).append("svg")
    .attr("viewBox", `0 0 ${width} ${height}`).attr("width", width).attr("height", height)
    .attr("class", "hierarchy-svg").attr("role", "img").attr("aria-label", "Theme hierarchy as an icicle");
  const shown = root.descendants().filter((d) => !d.depth || d.x1 - d.x0 > 0.5);
  const node = svg.append("g").selectAll("g").data(shown).join("g")
    .attr("class", (d) => `node level-${d.data.level}${d.data.id && d.data.id === o.selected ? " selected" : ""}`)
    .attr("data-node", (d) => d.data.id ?? "root")
    .attr("transform", (d) => `translate(${d.y0},${d.x0})`)
    .on("click", (event, d) => o.onSelect(d.data.id ? d.data : null));
  node.append("title").text((d) => tooltip(d, o.sizeBy));
  node.append("rect").attr("width", (d) => d.y1 - d.y0).attr("height", (d) => d.x1 - d.x0)
    .attr("fill", (d) => fill(d, o.colourBy)).attr("rx", 2);
  node.filter((d) => d.x1 - d.x0 > 13).append("text").attr("class", "node-label")
    .attr("x", 6).attr("y", (d) => Math.min(16, (d.x1 - d.x0) / 2 + 4)).attr("pointer-events", "none")
    .text((d) => {
      const room = Math.floor((d.y1 - d.y0 - 12) / 7);
      const mark = STATUS_MARK[d.data.status] ? `${STATUS_MARK[d.data.status]} ` : "";
      const count = d.data.id ? ` ${d.data.id ? d.value : ""}` : "";
      const text = `${mark}${d.data.name}${count}`;
      return text.length > room ? text.slice(0, Math.max(1, room - 1)) + "…" : text;
    });
  return { svg, node, empty: !root.value };
}

/**
 * options: layout "tree" | "sunburst" | "icicle"; sizeBy "quotes" | "posts";
 * colourBy "code" | "agreement"; selected (id); collapsed (Set of ids); draggable;
 * onSelect(node | null); onToggle(id); onMove(node, parentId | null, parentNode).
 */
export function render(element, tree, options = {}) {
  const o = {
    layout: "tree", sizeBy: "quotes", colourBy: "code", selected: null, collapsed: new Set(),
    draggable: false, onSelect: () => {}, onToggle: () => {}, onMove: () => {}, ...options,
  };
  element.replaceChildren();
  if (!tree || !tree.length) return null;
  const drawn = o.layout === "sunburst" ? renderSunburst(element, tree, o)
    : o.layout === "icicle" ? renderIcicle(element, tree, o) : renderTree(element, tree, o);
  if (drawn.empty) {
    element.replaceChildren();
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = `Nothing is coded yet, so the ${o.layout} has nothing to size. The tree shows every theme and code.`;
    element.append(p);
    return null;
  }
  if (o.draggable) enableDrag(drawn.svg, drawn.node, null, o.onMove);
  return drawn.svg.node();
}

// Small inline-SVG charts for the status view: no library, no network, text via textContent only.
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#2f6fbd", "#d9822b", "#3a9e58", "#b6443c", "#7a5bb5", "#8c6d3f", "#c55fa1", "#5e6b78"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(width, height) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img" });
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

function formatSeconds(s) {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  return `${s.toFixed(s < 10 ? 2 : 1)} s`;
}

function axis(root, { left, top, plotW, plotH, max, format }) {
  for (let i = 0; i <= 4; i += 1) {
    const value = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    root.append(svg("line", { x1: left, x2: left + plotW, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, format(value)));
  }
}

function empty(container, message) {
  container.replaceChildren();
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = message;
  container.append(p);
}

// rows: [{task_type, count, p50_s, p95_s, p99_s}]
export function latencyChart(container, rows) {
  if (!rows.length) return empty(container, "No task finished in this window.");
  const keys = [["p50_s", "p50"], ["p95_s", "p95"], ["p99_s", "p99"]];
  const width = 560, height = 240, left = 64, top = 24, bottom = 40;
  const plotW = width - left - 12, plotH = height - top - bottom;
  const max = niceMax(Math.max(...rows.flatMap((r) => keys.map(([k]) => r[k]))));
  const root = frame(width, height);
  axis(root, { left, top, plotW, plotH, max, format: formatSeconds });
  const group = plotW / rows.length;
  const bar = Math.min(28, (group - 16) / keys.length);
  rows.forEach((row, i) => {
    const x0 = left + i * group + (group - bar * keys.length) / 2;
    keys.forEach(([key, label], k) => {
      const h = (plotH * row[key]) / max;
      const rect = svg("rect", {
        x: x0 + k * bar, y: top + plotH - h, width: bar - 2, height: Math.max(h, 0.5), fill: COLORS[k],
      });
      rect.append(svg("title", {}, `${row.task_type} ${label}: ${formatSeconds(row[key])}`));
      root.append(rect);
    });
    root.append(svg("text", { x: left + (i + 0.5) * group, y: height - 20, "text-anchor": "middle", class: "label" },
      `${row.task_type} (${row.count})`));
  });
  keys.forEach(([, label], k) => {
    root.append(svg("rect", { x: left + k * 56, y: 4, width: 10, height: 10, fill: COLORS[k] }));
    root.append(svg("text", { x: left + k * 56 + 14, y: 13, class: "tick" }, label));
  });
  container.replaceChildren(root);
}

// series: {minutes: [iso], per_type: {type: [count]}}
export function throughputChart(container, series) {
  const types = Object.keys(series.per_type);
  if (!types.length) return empty(container, "No task finished in this window.");
  const width = 560, height = 240, left = 48, top = 24, bottom = 40;
  const plotW = width - left - 28, plotH = height - top - bottom;
  const n = series.minutes.length;
  const max = niceMax(Math.max(...types.flatMap((t) => series.per_type[t])));
  const root = frame(width, height);
  axis(root, { left, top, plotW, plotH, max, format: (v) => String(Math.round(v * 10) / 10) });
  const x = (i) => left + (n === 1 ? plotW / 2 : (plotW * i) / (n - 1));
  const y = (v) => top + plotH - (plotH * v) / max;
  types.forEach((type, t) => {
    const values = series.per_type[type];
    const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    root.append(svg("polyline", { points, fill: "none", stroke: COLORS[t % COLORS.length], "stroke-width": 2 }));
    values.forEach((v, i) => {
      const dot = svg("circle", { cx: x(i), cy: y(v), r: 2.5, fill: COLORS[t % COLORS.length] });
      dot.append(svg("title", {}, `${type} ${series.minutes[i].slice(11, 16)}Z: ${v}`));
      root.append(dot);
    });
    root.append(svg("rect", { x: left + t * 110, y: 4, width: 10, height: 10, fill: COLORS[t % COLORS.length] }));
    root.append(svg("text", { x: left + t * 110 + 14, y: 13, class: "tick" }, type));
  });
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  series.minutes.forEach((minute, i) => {
    if (i % labelEvery === 0 || i === n - 1) {
      root.append(svg("text", { x: x(i), y: height - 20, "text-anchor": "middle", class: "tick" }, minute.slice(11, 16)));
    }
  });
  container.replaceChildren(root);
}

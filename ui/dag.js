// Draws a plan (`{nodes: [{id, description, parallelism, inputs}]}` as
// /jobs/:id/plan and /jars/:id/plan give it) as an SVG DAG laid out left
// to right: a node's column is its longest path from a source, chained
// operators are listed inside their node, edges carry their ship strategy.
const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 250, COL_GAP = 120, ROW_GAP = 28, LINE = 16, PAD = 10;

/** An SVG element with attributes and optional text (shared with the charts). */
export function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The operators of a chained vertex, from its plan description. */
export function operatorsOf(node) {
  return String(node.description || '')
    .split(/<br\s*\/?>/)
    .map((s) => s.replace(/^\s*\+-\s*/, '').trim())
    .filter(Boolean);
}

/** Clips a label to fit a node. */
const clip = (s, n = 34) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Renders `plan` into `container`. `onSelect(id)` is called when a node is
 * clicked or activated with Enter/Space. Returns `update(metaById, selectedId)`
 * which rewrites each node's status lines in place (focus stays where it is).
 */
export function renderDag(container, plan, onSelect) {
  const nodes = plan.nodes.slice();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const layer = new Map();
  const depth = (n, seen = new Set()) => {
    if (layer.has(n.id)) return layer.get(n.id);
    if (seen.has(n.id)) return 0;
    seen.add(n.id);
    const d = Math.max(-1, ...(n.inputs || []).map((i) => (byId.has(i.id) ? depth(byId.get(i.id), seen) : -1))) + 1;
    layer.set(n.id, d);
    return d;
  };
  nodes.forEach((n) => depth(n));
  const columns = [];
  // Sources first in plan order reversed (the plan lists sinks first).
  for (const n of nodes.slice().reverse()) (columns[layer.get(n.id)] ||= []).push(n);
  const height = (n) => PAD * 2 + LINE * (operatorsOf(n).length + 3);
  const pos = new Map();
  let totalH = 0;
  columns.forEach((col, c) => {
    let y = PAD;
    for (const n of col) { pos.set(n.id, { x: PAD + c * (NODE_W + COL_GAP), y, h: height(n) }); y += height(n) + ROW_GAP; }
    totalH = Math.max(totalH, y);
  });
  const width = PAD * 2 + columns.length * NODE_W + (columns.length - 1) * COL_GAP;
  const root = svg('svg', { width, height: totalH, viewBox: `0 0 ${width} ${totalH}`, role: 'group', 'aria-label': 'Job graph' });
  for (const n of nodes) {
    for (const input of n.inputs || []) {
      const from = pos.get(input.id), to = pos.get(n.id);
      if (!from || !to) continue;
      const x1 = from.x + NODE_W, y1 = from.y + from.h / 2, x2 = to.x, y2 = to.y + to.h / 2, mx = (x1 + x2) / 2;
      root.append(svg('path', { class: 'edge', d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 6},${y2}`, 'marker-end': 'url(#arrow)' }));
      root.append(svg('text', { class: 'edge-label', x: mx, y: (y1 + y2) / 2 - 6, 'text-anchor': 'middle' }, input.ship_strategy));
    }
  }
  const defs = svg('defs');
  const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 4, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#829ab1' }));
  defs.append(marker);
  root.prepend(defs);
  const metaLines = new Map();
  const groups = new Map();
  for (const n of nodes) {
    const p = pos.get(n.id);
    const ops = operatorsOf(n);
    const g = svg('g', { class: 'node', transform: `translate(${p.x},${p.y})`, tabindex: 0, role: 'button', 'data-vertex': n.id,
      'aria-label': `${ops.join(' then ')}, parallelism ${n.parallelism}` });
    g.append(svg('title', {}, ops.join(' -> ')));
    g.append(svg('rect', { width: NODE_W, height: p.h }));
    g.append(svg('text', { class: 'title', x: PAD, y: PAD + 12 }, `Parallelism: ${n.parallelism}`));
    ops.forEach((op, i) => g.append(svg('text', { class: 'op', x: PAD, y: PAD + 12 + LINE * (i + 1) }, `${i ? '→ ' : ''}${clip(op)}`)));
    const m1 = svg('text', { class: 'meta', x: PAD, y: PAD + 12 + LINE * (ops.length + 1) }, '');
    const m2 = svg('text', { class: 'meta', x: PAD, y: PAD + 12 + LINE * (ops.length + 2) }, '');
    g.append(m1, m2);
    metaLines.set(n.id, [m1, m2]);
    groups.set(n.id, g);
    if (onSelect) {
      g.addEventListener('click', () => onSelect(n.id));
      g.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onSelect(n.id); } });
    }
    root.append(g);
  }
  container.replaceChildren(root);
  return (metaById = {}, selectedId = null) => {
    for (const [id, [m1, m2]] of metaLines) {
      const [a = '', b = ''] = metaById[id] || [];
      m1.textContent = a;
      m2.textContent = b;
      groups.get(id).classList.toggle('selected', id === selectedId);
    }
  };
}

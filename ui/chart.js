// A line chart of a vertex's records in and out per second over the last
// minutes, as Flink's JobManager computes them
// (`/jobs/:id/vertices/:vid/subtasks/metrics?get=numRecordsInPerSecond,numRecordsOutPerSecond&agg=sum`),
// one point per refresh. Plain SVG, no library.
import { api, h, fmtNum } from './app.js';
import { svg } from './dag.js';

const W = 600, H = 120, PAD = 4;
/** Points kept per vertex: five minutes at the 3 s refresh. */
const KEEP = 100;
const SERIES = [['numRecordsInPerSecond', 'in'], ['numRecordsOutPerSecond', 'out']];

/** `[x,y …]` of `values` scaled to the chart, the highest value at the top. */
function points(values, max) {
  const step = (W - 2 * PAD) / Math.max(1, KEEP - 1);
  const x0 = W - PAD - (values.length - 1) * step;
  return values.map((v, i) => `${(x0 + i * step).toFixed(1)},${(H - PAD - (v / max) * (H - 2 * PAD)).toFixed(1)}`).join(' ');
}

/**
 * A chart that keeps each vertex's history while the page is open. `sample(jid, vertex)` fetches the vertex's
 * current rates, adds a point and redraws; the returned element is the chart.
 */
export function rateChart() {
  const history = new Map();
  const caption = h('div', { class: 'muted', id: 'rate-caption' });
  const plot = svg('svg', { id: 'rate-chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  const element = h('div', { class: 'panel chart-panel' }, caption, plot);

  async function sample(jid, vertex) {
    const ids = SERIES.map(([id]) => id).join(',');
    const rates = await api(`/jobs/${jid}/vertices/${vertex.id}/subtasks/metrics?get=${ids}&agg=sum`);
    const points_ = history.get(vertex.id) || SERIES.map(() => []);
    SERIES.forEach(([id], i) => {
      const found = rates.find((r) => r.id === id);
      points_[i].push(found ? found.sum : 0);
      if (points_[i].length > KEEP) points_[i].shift();
    });
    history.set(vertex.id, points_);
    const max = Math.max(1, ...points_.flat());
    plot.setAttribute('aria-label', `Records per second of ${vertex.name}`);
    plot.replaceChildren(
      svg('line', { class: 'axis', x1: 0, y1: H - PAD, x2: W, y2: H - PAD }),
      ...points_.map((values, i) => svg('polyline', { class: `rate ${SERIES[i][1]}`, points: points(values, max) })),
    );
    const last = points_.map((values) => values[values.length - 1]);
    caption.replaceChildren(`Records/s of ${vertex.name}: `, h('span', { class: 'rate-in' }, `in ${fmtNum(Math.round(last[0]))}`),
      ' · ', h('span', { class: 'rate-out' }, `out ${fmtNum(Math.round(last[1]))}`), ` (peak ${fmtNum(Math.round(max))})`);
  }

  return { element, sample };
}

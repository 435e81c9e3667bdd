/**
 * `ringside tune --report FILE.html`: one self-contained page (inline CSS and SVG, no scripts, no
 * network resources) so it can be attached to a ticket or opened offline: the table, the
 * recommendation with its rule, and charts of throughput and p99 against the swept setting.
 */
import type { StepResult } from './recommend.js';

export interface HtmlReport {
  title: string;
  sweptLabel: string;
  results: readonly StepResult[];
  recommendedIndex: number;
  reason: string;
  load: string;
  generatedAt: string;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xLabel(r: StepResult): string {
  return r.value ?? String(r.workers);
}

/** A small line chart with points; the recommended point is drawn larger and in the accent colour. */
function lineChart(title: string, unit: string, results: readonly StepResult[], pick: (r: StepResult) => number, recommended: number, sweptLabel: string): string {
  const W = 460;
  const H = 260;
  const left = 64;
  const right = 16;
  const top = 30;
  const bottom = 44;
  const values = results.map(pick);
  const max = Math.max(1, ...values) * 1.15;
  const n = results.length;
  const x = (i: number): number => (n === 1 ? left + (W - left - right) / 2 : left + (i * (W - left - right)) / (n - 1));
  const y = (v: number): number => top + (H - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="t">${esc(title)}</text>`);
  for (let g = 0; g <= 4; g++) {
    const v = (max * g) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="a">${esc(compact(v))}</text>`);
  }
  parts.push(`<text x="14" y="${(top + H - bottom) / 2}" transform="rotate(-90 14 ${(top + H - bottom) / 2})" text-anchor="middle" class="a">${esc(unit)}</text>`);
  results.forEach((r, i) => parts.push(`<text x="${x(i).toFixed(1)}" y="${H - bottom + 18}" text-anchor="middle" class="a">${esc(xLabel(r))}</text>`));
  parts.push(`<text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle" class="a">${esc(sweptLabel)}</text>`);
  const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${pts}" class="line"/>`);
  values.forEach((v, i) => {
    const rec = i === recommended;
    parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="${rec ? 7 : 4}" class="${rec ? 'rec' : 'pt'}"><title>${esc(`${xLabel(results[i]!)}: ${compact(v)} ${unit}`)}</title></circle>`);
    parts.push(`<text x="${x(i).toFixed(1)}" y="${(y(v) - 11).toFixed(1)}" text-anchor="middle" class="v">${esc(compact(v))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function compact(v: number): string {
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(1)}M`;
  if (v >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  return v >= 10 ? v.toFixed(0) : v.toFixed(2);
}

export function renderHtml(r: HtmlReport): string {
  const rows = r.results
    .map(
      (s, i) =>
        `<tr${i === r.recommendedIndex ? ' class="recrow"' : ''}><td>${esc(xLabel(s))}</td><td>${s.workers}</td><td>${Math.round(s.rps)}</td>` +
        `<td>${s.p50_us}</td><td>${s.p99_us}</td><td>${s.cpu_cores.toFixed(2)}</td><td>${s.errors}</td></tr>`,
    )
    .join('\n');
  const rec = r.results[r.recommendedIndex];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1000px}
h1{font-size:20px;margin:0 0 4px}.sub{color:#5b6475;margin-bottom:16px}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #d5dae3;padding:4px 10px;text-align:right}
th{background:#f2f4f8}.recrow td{background:#e4f4e8;font-weight:600}
.rec-box{border-left:4px solid #2f9e58;background:#f3faf5;padding:8px 12px;margin:12px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg .t{font-size:14px;font-weight:600;fill:#1d2330}svg .a{font-size:11px;fill:#5b6475}svg .v{font-size:11px;fill:#1d2330}
svg .grid{stroke:#e6e9ef}svg .line{fill:none;stroke:#3b6fd8;stroke-width:2}
svg .pt{fill:#3b6fd8}svg .rec{fill:#2f9e58;stroke:#fff;stroke-width:2}
</style></head><body>
<h1>${esc(r.title)}</h1>
<div class="sub">${esc(r.load)} · ${esc(r.generatedAt)}</div>
<div class="rec-box"><b>Recommended: ${esc(r.sweptLabel)} = ${esc(rec === undefined ? 'none' : xLabel(rec))}</b><br>${esc(r.reason)}</div>
<div class="charts">
${lineChart('Throughput', 'req/s', r.results, (s) => s.rps, r.recommendedIndex, r.sweptLabel)}
${lineChart('p99 latency', 'µs', r.results, (s) => s.p99_us, r.recommendedIndex, r.sweptLabel)}
</div>
<table><thead><tr><th>${esc(r.sweptLabel)}</th><th>workers</th><th>req/s</th><th>p50 µs</th><th>p99 µs</th><th>sidecar CPU cores</th><th>errors</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

/**
 * `ringside tune --report FILE.html`: one self-contained page (inline CSS and SVG, no scripts, no
 * network resources) so it can be attached to a ticket or opened offline: the recommendation with
 * its rule, charts of throughput and p99 against the swept setting, with --slo the latency-under-load
 * curve of every setting (the objective's percentile against the offered open-loop rate, where the
 * knee shows), and the table below them.
 */
import type { StepResult } from './recommend.js';
import type { Slo } from './slo.js';

export interface HtmlReport {
  title: string;
  sweptLabel: string;
  results: readonly StepResult[];
  recommendedIndex: number;
  reason: string;
  load: string;
  generatedAt: string;
  slo?: Slo;
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

const SERIES = ['#3b6fd8', '#d8793b', '#2f9e58', '#a23bd8', '#d83b5e', '#3bb7d8', '#8a8f3b', '#5e5e5e'];

/**
 * The latency-under-load chart: one line per setting through its open-loop steps (sorted by offered
 * rate), the objective as a dashed line, held steps filled and the others hollow.
 */
function curveChart(results: readonly StepResult[], slo: Slo, recommended: number): string {
  const W = 940;
  const H = 340;
  const left = 70;
  const right = 150;
  const top = 30;
  const bottom = 44;
  const all = results.flatMap((r) => r.curve ?? []);
  const maxX = Math.max(1, ...all.map((p) => p.offered_rps)) * 1.05;
  // Latency past a few times the objective is queueing without bound; the scale stops there.
  const maxY = Math.max(slo.limitUs * 1.3, Math.min(Math.max(...all.map((p) => p.slo_us)), slo.limitUs * 4)) * 1.05;
  const x = (v: number): number => left + (W - left - right) * (v / maxX);
  const y = (v: number): number => top + (H - top - bottom) * (1 - Math.min(v, maxY) / maxY);
  const parts: string[] = [];
  const title = `${slo.percentile} latency under open-loop load (objective ${slo.text})`;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<text x="${(left + W - right) / 2}" y="18" text-anchor="middle" class="t">${esc(title)}</text>`);
  for (let g = 0; g <= 4; g++) {
    const v = (maxY * g) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="a">${esc(compact(v))}</text>`);
    const xv = (maxX * g) / 4;
    parts.push(`<text x="${x(xv).toFixed(1)}" y="${H - bottom + 18}" text-anchor="middle" class="a">${esc(compact(xv))}</text>`);
  }
  parts.push(`<text x="14" y="${(top + H - bottom) / 2}" transform="rotate(-90 14 ${(top + H - bottom) / 2})" text-anchor="middle" class="a">${esc(`${slo.percentile} µs`)}</text>`);
  parts.push(`<text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle" class="a">offered req/s</text>`);
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(slo.limitUs).toFixed(1)}" y2="${y(slo.limitUs).toFixed(1)}" class="slo"/>`);
  parts.push(`<text x="${W - right + 4}" y="${(y(slo.limitUs) + 4).toFixed(1)}" class="a">${esc(slo.text)}</text>`);
  results.forEach((r, i) => {
    const pts = [...(r.curve ?? [])].sort((a, b) => a.offered_rps - b.offered_rps);
    if (pts.length === 0) return;
    const colour = SERIES[i % SERIES.length]!;
    const name = xLabel(r) + (i === recommended ? ' (recommended)' : '');
    parts.push(`<polyline points="${pts.map((p) => `${x(p.offered_rps).toFixed(1)},${y(p.slo_us).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="${i === recommended ? 3 : 2}"/>`);
    for (const p of pts) {
      const tip = `${xLabel(r)}: ${p.offered_rps} req/s offered, ${p.rps} answered, ${slo.percentile} ${p.slo_us} µs, ${p.holds ? 'holds' : 'does not hold'}`;
      parts.push(`<circle cx="${x(p.offered_rps).toFixed(1)}" cy="${y(p.slo_us).toFixed(1)}" r="4" fill="${p.holds ? colour : '#fff'}" stroke="${colour}" stroke-width="2"><title>${esc(tip)}</title></circle>`);
    }
    const ly = top + 14 + i * 18;
    parts.push(`<line x1="${W - right + 4}" x2="${W - right + 24}" y1="${ly + 20}" y2="${ly + 20}" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${W - right + 28}" y="${ly + 24}" class="a">${esc(name)}</text>`);
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
  // The workers column is the first column when workers is what was swept; only a --param sweep
  // (workers fixed, another setting varied) shows it beside the swept one.
  const workersColumn = r.sweptLabel !== 'workers';
  const slo = r.slo;
  const rows = r.results
    .map(
      (s, i) =>
        `<tr${i === r.recommendedIndex ? ' class="recrow"' : ''}><td>${esc(xLabel(s))}</td>${workersColumn ? `<td>${s.workers}</td>` : ''}<td>${Math.round(s.rps)}</td>` +
        `<td>${s.p50_us}</td><td>${s.p99_us}</td><td>${s.cpu_cores.toFixed(2)}</td><td>${s.errors}</td>` +
        (slo === undefined ? '' : `<td>${s.slo_max_rps ?? 0}</td>`) +
        `</tr>`,
    )
    .join('\n');
  const curves = slo !== undefined && r.results.some((s) => (s.curve ?? []).length > 0) ? `<div class="charts">\n${curveChart(r.results, slo, r.recommendedIndex)}\n</div>` : '';
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
svg .pt{fill:#3b6fd8}svg .rec{fill:#2f9e58;stroke:#fff;stroke-width:2}svg .slo{stroke:#c0392b;stroke-dasharray:6 4;stroke-width:1.5}
</style></head><body>
<h1>${esc(r.title)}</h1>
<div class="sub">${esc(r.load)} · ${esc(r.generatedAt)}</div>
<div class="rec-box"><b>Recommended: ${esc(r.sweptLabel)} = ${esc(rec === undefined ? 'none' : xLabel(rec))}</b><br>${esc(r.reason)}</div>
<div class="charts">
${lineChart('Throughput', 'req/s', r.results, (s) => s.rps, r.recommendedIndex, r.sweptLabel)}
${lineChart('p99 latency', 'µs', r.results, (s) => s.p99_us, r.recommendedIndex, r.sweptLabel)}
</div>
${curves}
<table><thead><tr><th>${esc(r.sweptLabel)}</th>${workersColumn ? '<th>workers</th>' : ''}<th>req/s</th><th>p50 µs</th><th>p99 µs</th><th>sidecar CPU cores</th><th>errors</th>${slo === undefined ? '' : `<th>req/s within ${esc(slo.text)}</th>`}</tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

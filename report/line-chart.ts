/** A dependency-free SVG line chart: enough for accuracy-vs-step plots in docs and reports. */

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

export function lineChart(series: Series[], o: ChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 400;
  const m = { left: 60, right: 140, top: 40, bottom: 50 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(1, ...xs);
  const yMin = o.yMin ?? Math.min(...ys);
  const yMax = o.yMax ?? Math.max(...ys);
  const px = (x: number) => m.left + ((x - xMin) / (xMax - xMin || 1)) * (width - m.left - m.right);
  const py = (y: number) =>
    height - m.bottom - ((y - yMin) / (yMax - yMin || 1)) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    // The accessible name of the chart: screen readers and image viewers show it.
    `<title>${escapeXml(o.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(o.title)}</text>`,
  ];
  for (const t of ticks(yMin, yMax)) {
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${format(t)}</text>`,
    );
  }
  for (const t of ticks(xMin, xMax)) {
    parts.push(`<text x="${px(t)}" y="${height - m.bottom + 18}" text-anchor="middle">${format(t)}</text>`);
  }
  parts.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points)
      parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = m.top + 10 + i * 18;
    parts.push(
      `<line x1="${width - m.right + 12}" x2="${width - m.right + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - m.right + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function ticks(min: number, max: number, count = 5): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const nice = [1, 2, 5, 10].map((f) => f * step).find((s) => span / s <= count) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(min / nice) * nice; t <= max + 1e-9; t += nice) out.push(Number(t.toFixed(10)));
  return out;
}

function format(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

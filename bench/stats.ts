/** Latency samples in milliseconds. */
export class Samples {
  private readonly values: number[] = [];
  private sorted = true;

  add(ms: number): void {
    this.values.push(ms);
    this.sorted = false;
  }

  get count(): number {
    return this.values.length;
  }

  /** Nearest-rank percentile (p in 0..100); NaN when there are no samples. */
  percentile(p: number): number {
    if (this.values.length === 0) return NaN;
    if (!this.sorted) {
      this.values.sort((a, b) => a - b);
      this.sorted = true;
    }
    const rank = Math.max(1, Math.ceil((p / 100) * this.values.length));
    return this.values[Math.min(rank, this.values.length) - 1];
  }

  get max(): number {
    return this.percentile(100);
  }

  get mean(): number {
    return this.values.length === 0 ? NaN : this.values.reduce((a, b) => a + b, 0) / this.values.length;
  }
}

/**
 * `total` calls shared by `clients` workers running at once (each takes the next call when its
 * last one answered), each timed from its start to its end; and the wall time of them all.
 */
export async function timedCalls(clients: number, total: number, call: (worker: number) => Promise<void>): Promise<{ wallMs: number; latency: Samples }> {
  const latency = new Samples();
  let next = 0;
  const worker = async (w: number) => {
    while (next < total) {
      next++;
      const sent = performance.now();
      await call(w);
      latency.add(performance.now() - sent);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
  return { wallMs: performance.now() - start, latency };
}

export const fmtMs = (ms: number): string => (Number.isNaN(ms) ? '–' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
export const fmtRate = (n: number): string => (Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
export const fmtPair = (s: Samples): string => `${fmtMs(s.percentile(50))} / ${fmtMs(s.percentile(99))}`;

/** A GitHub-flavoured Markdown table, columns padded so it also reads well on a terminal. */
export function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length), 3));
  const pad = (s: string, i: number) => (align[i] === 'l' ? s.padEnd(widths[i]) : s.padStart(widths[i]));
  const line = (cells: string[]) => `| ${cells.map((c, i) => pad(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'l' ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

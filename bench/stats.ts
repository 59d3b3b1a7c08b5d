/** Figures every benchmark reports: percentiles by the nearest-rank method, and their summary. */

/** The `p`th percentile of `xs` (nearest rank: the smallest value with at least p % of them at or below it); NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
}

/** How many, p50, p95 and the largest, rounded (ms where the values are ms). */
export function summary(xs: readonly number[]): { n: number; p50: number; p95: number; max: number } {
  return { n: xs.length, p50: Math.round(percentile(xs, 50)), p95: Math.round(percentile(xs, 95)), max: Math.round(Math.max(...xs)) };
}

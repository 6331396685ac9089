/** Scales, ticks and the expected-healing line of the healing chart (pure). */

export interface Scale {
  (value: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** Round tick values covering [min, max] (about `count` of them), starting at or below min. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

const DAY = 86_400_000;
export const WEEK = 7 * DAY;

/** Week ticks from t0 (ms) covering [t0, t1]: every 1, 2 or 4 weeks so there are <= maxTicks. */
export function weekTicks(t0: number, t1: number, maxTicks = 8): { t: number; week: number }[] {
  const weeks = Math.max(1, Math.ceil((t1 - t0) / WEEK));
  const step = [1, 2, 4, 8, 13, 26, 52].find((s) => weeks / s <= maxTicks) ?? 52;
  const ticks = [];
  for (let w = 0; w <= weeks; w += step) ticks.push({ t: t0 + w * WEEK, week: w });
  return ticks;
}

export interface Threshold {
  rule: string;
  weeks: number;
  min_reduction_pct: number;
}

/** The expected-healing line of the stalled-healing rule: from the baseline's area at its date
 * to the largest area still on track `weeks` later (baseline × (1 − min_reduction/100)).
 * A later validated area above the end point, around that date, is what raises the alert. */
export function expectedHealing(
  baseline: { t: number; area: number },
  threshold: Threshold,
): { from: { t: number; area: number }; to: { t: number; area: number } } {
  return {
    from: baseline,
    to: { t: baseline.t + threshold.weeks * WEEK, area: baseline.area * (1 - threshold.min_reduction_pct / 100) },
  };
}

/** Percentage area reduction since the baseline (positive = smaller); null without areas. */
export function reductionPct(baseline: number | null | undefined, latest: number | null | undefined): number | null {
  if (baseline == null || latest == null || baseline <= 0) return null;
  return ((baseline - latest) / baseline) * 100;
}

export interface TissueShares {
  granulation: number | null;
  slough: number | null;
  necrosis: number | null;
}

/** Stacked segments (fractions summing to 1, rest = other) from the shares in percent; null
 * when the shares are not known yet. */
export function tissueSegments(t: TissueShares): { key: 'granulation' | 'slough' | 'necrosis' | 'other'; share: number }[] | null {
  if (t.granulation == null || t.slough == null || t.necrosis == null) return null;
  const g = Math.max(0, t.granulation);
  const s = Math.max(0, t.slough);
  const n = Math.max(0, t.necrosis);
  const total = g + s + n;
  const scale = total > 100 ? 100 / total : 1;
  const parts = [
    { key: 'granulation' as const, share: (g * scale) / 100 },
    { key: 'slough' as const, share: (s * scale) / 100 },
    { key: 'necrosis' as const, share: (n * scale) / 100 },
  ];
  const rest = 1 - parts.reduce((a, p) => a + p.share, 0);
  return rest > 0.005 ? [...parts, { key: 'other' as const, share: rest }] : parts;
}

/** The square of the photo (in its pixels) a chart thumbnail shows: the wound's box with a
 * margin (at least a fifth of the photo's short side, so a tiny wound keeps its context),
 * kept inside the photo; null without a box or a size (then the whole photo is shown). */
export function thumbnailCrop(
  box: readonly [number, number, number, number] | null | undefined,
  size: readonly [number, number] | null | undefined,
  margin = 1.5,
): { x: number; y: number; side: number } | null {
  if (!box || !size) return null;
  const [w, h] = size;
  if (!(w > 0 && h > 0)) return null;
  const [x0, y0, x1, y1] = [box[0] * w, box[1] * h, box[2] * w, box[3] * h];
  const side = Math.min(Math.min(w, h), Math.max((x1 - x0) * margin, (y1 - y0) * margin, Math.min(w, h) / 5));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const x = Math.min(w - side, Math.max(0, cx - side / 2));
  const y = Math.min(h - side, Math.max(0, cy - side / 2));
  return { x, y, side };
}

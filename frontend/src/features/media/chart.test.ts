import { describe, expect, it } from 'vitest';
import { expectedHealing, linearScale, niceTicks, reductionPct, thumbnailCrop, tissueSegments, weekTicks, WEEK } from './chart';

describe('scales', () => {
  it('maps a domain onto a range, inverted axes included', () => {
    const y = linearScale([0, 10], [200, 0]);
    expect(y(0)).toBe(200);
    expect(y(10)).toBe(0);
    expect(y(5)).toBe(100);
  });

  it('survives an empty domain', () => {
    expect(linearScale([3, 3], [0, 100])(3)).toBe(0);
  });

  it('gives round ticks covering the data', () => {
    expect(niceTicks(0, 12.3, 5)).toEqual([0, 2.5, 5, 7.5, 10, 12.5]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const t = niceTicks(0, 87, 5);
    expect(t[0]).toBe(0);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(87);
  });

  it('gives week ticks, sparser for a long follow-up', () => {
    expect(weekTicks(0, 3 * WEEK).map((t) => t.week)).toEqual([0, 1, 2, 3]);
    expect(weekTicks(0, 30 * WEEK, 8).map((t) => t.week)).toEqual([0, 4, 8, 12, 16, 20, 24, 28]);
  });
});

describe('the expected-healing line', () => {
  it('ends at the rule’s reduction after its weeks: diabetic foot ulcer, 50 % at 4 weeks', () => {
    const line = expectedHealing({ t: 1000, area: 8 }, { rule: 'stalled_healing', weeks: 4, min_reduction_pct: 50 });
    expect(line.from).toEqual({ t: 1000, area: 8 });
    expect(line.to).toEqual({ t: 1000 + 4 * WEEK, area: 4 });
  });

  it('venous leg ulcer, 40 % at 4 weeks', () => {
    const line = expectedHealing({ t: 0, area: 10 }, { rule: 'stalled_healing', weeks: 4, min_reduction_pct: 40 });
    expect(line.to.area).toBeCloseTo(6, 12);
  });
});

describe('reduction and tissue', () => {
  it('computes the reduction since the baseline', () => {
    expect(reductionPct(10, 6)).toBeCloseTo(40, 12);
    expect(reductionPct(10, 12)).toBeCloseTo(-20, 12);
    expect(reductionPct(null, 3)).toBeNull();
    expect(reductionPct(0, 3)).toBeNull();
  });

  it('stacks the shares, the rest as other; unknown until computed', () => {
    expect(tissueSegments({ granulation: 50, slough: 30, necrosis: 20 })).toEqual([
      { key: 'granulation', share: 0.5 },
      { key: 'slough', share: 0.3 },
      { key: 'necrosis', share: 0.2 },
    ]);
    const withRest = tissueSegments({ granulation: 40, slough: 10, necrosis: 0 })!;
    expect(withRest[3]).toEqual({ key: 'other', share: 0.5 });
    expect(tissueSegments({ granulation: null, slough: null, necrosis: null })).toBeNull();
  });
});

describe('thumbnailCrop', () => {
  it('is a square around the wound with a margin, inside the photo', () => {
    // photo 1000 x 500; wound box 100..300 x 50..400 px
    const crop = thumbnailCrop([0.1, 0.1, 0.3, 0.8], [1000, 500])!;
    expect(crop.side).toBeCloseTo(500); // 350 * 1.5 = 525, capped at the short side
    expect(crop.y).toBe(0);
    expect(crop.x).toBeCloseTo(0);
    const small = thumbnailCrop([0.5, 0.5, 0.52, 0.54], [1000, 500])!;
    expect(small.side).toBeCloseTo(100); // a fifth of the short side
    expect(small.x + small.side / 2).toBeCloseTo(510);
    expect(small.y + small.side / 2).toBeCloseTo(260);
  });
  it('is null without a box or a size', () => {
    expect(thumbnailCrop(null, [10, 10])).toBeNull();
    expect(thumbnailCrop([0, 0, 1, 1], undefined)).toBeNull();
    expect(thumbnailCrop([0, 0, 1, 1], [0, 0])).toBeNull();
  });
});

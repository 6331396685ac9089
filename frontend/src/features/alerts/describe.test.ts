import { describe, expect, it } from 'vitest';
import { alertFigures, alertFlags, alertLinks, alertOf, newerAlert } from './describe';

const stalled = {
  rule: 'stalled_healing',
  evidence: {
    baseline: { measured_at: '2026-01-01T10:00:00Z', area_cm2: 10 },
    at_weeks: { measured_at: '2026-01-29T10:00:00Z', area_cm2: 8 },
    reduction_pct: 20,
    threshold: { weeks: 4, min_reduction_pct: 50, source: 'Sheehan et al., Diabetes Care 2003' },
  },
};

describe('alertFigures', () => {
  it('gives the stalled-healing figures', () => {
    expect(alertFigures(stalled)).toEqual([
      { key: 'figAreaChange', vars: { from: '10.0', to: '8.0', days: 28 } },
      { key: 'figReduction', vars: { pct: '20', min: '50', weeks: 4, source: 'Sheehan et al., Diabetes Care 2003' } },
    ]);
  });
  it('gives deterioration and necrosis figures', () => {
    expect(
      alertFigures({
        rule: 'deterioration',
        evidence: {
          previous: { measured_at: '2026-01-01T00:00:00Z', area_cm2: 4 },
          latest: { measured_at: '2026-01-08T00:00:00Z', area_cm2: 5.2 },
          increase_pct: 30,
          threshold_pct: 20,
        },
      }),
    ).toEqual([
      { key: 'figAreaChange', vars: { from: '4.0', to: '5.2', days: 7 } },
      { key: 'figIncrease', vars: { pct: '30', limit: '20' } },
    ]);
    expect(alertFigures({ rule: 'necrosis', evidence: { previous: { necrosis_pct: 0 }, latest: { necrosis_pct: 12 } } })).toEqual([
      { key: 'figNecrosisAppeared', vars: { pct: '12' } },
    ]);
  });
  it('survives missing evidence', () => {
    expect(alertFigures({ rule: 'deterioration', evidence: {} })).toEqual([]);
    expect(alertFigures({ rule: 'unknown', evidence: {} })).toEqual([]);
  });
  it('lists the worrying flags', () => {
    expect(alertFlags({ rule: 'worrying_answers', evidence: { flags: ['fever', 3, 'pus'] } })).toEqual(['fever', 'pus']);
  });
});

describe('alertOf / newerAlert', () => {
  const data = {
    alert: {
      id: 5,
      rule: 'necrosis',
      severity: 'warning',
      status: 'open',
      title: 'New or increased necrosis',
      detail: 'd',
      evidence: {},
      acknowledged_by: null,
      acknowledged_at: null,
    },
  };
  it('reads the alert in a message', () => {
    expect(alertOf(data)?.id).toBe(5);
    expect(alertOf({})).toBeNull();
  });
  it('keeps a local acknowledgement until the message catches up', () => {
    const fromMessage = alertOf(data)!;
    const local = { ...fromMessage, status: 'acknowledged', acknowledged_by: 2, acknowledged_at: '2026-01-01T00:00:00Z', acknowledge_note: 'called' };
    expect(newerAlert(fromMessage, local).status).toBe('acknowledged');
    const updated = { ...fromMessage, status: 'acknowledged', acknowledged_by: 2, acknowledged_at: '2026-01-01T00:00:00Z' };
    expect(newerAlert(updated, local).acknowledge_note).toBe('called');
  });
});

describe('alertLinks', () => {
  it('points at the chart and the latest measurement', () => {
    expect(alertLinks({ evidence: { wound_site: 4, previous: { measurement: 8 }, latest: { measurement: 9 } } })).toEqual({
      chart: '/wound-sites/4/chart',
      measurement: '/measurements/9/review',
    });
    expect(alertLinks({ evidence: { wound_site: 4, at_weeks: { measurement: 12 } } }).measurement).toBe('/measurements/12/review');
    expect(alertLinks({ evidence: { flags: ['fever'] } })).toEqual({ chart: null, measurement: null });
  });
});

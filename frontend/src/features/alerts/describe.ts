/**
 * An alert's figures in words: which rule fired on which data. Pure: returns message keys and
 * their variables, the card translates them (see ./messages.ts).
 */

export type AlertRule =
  | 'stalled_healing'
  | 'deterioration'
  | 'necrosis'
  | 'missed_check_in'
  | 'worrying_answers';

export type AlertStatus = 'open' | 'acknowledged';

export interface AlertData {
  id: number;
  rule: AlertRule | string;
  severity: 'warning' | 'urgent' | string;
  status: AlertStatus | string;
  title: string;
  detail: string;
  evidence: Record<string, unknown>;
  acknowledged_by: number | null;
  acknowledged_at: string | null;
  acknowledge_note?: string;
  raised_at?: string;
}

export type FigureKey =
  | 'figAreaChange'
  | 'figReduction'
  | 'figIncrease'
  | 'figNecrosisAppeared'
  | 'figNecrosisRose'
  | 'figLastContact'
  | 'figInterval'
  | 'figDue'
  | 'figReported';

export interface Figure {
  key: FigureKey;
  vars: Record<string, string | number>;
}

interface Point {
  measured_at?: string;
  area_cm2?: number | null;
  necrosis_pct?: number | null;
}

function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function point(value: unknown): Point {
  return obj(value) as Point;
}

export function fmt(value: number, digits = 1): string {
  return value.toFixed(digits);
}

/** Days between two ISO dates, rounded down. */
export function daysBetween(a?: string, b?: string): number | null {
  if (!a || !b) return null;
  const ms = Date.parse(b) - Date.parse(a);
  return Number.isFinite(ms) ? Math.floor(ms / 86_400_000) : null;
}

export function shortDate(iso: string | undefined, locale: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** The figures the rule fired on, from the alert's evidence. */
export function alertFigures(alert: Pick<AlertData, 'rule' | 'evidence'>, locale = 'en'): Figure[] {
  const ev = obj(alert.evidence);
  const figures: Figure[] = [];
  switch (alert.rule) {
    case 'stalled_healing': {
      const base = point(ev.baseline);
      const at = point(ev.at_weeks);
      const threshold = obj(ev.threshold);
      const a = num(base.area_cm2);
      const b = num(at.area_cm2);
      if (a !== null && b !== null) {
        figures.push({
          key: 'figAreaChange',
          vars: { from: fmt(a), to: fmt(b), days: daysBetween(base.measured_at, at.measured_at) ?? '?' },
        });
      }
      const reduction = num(ev.reduction_pct);
      const min = num(threshold.min_reduction_pct);
      if (reduction !== null && min !== null) {
        figures.push({
          key: 'figReduction',
          vars: {
            pct: fmt(reduction, 0),
            min: fmt(min, 0),
            weeks: num(threshold.weeks) ?? '?',
            source: typeof threshold.source === 'string' ? threshold.source : '',
          },
        });
      }
      break;
    }
    case 'deterioration': {
      const prev = point(ev.previous);
      const latest = point(ev.latest);
      const a = num(prev.area_cm2);
      const b = num(latest.area_cm2);
      if (a !== null && b !== null) {
        figures.push({
          key: 'figAreaChange',
          vars: { from: fmt(a), to: fmt(b), days: daysBetween(prev.measured_at, latest.measured_at) ?? '?' },
        });
      }
      const inc = num(ev.increase_pct);
      const limit = num(ev.threshold_pct);
      if (inc !== null) figures.push({ key: 'figIncrease', vars: { pct: fmt(inc, 0), limit: fmt(limit ?? 20, 0) } });
      break;
    }
    case 'necrosis': {
      const before = num(point(ev.previous).necrosis_pct) ?? 0;
      const now = num(point(ev.latest).necrosis_pct);
      if (now !== null) {
        figures.push(
          before <= 0
            ? { key: 'figNecrosisAppeared', vars: { pct: fmt(now, 0) } }
            : { key: 'figNecrosisRose', vars: { from: fmt(before, 0), to: fmt(now, 0), step: fmt(num(ev.threshold_points) ?? 10, 0) } },
        );
      }
      break;
    }
    case 'missed_check_in': {
      const last = typeof ev.last_contact === 'string' ? ev.last_contact : undefined;
      if (last) figures.push({ key: 'figLastContact', vars: { date: shortDate(last, locale) } });
      const interval = num(ev.interval_days);
      if (interval !== null) figures.push({ key: 'figInterval', vars: { days: interval } });
      const due = typeof ev.due === 'string' ? ev.due : undefined;
      if (due) figures.push({ key: 'figDue', vars: { date: shortDate(due, locale) } });
      break;
    }
    case 'worrying_answers':
      // The flags are listed by the card with translated words.
      break;
  }
  return figures;
}

/** The worrying answers' flags (for `worrying_answers`). */
export function alertFlags(alert: Pick<AlertData, 'rule' | 'evidence'>): string[] {
  const flags = obj(alert.evidence).flags;
  return Array.isArray(flags) ? flags.filter((f): f is string => typeof f === 'string') : [];
}

/** The alert inside a message's data, if it is one. */
export function alertOf(data: unknown): AlertData | null {
  const alert = obj(obj(data).alert);
  if (typeof alert.id !== 'number') return null;
  return {
    id: alert.id,
    rule: String(alert.rule ?? ''),
    severity: String(alert.severity ?? 'warning'),
    status: String(alert.status ?? 'open'),
    title: String(alert.title ?? ''),
    detail: String(alert.detail ?? ''),
    evidence: obj(alert.evidence),
    acknowledged_by: typeof alert.acknowledged_by === 'number' ? alert.acknowledged_by : null,
    acknowledged_at: typeof alert.acknowledged_at === 'string' ? alert.acknowledged_at : null,
    acknowledge_note: typeof alert.acknowledge_note === 'string' ? alert.acknowledge_note : undefined,
  };
}

/** The newer of two views of one alert (the room's message may lag our own acknowledgement). */
export function newerAlert(fromMessage: AlertData, local: AlertData | null): AlertData {
  if (!local || local.id !== fromMessage.id) return fromMessage;
  if (fromMessage.status === 'acknowledged' && fromMessage.acknowledged_at) {
    return { ...local, ...fromMessage, acknowledge_note: fromMessage.acknowledge_note ?? local.acknowledge_note };
  }
  return local.status === 'acknowledged' ? local : fromMessage;
}

/** Where the data an alert fired on can be looked at: the healing chart, the measurement. */
export function alertLinks(alert: Pick<AlertData, 'evidence'>): { chart: string | null; measurement: string | null } {
  const ev = obj(alert.evidence);
  const site = num(ev.wound_site);
  const latest = point(ev.latest ?? ev.at_weeks) as Point & { measurement?: unknown };
  const measurement = num(latest.measurement);
  return {
    chart: site !== null ? `/wound-sites/${site}/chart` : null,
    measurement: measurement !== null ? `/measurements/${measurement}/review` : null,
  };
}

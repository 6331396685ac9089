/** The server's photo and measurement shapes (docs/photos.md), read defensively from a
 * message's `data`. */
import type { Outline, Homography } from './geometry';

export type UserRef = { id: number; full_name: string; handle: string };

export type MeasurementStatus = 'suggested' | 'validated' | 'corrected' | 'rejected' | 'superseded';
export type MeasurementMethod = 'automatic' | 'semi_automatic' | 'manual';

export interface Tissue {
  granulation: number | null;
  slough: number | null;
  necrosis: number | null;
}

export interface Measurement {
  id: number;
  photo: number;
  status: MeasurementStatus;
  method: MeasurementMethod;
  area_cm2: number | null;
  perimeter_cm: number | null;
  length_cm: number | null;
  width_cm: number | null;
  tissue: Tissue;
  outline: Outline;
  calibration: { mm_per_px?: number; tilt_deg?: number; verdict?: string; reasons?: string[] } | null;
  model_version: string;
  measured_at: string;
  created_by: UserRef | null;
  reviewed_by: UserRef | null;
  reviewed_at: string | null;
  note: string;
  supersedes: number | null;
}

export type AnalysisState = 'analysing' | 'done' | 'failed';

export interface PhotoData {
  photo: { id: number; width: number; height: number; captured_at: string | null; wound_site: number | null };
  analysis: { state: AnalysisState; reasons: string[]; advice: string };
  measurement: Measurement | null;
  from_patient?: boolean;
}

/** `GET /api/photos/{id}`. */
export interface PhotoInfo {
  id: number;
  case: number;
  wound_site: number | null;
  message: number | null;
  width: number;
  height: number;
  captured_at: string | null;
  uploaded_at: string;
  analysis_state: AnalysisState;
  analysis_reasons: string[];
  image: string;
  thumbnail: string;
  homography_image_to_mm: Homography | null;
}

export interface TrajectoryPoint {
  measured_at: string;
  area_cm2: number | null;
  reduction_pct: number | null;
  tissue: Tissue;
  status: MeasurementStatus;
  photo: number;
  measurement: number;
  /** The photo's [width, height] in pixels (absent from an older server). */
  photo_size?: [number, number];
  /** The outline's bounding box as fractions of the photo, [x0, y0, x1, y1]; null without one. */
  wound_box?: [number, number, number, number] | null;
}

export interface Trajectory {
  wound_site: number;
  wound_type: string;
  baseline: TrajectoryPoint | null;
  points: TrajectoryPoint[];
  threshold: { rule: string; weeks: number; min_reduction_pct: number } | null;
}

export interface WoundSite {
  id: number;
  case: number;
  location: string;
  wound_type: string;
}

export interface CaptureVerdict {
  verdict: 'ok' | 'retake';
  reasons: string[];
  messages: string[];
  mm_per_px: number | null;
  tilt_deg: number | null;
  elapsed_ms: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The photo data of a message, or null if it is not a photo message. */
export function readPhotoData(data: unknown): PhotoData | null {
  if (!isObject(data) || !isObject(data.photo) || typeof data.photo.id !== 'number') return null;
  const analysis = isObject(data.analysis) ? data.analysis : {};
  const state = analysis.state === 'done' || analysis.state === 'failed' ? analysis.state : 'analysing';
  const measurement = isObject(data.measurement) ? (data.measurement as unknown as Measurement) : null;
  const photo = data.photo as Record<string, unknown>;
  return {
    photo: {
      id: photo.id as number,
      width: typeof photo.width === 'number' ? photo.width : 0,
      height: typeof photo.height === 'number' ? photo.height : 0,
      captured_at: typeof photo.captured_at === 'string' ? photo.captured_at : null,
      wound_site: typeof photo.wound_site === 'number' ? photo.wound_site : null,
    },
    analysis: {
      state,
      reasons: Array.isArray(analysis.reasons) ? analysis.reasons.filter((r): r is string => typeof r === 'string') : [],
      advice: typeof analysis.advice === 'string' ? analysis.advice : '',
    },
    measurement: measurement && Array.isArray(measurement.outline) ? measurement : measurement ? { ...measurement, outline: [] } : null,
    from_patient: data.from_patient === true,
  };
}

export type AnalysisView = 'analysing' | 'measured' | 'failed';

/** What the photo message shows: measured as soon as it has a measurement with an area (a
 * failed analysis outlined by hand is measured too). */
export function analysisView(d: PhotoData): AnalysisView {
  if (d.measurement && d.measurement.area_cm2 != null && d.measurement.status !== 'rejected') return 'measured';
  if (d.analysis.state === 'analysing') return 'analysing';
  if (d.analysis.state === 'done' && d.measurement) return 'measured';
  return 'failed';
}

/** Reasons the client has words for (anything else reads as unknown). */
export const KNOWN_REASONS = [
  'sticker_not_found',
  'sticker_partly_hidden',
  'too_far',
  'too_tilted',
  'blurred',
  'overexposed',
  'underexposed',
  'wound_not_found',
  'model_missing',
  'segmentation_unavailable',
  'image_unreadable',
  'analysis_failed',
] as const;
export type KnownReason = (typeof KNOWN_REASONS)[number];

export function knownReason(r: string): KnownReason | 'unknown' {
  return (KNOWN_REASONS as readonly string[]).includes(r) ? (r as KnownReason) : 'unknown';
}

/** Reasons after which a clinician can outline the wound by hand (the photo's calibration is kept). */
export const DRAWABLE_REASONS = new Set(['wound_not_found', 'model_missing', 'segmentation_unavailable', 'analysis_failed']);

export const WOUND_TYPES = [
  'diabetic_foot_ulcer',
  'pressure_injury',
  'venous_ulcer',
  'arterial_ulcer',
  'surgical_wound',
  'burn',
  'skin_lesion',
] as const;
export type WoundType = (typeof WOUND_TYPES)[number];
export function woundTypeKey(t: string): `wound_${WoundType}` | null {
  return (WOUND_TYPES as readonly string[]).includes(t) ? (`wound_${t}` as `wound_${WoundType}`) : null;
}

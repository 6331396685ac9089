/**
 * Wound outline geometry, in image pixels of the stored photo, and its measurement on the
 * skin plane through the sticker's homography — the server's own method
 * (vision.measure.measure_outline): map each vertex through H (a homography keeps straight
 * lines straight, so this is exact), shoelace area per ring, perimeter = sum of the mapped
 * ring lengths, length = the longest distance between two points (convex hull), width = the
 * extent perpendicular to it. Each ring is one wound (the server measures `[[ring], ...]`).
 */

export type Point = [number, number];
export type Ring = Point[];
export type Outline = Ring[];
/** 3 x 3 rows, image [x, y, 1] -> skin-plane millimetres. */
export type Homography = number[][];

export interface OutlineMeasure {
  areaCm2: number;
  perimeterCm: number;
  lengthCm: number;
  widthCm: number;
}

export function applyHomography(h: Homography, [x, y]: Point): Point {
  const u = h[0][0] * x + h[0][1] * y + h[0][2];
  const v = h[1][0] * x + h[1][1] * y + h[1][2];
  const w = h[2][0] * x + h[2][1] * y + h[2][2];
  return [u / w, v / w];
}

/** Signed shoelace area (same units squared as the points). */
export function signedArea(ring: Ring): number {
  let twice = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    twice += x1 * y2 - x2 * y1;
  }
  return twice / 2;
}

export function ringLength(ring: Ring): number {
  let total = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    total += Math.hypot(x2 - x1, y2 - y1);
  }
  return total;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise, no repeated point. */
export function convexHull(points: Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** Longest axis and the extent perpendicular to it (the clinical convention), same units. */
export function lengthWidth(points: Point[]): [number, number] {
  if (points.length < 2) return [0, 0];
  const hull = convexHull(points);
  let best = 0;
  let pair: [Point, Point] = [hull[0], hull[0]];
  for (let i = 0; i < hull.length; i++) {
    for (let j = i + 1; j < hull.length; j++) {
      const d = Math.hypot(hull[j][0] - hull[i][0], hull[j][1] - hull[i][1]);
      if (d > best) {
        best = d;
        pair = [hull[i], hull[j]];
      }
    }
  }
  if (best === 0) return [0, 0];
  const ax = (pair[1][0] - pair[0][0]) / best;
  const ay = (pair[1][1] - pair[0][1]) / best;
  let lo = Infinity;
  let hi = -Infinity;
  for (const [x, y] of hull) {
    const across = -ay * x + ax * y;
    lo = Math.min(lo, across);
    hi = Math.max(hi, across);
  }
  return [best, hi - lo];
}

/** Area, perimeter, length and width of the outline on the skin plane (cm). Null if any ring
 * has fewer than 3 points. */
export function measureOutline(h: Homography, outline: Outline): OutlineMeasure | null {
  const usable = outline.filter((r) => r.length >= 3);
  if (usable.length === 0) return null;
  let areaMm2 = 0;
  let perimeterMm = 0;
  const all: Point[] = [];
  for (const ring of usable) {
    const mm = ring.map((p) => applyHomography(h, p));
    areaMm2 += Math.abs(signedArea(mm));
    perimeterMm += ringLength(mm);
    all.push(...mm);
  }
  const [length, width] = lengthWidth(all);
  return { areaCm2: areaMm2 / 100, perimeterCm: perimeterMm / 10, lengthCm: length / 10, widthCm: width / 10 };
}

// --- editing --------------------------------------------------------------------------------
export interface PointRef {
  ring: number;
  index: number;
}

/** The vertex nearest to `p` within `maxDistance` (image px), else null. */
export function nearestPoint(outline: Outline, p: Point, maxDistance: number): PointRef | null {
  let best: PointRef | null = null;
  let bestD = maxDistance;
  outline.forEach((ring, r) =>
    ring.forEach(([x, y], i) => {
      const d = Math.hypot(x - p[0], y - p[1]);
      if (d <= bestD) {
        bestD = d;
        best = { ring: r, index: i };
      }
    }),
  );
  return best;
}

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** The edge nearest to `p` (its first vertex) within `maxDistance`, else null. */
export function nearestEdge(outline: Outline, p: Point, maxDistance: number): PointRef | null {
  let best: PointRef | null = null;
  let bestD = maxDistance;
  outline.forEach((ring, r) =>
    ring.forEach((a, i) => {
      const d = distanceToSegment(p, a, ring[(i + 1) % ring.length]);
      if (d <= bestD) {
        bestD = d;
        best = { ring: r, index: i };
      }
    }),
  );
  return best;
}

export function clampPoint([x, y]: Point, width: number, height: number): Point {
  return [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y))];
}

/** A copy of the outline with one vertex moved to `to` (kept inside the photo). */
export function movePoint(outline: Outline, ref: PointRef, to: Point, width: number, height: number): Outline {
  return outline.map((ring, r) =>
    r === ref.ring ? ring.map((pt, i) => (i === ref.index ? clampPoint(to, width, height) : pt)) : ring,
  );
}

/** A copy with a vertex inserted after `ref` (on the edge from ref to the next vertex). */
export function insertPoint(outline: Outline, ref: PointRef, at: Point): Outline {
  return outline.map((ring, r) => (r === ref.ring ? [...ring.slice(0, ref.index + 1), at, ...ring.slice(ref.index + 1)] : ring));
}

/** A copy without the vertex (refused, the same outline, if its ring would fall under 3). */
export function removePoint(outline: Outline, ref: PointRef): Outline {
  if (outline[ref.ring].length <= 3) return outline;
  return outline.map((ring, r) => (r === ref.ring ? ring.filter((_, i) => i !== ref.index) : ring));
}

/** Arrow-key nudge: `step` px, ×10 with shift. */
export function nudge(key: string, shift: boolean, step = 1): Point | null {
  const s = shift ? step * 10 : step;
  switch (key) {
    case 'ArrowLeft':
      return [-s, 0];
    case 'ArrowRight':
      return [s, 0];
    case 'ArrowUp':
      return [0, -s];
    case 'ArrowDown':
      return [0, s];
    default:
      return null;
  }
}

// --- freehand -------------------------------------------------------------------------------
function perpendicular(p: Point, a: Point, b: Point): number {
  return distanceToSegment(p, a, b);
}

/** Ramer–Douglas–Peucker on an open polyline. */
export function simplifyPolyline(points: Point[], tolerance: number): Point[] {
  if (points.length <= 2) return [...points];
  let maxD = 0;
  let index = 0;
  const first = points[0];
  const last = points[points.length - 1];
  for (let i = 1; i < points.length - 1; i++) {
    const d = perpendicular(points[i], first, last);
    if (d > maxD) {
      maxD = d;
      index = i;
    }
  }
  if (maxD <= tolerance) return [first, last];
  const left = simplifyPolyline(points.slice(0, index + 1), tolerance);
  const right = simplifyPolyline(points.slice(index), tolerance);
  return left.slice(0, -1).concat(right);
}

/** A freehand stroke as a closed ring: simplified, closing point dropped, at most
 * `maxPoints` vertices (the tolerance grows until it fits); null if under 3 points. */
export function simplifyRing(stroke: Point[], tolerance: number, maxPoints = 2000): Ring | null {
  const pts = stroke.filter((p, i) => i === 0 || p[0] !== stroke[i - 1][0] || p[1] !== stroke[i - 1][1]);
  if (pts.length < 3) return null;
  let tol = tolerance;
  let ring: Point[] = simplifyPolyline(pts, tol);
  while (ring.length > maxPoints) {
    tol *= 1.5;
    ring = simplifyPolyline(pts, tol);
  }
  const [fx, fy] = ring[0];
  const [lx, ly] = ring[ring.length - 1];
  if (ring.length > 3 && Math.hypot(fx - lx, fy - ly) <= tol) ring = ring.slice(0, -1);
  return ring.length >= 3 ? ring : null;
}

/** A closed ring simplified for editing by hand: Ramer–Douglas–Peucker at `tolerance` (the
 * shape kept within that distance), then, while two neighbouring vertices are closer than
 * `minGap`, the less significant of the two (the one nearer the chord of its neighbours) is
 * dropped, so that handles can be told apart and grabbed. Never under 3 vertices; a ring already
 * sparse enough comes back as it is (same object). Units are the caller's (image pixels for a
 * tolerance given in screen pixels divided by the scale). */
export function simplifyClosedRing(ring: Ring, tolerance: number, minGap: number): Ring {
  const n = ring.length;
  if (n <= 3) return ring;
  // A ring smaller than a few handles keeps about 8 of them (closer together), not a triangle:
  // its shape (and area) matters more than grabbing its points without zooming in.
  const perimeter = ring.reduce((sum, p, i) => {
    const q = ring[(i + 1) % n];
    return sum + Math.hypot(p[0] - q[0], p[1] - q[1]);
  }, 0);
  minGap = Math.min(minGap, perimeter / 12);
  tolerance = Math.min(tolerance, perimeter / 100);
  // Split the closed ring at the vertex farthest from the first one: two open polylines.
  let far = 0;
  let farD = -1;
  for (let i = 1; i < n; i++) {
    const d = Math.hypot(ring[i][0] - ring[0][0], ring[i][1] - ring[0][1]);
    if (d > farD) {
      farD = d;
      far = i;
    }
  }
  const a = simplifyPolyline(ring.slice(0, far + 1), tolerance);
  const b = simplifyPolyline([...ring.slice(far), ring[0]], tolerance);
  let out: Point[] = a.concat(b.slice(1, -1));
  if (out.length < 3) out = [ring[0], ring[far], ring[Math.floor((far + n) / 2) % n]];
  const significance = (pts: Point[], i: number) => {
    const m = pts.length;
    return distanceToSegment(pts[i], pts[(i - 1 + m) % m], pts[(i + 1) % m]);
  };
  while (out.length > 3) {
    let closest = -1;
    let closestD = minGap;
    for (let i = 0; i < out.length; i++) {
      const q = out[(i + 1) % out.length];
      const d = Math.hypot(out[i][0] - q[0], out[i][1] - q[1]);
      if (d < closestD) {
        closestD = d;
        closest = i;
      }
    }
    if (closest < 0) break;
    const next = (closest + 1) % out.length;
    const drop = significance(out, closest) <= significance(out, next) ? closest : next;
    out = out.filter((_, i) => i !== drop);
  }
  return out.length === n ? ring : out;
}

/** Every ring of an outline through simplifyClosedRing; the same object when nothing changes. */
export function simplifyOutline(outline: Outline, tolerance: number, minGap: number): Outline {
  const rings = outline.map((ring) => simplifyClosedRing(ring, tolerance, minGap));
  return rings.every((r, i) => r === outline[i]) ? outline : rings;
}

/** The indices (ascending) of the vertices simplifyClosedRing keeps: the handles of a ring. */
export function handleIndices(ring: Ring, tolerance: number, minGap: number): number[] {
  const kept = simplifyClosedRing(ring, tolerance, minGap);
  if (kept === ring) return ring.map((_, i) => i);
  const index = new Map<Point, number>(ring.map((p, i) => [p, i]));
  return kept.map((p) => index.get(p) ?? -1).filter((i) => i >= 0).sort((a, b) => a - b);
}

/** Move the handle at vertex `ref.index` to `to` and carry the vertices between it and its
 * neighbouring handles (`handles`: the ring's handle indices, ascending) along, each by a
 * share of the move that falls off with the distance along the outline (1 at the handle, 0 at
 * the next handles). The outline keeps all its detail; only the part being edited changes. */
export function moveHandle(outline: Outline, ref: PointRef, to: Point, handles: number[], width: number, height: number): Outline {
  const ring = outline[ref.ring];
  const n = ring.length;
  const at = handles.indexOf(ref.index);
  if (!ring || at < 0 || handles.length < 2) return movePoint(outline, ref, to, width, height);
  const target = clampPoint(to, width, height);
  const [dx, dy] = [target[0] - ring[ref.index][0], target[1] - ring[ref.index][1]];
  const prev = handles[(at - 1 + handles.length) % handles.length];
  const next = handles[(at + 1) % handles.length];
  const moved = ring.slice();
  moved[ref.index] = target;
  // Vertices from one handle to the other, going forward (with wrap-around): their shares.
  const carry = (from: number, steps: number, rising: boolean) => {
    const lengths = [0];
    for (let k = 1; k <= steps; k++) {
      const a = ring[(from + k - 1) % n];
      const b = ring[(from + k) % n];
      lengths.push(lengths[k - 1] + Math.hypot(b[0] - a[0], b[1] - a[1]));
    }
    const total = lengths[steps] || 1;
    for (let k = 1; k < steps; k++) {
      const i = (from + k) % n;
      const share = rising ? lengths[k] / total : 1 - lengths[k] / total;
      moved[i] = clampPoint([ring[i][0] + dx * share, ring[i][1] + dy * share], width, height);
    }
  };
  carry(prev, (ref.index - prev + n) % n, true);
  carry(ref.index, (next - ref.index + n) % n, false);
  return outline.map((r, i) => (i === ref.ring ? moved : r));
}

function segmentsCross(a: Point, b: Point, c: Point, d: Point): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** True when no two non-adjacent edges of the closed ring cross (the server measures simple
 * rings; a figure-of-eight's shoelace area is wrong). */
export function isSimple(ring: Ring): boolean {
  const n = ring.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (segmentsCross(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n])) return false;
    }
  }
  return true;
}

/** SVG `points` attribute of a ring. */
export function svgPoints(ring: Ring): string {
  return ring.map(([x, y]) => `${round2(x)},${round2(y)}`).join(' ');
}

export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The outline as the API takes it (2 decimals). */
export function outlineForApi(outline: Outline): number[][][] {
  return outline.filter((r) => r.length >= 3).map((r) => r.map(([x, y]) => [round2(x), round2(y)]));
}

/** Client (screen) coordinates to image pixels, for an element showing the whole image
 * scaled into `rect` (an SVG with viewBox 0 0 width height and preserveAspectRatio meet). */
export function clientToImage(
  clientX: number,
  clientY: number,
  rect: { left: number; top: number; width: number; height: number },
  width: number,
  height: number,
): Point {
  const scale = Math.min(rect.width / width, rect.height / height);
  const offX = (rect.width - width * scale) / 2;
  const offY = (rect.height - height * scale) / 2;
  return [(clientX - rect.left - offX) / scale, (clientY - rect.top - offY) / scale];
}

// --- views (the part of the photo shown) --------------------------------------------------
export type View = { x: number; y: number; w: number; h: number };

/** The part of the photo around the outline (with a margin), with the photo's proportions;
 * the whole photo without an outline. */
export function fitView(outline: Outline, width: number, height: number, margin = 1.2, minFraction = 1 / 6): View {
  const pts = outline.flat();
  if (pts.length === 0) return { x: 0, y: 0, w: width, h: height };
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const aspect = width / height;
  let w = Math.max((x1 - x0) * (1 + 2 * margin), (y1 - y0) * (1 + 2 * margin) * aspect, width * minFraction);
  w = Math.min(width, w);
  return clampView({ x: (x0 + x1) / 2 - w / 2, y: (y0 + y1) / 2 - w / aspect / 2, w, h: w / aspect }, width, height);
}

export function clampView(v: View, width: number, height: number): View {
  const w = Math.min(width, v.w);
  const h = Math.min(height, v.h);
  return { w, h, x: Math.min(width - w, Math.max(0, v.x)), y: Math.min(height - h, Math.max(0, v.y)) };
}

export function zoomView(v: View, factor: number, width: number, height: number): View {
  const cx = v.x + v.w / 2;
  const cy = v.y + v.h / 2;
  const w = Math.max(width / 40, Math.min(width, v.w / factor));
  const h = (w * height) / width;
  return clampView({ x: cx - w / 2, y: cy - h / 2, w, h }, width, height);
}


/** The ring enclosing the most pixels (the wound, rather than a stray spot), as an outline. */
export function largestRing(outline: Outline): Outline {
  let best: Ring | null = null;
  let bestArea = -1;
  for (const ring of outline) {
    const a = ring.length >= 3 ? Math.abs(signedArea(ring)) : 0;
    if (a > bestArea) {
      bestArea = a;
      best = ring;
    }
  }
  return best ? [best] : [];
}

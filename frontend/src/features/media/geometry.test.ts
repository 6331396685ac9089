import { describe, expect, it } from 'vitest';
import {
  applyHomography,
  clampView,
  fitView,
  largestRing,
  zoomView,
  clientToImage,
  isSimple,
  measureOutline,
  movePoint,
  nearestEdge,
  nearestPoint,
  insertPoint,
  removePoint,
  nudge,
  outlineForApi,
  simplifyRing,
  simplifyClosedRing,
  handleIndices,
  moveHandle,
  simplifyOutline,
  type Homography,
  type Outline,
  type Point,
} from './geometry';

// A perspective homography and the figures vision.measure_outline gives for it (the server's
// own computation, run once in Python with these numbers). Length and width to 1e-5: the
// server takes the convex hull in float32.
const H: Homography = [
  [0.11, 0.012, -20.0],
  [-0.008, 0.105, -15.0],
  [0.00002, 0.00004, 1.0],
];
const WOUND: Point[] = [
  [400, 300],
  [700, 320],
  [760, 600],
  [520, 680],
  [380, 520],
];
const SECOND: Point[] = [
  [900, 100],
  [1000, 120],
  [950, 220],
  [905, 180],
  [890, 140],
];

describe('measureOutline', () => {
  it('matches the server for one wound through a perspective homography', () => {
    const m = measureOutline(H, [WOUND])!;
    expect(m.areaCm2).toBeCloseTo(11.695873764546418, 9);
    expect(m.perimeterCm).toBeCloseTo(13.228528788381364, 9);
    expect(m.lengthCm).toBeCloseTo(4.931581795660636, 5);
    expect(m.widthCm).toBeCloseTo(3.9985407313429406, 5);
  });

  it('adds the wounds of several rings, like the server', () => {
    const m = measureOutline(H, [WOUND, SECOND])!;
    expect(m.areaCm2).toBeCloseTo(12.536962665479725, 9);
    expect(m.perimeterCm).toBeCloseTo(16.965545773973307, 9);
    expect(m.lengthCm).toBeCloseTo(7.699090199800091, 5);
    expect(m.widthCm).toBeCloseTo(4.634816694061219, 5);
  });

  it('does not depend on the direction a ring is drawn in', () => {
    expect(measureOutline(H, [[...WOUND].reverse()])!.areaCm2).toBeCloseTo(11.695873764546418, 9);
  });

  it('is exact for a plain scale: 0.1 mm per pixel, a 200 px square is 4 cm²', () => {
    const scale: Homography = [
      [0.1, 0, 0],
      [0, 0.1, 0],
      [0, 0, 1],
    ];
    const m = measureOutline(scale, [
      [
        [100, 100],
        [300, 100],
        [300, 300],
        [100, 300],
      ],
    ])!;
    expect(m.areaCm2).toBeCloseTo(4, 12);
    expect(m.perimeterCm).toBeCloseTo(8, 12);
    expect(m.lengthCm).toBeCloseTo(Math.SQRT2 * 2, 12);
  });

  it('is null without a ring of three points', () => {
    expect(measureOutline(H, [[[0, 0], [1, 1]]])).toBeNull();
    expect(measureOutline(H, [])).toBeNull();
  });

  it('maps a point through the homography', () => {
    const [u, v] = applyHomography(H, [0, 0]);
    expect([u, v]).toEqual([-20, -15]);
  });
});

describe('editing', () => {
  const square: Outline = [
    [
      [0, 0],
      [100, 0],
      [100, 100],
      [0, 100],
    ],
  ];

  it('finds the nearest vertex within reach, else nothing', () => {
    expect(nearestPoint(square, [97, 4], 10)).toEqual({ ring: 0, index: 1 });
    expect(nearestPoint(square, [50, 50], 10)).toBeNull();
  });

  it('finds the nearest edge and inserts a point on it', () => {
    const edge = nearestEdge(square, [50, 3], 10)!;
    expect(edge).toEqual({ ring: 0, index: 0 });
    expect(insertPoint(square, edge, [50, 0])[0]).toHaveLength(5);
    expect(insertPoint(square, edge, [50, 0])[0][1]).toEqual([50, 0]);
  });

  it('moves a point, keeping it inside the photo, without touching the original', () => {
    const moved = movePoint(square, { ring: 0, index: 2 }, [130, -5], 120, 120);
    expect(moved[0][2]).toEqual([120, 0]);
    expect(square[0][2]).toEqual([100, 100]);
  });

  it('removes a point but never under three', () => {
    const three = removePoint(square, { ring: 0, index: 0 });
    expect(three[0]).toHaveLength(3);
    expect(removePoint(three, { ring: 0, index: 0 })[0]).toHaveLength(3);
  });

  it('nudges by arrow keys, ten times with shift', () => {
    expect(nudge('ArrowLeft', false)).toEqual([-1, 0]);
    expect(nudge('ArrowDown', true)).toEqual([0, 10]);
    expect(nudge('Enter', false)).toBeNull();
  });

  it('tells a figure-of-eight from a simple ring', () => {
    expect(isSimple(square[0])).toBe(true);
    expect(
      isSimple([
        [0, 0],
        [100, 100],
        [100, 0],
        [0, 100],
      ]),
    ).toBe(false);
  });

  it('rounds the outline for the API and drops rings under three points', () => {
    expect(
      outlineForApi([
        [
          [1.234, 2.345],
          [3, 4],
          [5.5, 6],
        ],
        [[1, 1]],
      ]),
    ).toEqual([
      [
        [1.23, 2.35],
        [3, 4],
        [5.5, 6],
      ],
    ]);
  });
});

describe('freehand', () => {
  it('simplifies a dense circle stroke to a closed ring of few points, area kept', () => {
    const stroke: Point[] = [];
    for (let i = 0; i <= 720; i++) {
      const a = (i / 720) * 2 * Math.PI;
      stroke.push([500 + 200 * Math.cos(a), 400 + 200 * Math.sin(a)]);
    }
    const ring = simplifyRing(stroke, 1.5)!;
    expect(ring.length).toBeGreaterThan(20);
    expect(ring.length).toBeLessThan(120);
    const scale: Homography = [
      [0.1, 0, 0],
      [0, 0.1, 0],
      [0, 0, 1],
    ];
    const area = measureOutline(scale, [ring])!.areaCm2;
    expect(area).toBeCloseTo((Math.PI * 20 * 20) / 100, 0);
  });

  it('refuses a stroke too short to enclose anything', () => {
    expect(
      simplifyRing(
        [
          [0, 0],
          [1, 1],
        ],
        1,
      ),
    ).toBeNull();
  });

  it('keeps at most the allowed number of points', () => {
    const stroke: Point[] = [];
    for (let i = 0; i < 5000; i++) stroke.push([i % 2 ? i : i + 0.5, (i * 37) % 997]);
    expect(simplifyRing(stroke, 0.1, 2000)!.length).toBeLessThanOrEqual(2000);
  });
});

describe('clientToImage', () => {
  it('undoes a letterboxed, scaled image', () => {
    // A 1000 x 500 image in a 500 x 500 box: scale 0.5, 125 px bands above and below.
    const rect = { left: 10, top: 20, width: 500, height: 500 };
    expect(clientToImage(10 + 250, 20 + 125 + 100, rect, 1000, 500)).toEqual([500, 200]);
  });
});

describe('views', () => {
  it('fits the outline with a margin, in the photo’s proportions, inside the photo', () => {
    const v = fitView([[[100, 100], [200, 100], [200, 150]]], 1600, 1200, 1, 1 / 6);
    // 100 x 50 px with a margin of one size on each side: 300 px wide, 225 high.
    expect(v.w / v.h).toBeCloseTo(1600 / 1200, 9);
    expect(v.w).toBeCloseTo(300, 9);
    expect(v.x).toBe(0); // centred on the outline: x from 0 to 300
    expect(v.y).toBeCloseTo(12.5, 9); // 125 - 225 / 2
  });

  it('shows the whole photo without an outline, and never less than the minimum', () => {
    expect(fitView([], 1600, 1200)).toEqual({ x: 0, y: 0, w: 1600, h: 1200 });
    expect(fitView([[[800, 600], [801, 600], [801, 601]]], 1600, 1200, 1, 0.5).w).toBe(800);
  });

  it('zooms around the centre and stays inside the photo', () => {
    const whole = { x: 0, y: 0, w: 1600, h: 1200 };
    const z = zoomView(whole, 2, 1600, 1200);
    expect(z).toEqual({ x: 400, y: 300, w: 800, h: 600 });
    expect(zoomView(z, 0.1, 1600, 1200)).toEqual(whole);
    expect(clampView({ x: -50, y: 1000, w: 400, h: 300 }, 1600, 1200)).toEqual({ x: 0, y: 900, w: 400, h: 300 });
  });
});

describe('largestRing', () => {
  it('picks the wound rather than a stray spot', () => {
    const spot: Point[] = [
      [0, 0],
      [2, 0],
      [0, 2],
    ];
    expect(largestRing([spot, WOUND])).toEqual([WOUND]);
    expect(largestRing([])).toEqual([]);
  });
});

describe('simplifyClosedRing (handles for editing by hand)', () => {
  // A circle of radius 50 sampled at 60 points: handles 5.2 px apart.
  const circle: Point[] = Array.from({ length: 60 }, (_, i) => {
    const a = (i / 60) * 2 * Math.PI;
    return [100 + 50 * Math.cos(a), 100 + 50 * Math.sin(a)] as Point;
  });
  const gaps = (ring: Point[]) => ring.map((p, i) => Math.hypot(p[0] - ring[(i + 1) % ring.length][0], p[1] - ring[(i + 1) % ring.length][1]));
  const area = (ring: Point[]) => Math.abs(ring.reduce((a, p, i) => a + p[0] * ring[(i + 1) % ring.length][1] - ring[(i + 1) % ring.length][0] * p[1], 0) / 2);

  it('spaces the vertices at least minGap apart and keeps the shape', () => {
    const out = simplifyClosedRing(circle, 1.5, 28);
    expect(out.length).toBeGreaterThanOrEqual(6);
    expect(out.length).toBeLessThan(15);
    expect(Math.min(...gaps(out))).toBeGreaterThanOrEqual(28);
    // every kept vertex is one of the original ones
    for (const p of out) expect(circle).toContainEqual(p);
    // the area stays within 15 % of the circle's
    expect(area(out) / area(circle)).toBeGreaterThan(0.85);
    expect(isSimple(out)).toBe(true);
  });

  it('keeps corners: a square drawn with many points comes back as its 4 corners', () => {
    const square: Point[] = [];
    for (let i = 0; i < 20; i++) square.push([i * 5, 0]);
    for (let i = 0; i < 20; i++) square.push([100, i * 5]);
    for (let i = 0; i < 20; i++) square.push([100 - i * 5, 100]);
    for (let i = 0; i < 20; i++) square.push([0, 100 - i * 5]);
    const out = simplifyClosedRing(square, 1, 28);
    expect(out).toHaveLength(4);
    expect(out).toEqual(expect.arrayContaining([[0, 0], [100, 0], [100, 100], [0, 100]]));
  });

  it('returns a sparse ring unchanged (same object); a tiny ring keeps its shape', () => {
    const tri: Point[] = [[0, 0], [100, 0], [50, 80]];
    expect(simplifyClosedRing(tri, 2, 28)).toBe(tri);
    // A ring smaller than a few handles keeps its shape (about 8 points), not a triangle.
    const tiny = circle.map(([x, y]) => [x / 10, y / 10] as Point);
    const kept = simplifyClosedRing(tiny, 0.5, 28);
    expect(kept.length).toBeGreaterThanOrEqual(6);
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(area(kept) / area(tiny)).toBeGreaterThan(0.85);
    const outline: Outline = [tri];
    expect(simplifyOutline(outline, 2, 28)).toBe(outline);
  });

  it('a smaller gap (zoomed in) keeps more handles', () => {
    expect(simplifyClosedRing(circle, 0.5, 10).length).toBeGreaterThan(simplifyClosedRing(circle, 1.5, 28).length);
  });
});

describe('handles over the whole outline', () => {
  const square: Point[] = [];
  for (let i = 0; i < 10; i++) square.push([i * 10, 0]);
  for (let i = 0; i < 10; i++) square.push([100, i * 10]);
  for (let i = 0; i < 10; i++) square.push([100 - i * 10, 100]);
  for (let i = 0; i < 10; i++) square.push([0, 100 - i * 10]);

  it('handleIndices are the kept corners, as indices of the ring', () => {
    expect(handleIndices(square, 1, 28)).toEqual([0, 10, 20, 30]);
    const sparse: Point[] = [[0, 0], [100, 0], [50, 80]];
    expect(handleIndices(sparse, 1, 28)).toEqual([0, 1, 2]);
  });

  it('moveHandle carries the vertices between the neighbouring handles, and only those', () => {
    const handles = [0, 10, 20, 30];
    const [moved] = moveHandle([square], { ring: 0, index: 10 }, [120, 0], handles, 200, 200);
    expect(moved).toHaveLength(square.length); // no detail lost
    expect(moved[10]).toEqual([120, 0]);
    expect(moved[0]).toEqual([0, 0]); // the neighbouring handles stay
    expect(moved[20]).toEqual([100, 100]);
    expect(moved[5]).toEqual([60, 0]); // half way from handle 0: half the move
    expect(moved[15]).toEqual([110, 50]); // half way to handle 20: half the move
    expect(moved.slice(21)).toEqual(square.slice(21)); // the rest is untouched
  });

  it('moveHandle wraps around the ring and keeps points inside the photo', () => {
    const [moved] = moveHandle([square], { ring: 0, index: 0 }, [-50, -50], [0, 10, 20, 30], 200, 200);
    expect(moved[0]).toEqual([0, 0]);
    const [moved2] = moveHandle([square], { ring: 0, index: 0 }, [10, 10], [0, 10, 20, 30], 200, 200);
    expect(moved2[35]).toEqual([5, 55]); // between handle 30 and 0: half of (10, 10)
  });
});

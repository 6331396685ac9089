/** The outline editor over a photo: drag points (mouse, touch, keyboard), redraw freehand, or
 * click a new polygon. Works in image pixels; the SVG's viewBox is the photo. */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type PointerEvent } from 'react';
import {
  clientToImage,
  insertPoint,
  nearestEdge,
  nearestPoint,
  nudge,
  removePoint,
  handleIndices,
  moveHandle,
  simplifyRing,
  svgPoints,
  clampView,
  fitView,
  largestRing,
  zoomView,
  type View,
  type Outline,
  type Point,
  type PointRef,
} from './geometry';

export type Tool = 'points' | 'freehand' | 'polygon';

interface Props {
  imageUrl: string;
  imageAlt: string;
  width: number;
  height: number;
  outline: Outline;
  original: Outline | null;
  tool: Tool;
  /** The polygon being clicked (polygon tool). */
  pending: Point[];
  onChange: (outline: Outline) => void;
  onPending: (points: Point[]) => void;
  onClosePending: () => void;
  selected: PointRef | null;
  onSelect: (ref: PointRef | null) => void;
  label: string;
  pointLabel: (n: number, total: number, ring: number) => string;
  onImageError?: () => void;
  /** No handles, no drawing: only look (and zoom). */
  readOnly?: boolean;
  zoomLabels: { zoomIn: string; zoomOut: string; whole: string; fit: string };
}

/** Screen pixels: handles at least this far apart while moving points, the shape kept within
 * SHAPE_TOLERANCE; handles drawn small, the selected one large; a finger reaches the nearest
 * handle within TOUCH_REACH (the touch target), a mouse within MOUSE_REACH. */
const HANDLE_GAP = 28;
const SHAPE_TOLERANCE = 2;
const HANDLE_R = 5;
const HANDLE_R_SELECTED = 11;
const TOUCH_REACH = 26;
const MOUSE_REACH = 12;

/** Keep receiving a pointer's moves outside the element (no pointer to capture: no matter). */
function capture(el: Element | null, pointerId: number): void {
  try {
    el?.setPointerCapture?.(pointerId);
  } catch {
    // a pointer already gone
  }
}

export default function OutlineEditor(props: Props) {
  const { width, height, outline, tool, pending, selected } = props;
  const svgRef = useRef<SVGSVGElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [box, setBox] = useState(0); // the editor's width on screen
  const [view, setView] = useState<View>(() => fitView(largestRing(outline), width, height, 0.6));
  const scale = box > 0 ? box / view.w : 1; // screen px per image px
  const drag = useRef<{ ref: PointRef; pointer: number } | null>(null);
  const pan = useRef<{ pointer: number; from: Point; view: View } | null>(null);
  const [stroke, setStroke] = useState<Point[] | null>(null);
  const handleRefs = useRef(new Map<string, SVGCircleElement>());

  // Moving points: the model's outline (often 60 vertices a few pixels apart) gets handles on
  // a simplified version of it only (Douglas-Peucker, handles about HANDLE_GAP screen pixels
  // apart), so that a finger can grab them; the outline keeps every vertex, and moving a handle
  // carries the vertices between it and its neighbouring handles along. The handles stay the
  // same while they are being edited (the outline we emitted), and are chosen again for an
  // outline from elsewhere (reset, freehand) or at another zoom.
  const editable = tool === 'points' && !props.readOnly;
  const handleScale = box > 0 ? Math.round(scale * 100) / 100 : 0;
  const emitted = useRef<{ outline: Outline; scale: number; handles: number[][] } | null>(null);
  const handleIdx = useMemo<number[][]>(() => {
    const e = emitted.current;
    if (e && e.outline === outline && e.scale === handleScale) return e.handles;
    if (!editable || handleScale === 0) return outline.map((ring) => ring.map((_, i) => i));
    return outline.map((ring) => handleIndices(ring, SHAPE_TOLERANCE / handleScale, HANDLE_GAP / handleScale));
  }, [outline, editable, handleScale]);
  const handlePts: Outline = useMemo(() => outline.map((ring, r) => (handleIdx[r] ?? []).map((i) => ring[i])), [outline, handleIdx]);
  const change = (next: Outline, handles: number[][] = handleIdx) => {
    emitted.current = { outline: next, scale: handleScale, handles };
    props.onChange(next);
  };
  const moveTo = (ref: PointRef, to: Point) => change(moveHandle(outline, ref, to, handleIdx[ref.ring] ?? [], width, height));
  /** A handle's vertex from its place in the handle list. */
  const toVertex = (ref: PointRef): PointRef => ({ ring: ref.ring, index: handleIdx[ref.ring][ref.index] });
  const select = (ref: PointRef | null) => props.onSelect(ref);

  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const update = () => setBox(el.clientWidth);
    update();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => observer.disconnect();
  }, [width]);

  // Keep the selected point in view, and the keyboard focus on it when the outline re-renders.
  useEffect(() => {
    if (!selected) return;
    const p = outline[selected.ring]?.[selected.index];
    // Not while a pointer drags it: the photo would slide under the pointer and the point run away.
    if (p && !drag.current) {
      setView((v) => {
        const m = v.w * 0.05;
        if (p[0] >= v.x + m && p[0] <= v.x + v.w - m && p[1] >= v.y + m && p[1] <= v.y + v.h - m) return v;
        return clampView({ ...v, x: p[0] - v.w / 2, y: p[1] - v.h / 2 }, width, height);
      });
    }
    const el = handleRefs.current.get(`${selected.ring}:${selected.index}`);
    if (el && document.activeElement !== el && wrapRef.current?.contains(document.activeElement)) el.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected, outline]);

  const toImage = (e: { clientX: number; clientY: number }): Point => {
    const rect = svgRef.current!.getBoundingClientRect();
    const [u, v] = clientToImage(e.clientX, e.clientY, rect, view.w, view.h);
    return [view.x + u, view.y + v];
  };
  const inside = ([x, y]: Point): Point => [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y))];

  const onHandleDown = (e: PointerEvent<SVGCircleElement>, ref: PointRef) => {
    if (tool !== 'points' || props.readOnly) return;
    e.preventDefault();
    e.stopPropagation();
    capture(e.currentTarget, e.pointerId);
    drag.current = { ref, pointer: e.pointerId };
    select(ref);
    (e.currentTarget as SVGCircleElement).focus();
  };

  const onDown = (e: PointerEvent<SVGSVGElement>) => {
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    if (tool === 'points' && !props.readOnly) {
      // A finger is wider than a handle: the nearest point within reach is the one dragged.
      const near = nearestPoint(handlePts, toImage(e), (e.pointerType === 'touch' ? TOUCH_REACH : MOUSE_REACH) / scale);
      const ref = near ? toVertex(near) : null;
      if (ref) {
        e.preventDefault();
        capture(svgRef.current, e.pointerId);
        drag.current = { ref, pointer: e.pointerId };
        select(ref);
        return;
      }
    }
    if (props.readOnly || tool === 'points') {
      // Drag the photo around when zoomed in.
      if (view.w < width) {
        capture(svgRef.current, e.pointerId);
        pan.current = { pointer: e.pointerId, from: [e.clientX, e.clientY], view };
      }
      props.onSelect(null);
      return;
    }
    if (tool === 'freehand') {
      e.preventDefault();
      capture(svgRef.current, e.pointerId);
      setStroke([inside(toImage(e))]);
    } else if (tool === 'polygon') {
      e.preventDefault();
      const p = inside(toImage(e));
      // A click on the first point closes the polygon.
      if (pending.length >= 3) {
        const [fx, fy] = pending[0];
        if (Math.hypot(fx - p[0], fy - p[1]) * scale < 14) {
          props.onClosePending();
          return;
        }
      }
      props.onPending([...pending, p]);
    }
  };

  const onMove = (e: PointerEvent<SVGSVGElement>) => {
    if (pan.current && pan.current.pointer === e.pointerId) {
      const { from, view: start } = pan.current;
      const k = start.w / (box || 1);
      setView(clampView({ ...start, x: start.x - (e.clientX - from[0]) * k, y: start.y - (e.clientY - from[1]) * k }, width, height));
    } else if (drag.current && drag.current.pointer === e.pointerId) {
      moveTo(drag.current.ref, toImage(e));
    } else if (stroke) {
      const p = inside(toImage(e));
      const last = stroke[stroke.length - 1];
      if (Math.hypot(p[0] - last[0], p[1] - last[1]) * scale >= 2) setStroke([...stroke, p]);
    }
  };

  const onUp = () => {
    drag.current = null;
    pan.current = null;
    if (stroke) {
      const ring = simplifyRing(stroke, 1.2 / scale);
      setStroke(null);
      if (ring) props.onChange([ring]);
    }
  };

  const onDoubleClick = (e: MouseEvent<SVGSVGElement>) => {
    if (tool !== 'points' || props.readOnly) return;
    const p = toImage(e);
    const edge = nearestEdge(outline, p, 12 / scale);
    if (edge) {
      // The new vertex is a handle; the vertices after it shift by one.
      const handles = handleIdx.map((list, r) =>
        r === edge.ring ? [...list.map((i) => (i > edge.index ? i + 1 : i)), edge.index + 1].sort((a, b) => a - b) : list,
      );
      change(insertPoint(outline, edge, inside(p)), handles);
      props.onSelect({ ring: edge.ring, index: edge.index + 1 });
    }
  };

  const onHandleKey = (e: KeyboardEvent<SVGCircleElement>, ref: PointRef) => {
    const step = Math.max(1, 2 / scale);
    const delta = nudge(e.key, e.shiftKey, step);
    if (delta) {
      e.preventDefault();
      const [x, y] = outline[ref.ring][ref.index];
      props.onSelect(ref);
      moveTo(ref, [x + delta[0], y + delta[1]]);
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      const next = removePoint(outline, ref);
      if (next !== outline) {
        const list = handleIdx[ref.ring] ?? [];
        const at = list.indexOf(ref.index);
        const kept = list.filter((i) => i !== ref.index).map((i) => (i > ref.index ? i - 1 : i));
        change(next, handleIdx.map((l, r) => (r === ref.ring ? kept : l)));
        if (kept.length) props.onSelect({ ring: ref.ring, index: kept[Math.min(Math.max(0, at), kept.length - 1)] });
        else props.onSelect(null);
      }
    } else if (e.key === 'PageDown' || e.key === 'PageUp') {
      // One tab stop for the whole outline: these move the selection along it.
      e.preventDefault();
      const flat = handleIdx.flatMap((list, r) => list.map((i) => ({ ring: r, index: i })));
      const at = flat.findIndex((p) => p.ring === ref.ring && p.index === ref.index);
      const next = flat[(at + (e.key === 'PageDown' ? 1 : flat.length - 1)) % flat.length];
      props.onSelect(next);
      handleRefs.current.get(`${next.ring}:${next.index}`)?.focus();
    } else if (e.key === 'Escape') {
      props.onSelect(null);
    }
  };

  const r = 7 / scale;
  const pendingRing = pending.length ? pending : null;
  const selIsHandle = !!selected && (handleIdx[selected.ring] ?? []).includes(selected.index);
  const z = props.zoomLabels;
  return (
    <div className="media-editor-wrap">
      <div className="media-toolbar media-zoom">
        <button type="button" onClick={() => setView(zoomView(view, 1.6, width, height))} disabled={view.w <= width / 40 + 1}>
          <span aria-hidden="true">+ </span>
          {z.zoomIn}
        </button>
        <button type="button" onClick={() => setView(zoomView(view, 1 / 1.6, width, height))} disabled={view.w >= width}>
          <span aria-hidden="true">− </span>
          {z.zoomOut}
        </button>
        <button type="button" onClick={() => setView(fitView(outline.length ? largestRing(outline) : [pending], width, height))} disabled={!outline.length && pending.length < 2}>
          {z.fit}
        </button>
        <button type="button" onClick={() => setView({ x: 0, y: 0, w: width, h: height })} disabled={view.w >= width}>
          {z.whole}
        </button>
      </div>
      <div
        ref={wrapRef}
        className={'media-editor' + (tool !== 'points' && !props.readOnly ? ' is-drawing' : '') + (view.w < width ? ' is-zoomed' : '')}
        style={{ aspectRatio: `${width} / ${height}`, width: `min(100%, calc(68vh * ${width / height}))` }}
      >
        <svg
          ref={svgRef}
          viewBox={`${view.x} ${view.y} ${view.w} ${view.h}`}
          preserveAspectRatio="none"
          role="group"
          aria-label={props.label}
          onPointerDown={onDown}
          onPointerMove={onMove}
          onPointerUp={onUp}
          onPointerCancel={onUp}
          onDoubleClick={onDoubleClick}
        >
          <image href={props.imageUrl} x={0} y={0} width={width} height={height} preserveAspectRatio="none" onError={props.onImageError}>
            <title>{props.imageAlt}</title>
          </image>
          {props.original
            ? props.original.map((ring, i) => (
                <polygon key={`o${i}`} className="ring is-original" points={svgPoints(ring)} vectorEffect="non-scaling-stroke" />
              ))
            : null}
          {stroke ? null : outline.map((ring, i) => <polygon key={i} className="ring" points={svgPoints(ring)} vectorEffect="non-scaling-stroke" />)}
          {stroke ? <polyline className="stroke" points={svgPoints(stroke)} vectorEffect="non-scaling-stroke" /> : null}
          {pendingRing ? <polyline className="stroke" points={svgPoints(pendingRing)} vectorEffect="non-scaling-stroke" /> : null}
          {pendingRing
            ? pendingRing.map(([x, y], i) => <circle key={`p${i}`} className="handle" cx={x} cy={y} r={i === 0 ? r * 1.3 : r * 0.8} />)
            : null}
          {tool === 'points' && !stroke && !props.readOnly
            ? handleIdx.map((list, ri) =>
                list.map((i) => {
                  const [x, y] = outline[ri][i];
                  const isSel = selected?.ring === ri && selected.index === i;
                  const tabStop = selIsHandle ? isSel : ri === 0 && i === list[0];
                  return (
                    <circle
                      key={`${ri}:${i}`}
                      ref={(el) => {
                        const key = `${ri}:${i}`;
                        if (el) handleRefs.current.set(key, el);
                        else handleRefs.current.delete(key);
                      }}
                      className={'handle' + (isSel ? ' is-selected' : '')}
                      cx={x}
                      cy={y}
                      r={(isSel ? HANDLE_R_SELECTED : HANDLE_R) / scale}
                      vectorEffect="non-scaling-stroke"
                      tabIndex={tabStop ? 0 : -1}
                      role="button"
                      aria-label={props.pointLabel(list.indexOf(i) + 1, list.length, ri + 1)}
                      aria-pressed={isSel}
                      onPointerDown={(e) => onHandleDown(e, { ring: ri, index: i })}
                      onKeyDown={(e) => onHandleKey(e, { ring: ri, index: i })}
                      onFocus={() => select({ ring: ri, index: i })}
                    />
                  );
                }),
              )
            : null}
        </svg>
      </div>
    </div>
  );
}

/** `/wound-sites/:siteId/chart`: validated area over time against the expected healing of the
 * rule that applies, tissue per date, photo thumbnails; a table says the same in rows. */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api';
import { describeError, useLang, useT } from '../../i18n';
import { Link, navigate, useRoute } from '../../router';
import { expectedHealing, linearScale, niceTicks, reductionPct, thumbnailCrop, tissueSegments, weekTicks, WEEK } from './chart';
import { formatArea, formatDate, formatNumber, formatShortDate } from './format';
import { messages } from './messages';
import { woundTypeKey, type Trajectory, type WoundSite } from './types';
import './media.css';

type T = ReturnType<typeof useT<keyof typeof messages.en>>;
type Lang = ReturnType<typeof useLang>['lang'];

function useWidth<E extends HTMLElement>(): [(el: E | null) => void, number] {
  const [el, setEl] = useState<E | null>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    if (!el) return;
    const update = () => setWidth(el.clientWidth);
    update();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => observer.disconnect();
  }, [el]);
  return [setEl, width];
}

function changeText(pct: number | null, t: T, lang: Lang): string {
  if (pct == null) return t('unknown');
  if (pct >= 0) return t('smaller', { pct: formatNumber(pct, lang, 0) });
  return t('larger', { pct: formatNumber(-pct, lang, 0) });
}

/** A chart thumbnail cropped on the wound (as the photo message does); the whole photo when
 * the point has no outline box. */
function Thumbnail(props: {
  photo: number;
  crop: { x: number; y: number; side: number } | null;
  size: [number, number] | undefined;
  x: number;
  y: number;
  side: number;
}) {
  const href = `/api/photos/${props.photo}/thumbnail`;
  if (!props.crop || !props.size) {
    return <image href={href} x={props.x} y={props.y} width={props.side} height={props.side} preserveAspectRatio="xMidYMid slice" />;
  }
  const { crop } = props;
  return (
    <svg x={props.x} y={props.y} width={props.side} height={props.side} viewBox={`${crop.x} ${crop.y} ${crop.side} ${crop.side}`} preserveAspectRatio="xMidYMid slice">
      <image href={href} x={0} y={0} width={props.size[0]} height={props.size[1]} preserveAspectRatio="none" />
    </svg>
  );
}

export function Chart({ data, width, t, lang }: { data: Trajectory; width: number; t: T; lang: Lang }) {
  const points = data.points
    .filter((p) => p.area_cm2 != null)
    .map((p) => ({ ...p, t: new Date(p.measured_at).getTime(), area: p.area_cm2 as number }));
  const t0 = points[0].t;
  const line = data.threshold && points[0] ? expectedHealing({ t: t0, area: points[0].area }, data.threshold) : null;
  const tEnd = Math.max(points[points.length - 1].t, line ? line.to.t : t0 + WEEK, t0 + WEEK);
  const compact = width < 560;
  const m = { left: compact ? 40 : 52, right: compact ? 12 : 24, top: 28, bottom: 40 };
  const plotH = Math.round(Math.min(320, Math.max(190, width * 0.42)));
  const tissueH = 56;
  const thumbRow = 46;
  const height = m.top + plotH + m.bottom + tissueH + 12 + thumbRow + 8;
  const pad = (tEnd - t0) * 0.04 + 12 * 3600_000;
  const x = linearScale([t0 - pad, tEnd + pad], [m.left, width - m.right]);
  const maxArea = Math.max(...points.map((p) => p.area), line ? line.from.area : 0);
  const yTicks = niceTicks(0, maxArea * 1.08, compact ? 4 : 5);
  const y = linearScale([0, yTicks[yTicks.length - 1]], [m.top + plotH, m.top]);
  const xTicks = weekTicks(t0, tEnd, compact ? 5 : 9);
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.area).toFixed(1)}`).join(' ');
  const tissueTop = m.top + plotH + m.bottom;
  const thumbTop = tissueTop + tissueH + 12;
  const spacing = points.length > 1 ? Math.min(...points.slice(1).map((p, i) => x(p.t) - x(points[i].t))) : 999;
  const thumb = Math.max(18, Math.min(40, spacing - 4));
  const barW = Math.max(6, Math.min(18, spacing - 4));

  return (
    <svg
      className="media-chart"
      data-testid="healing-chart"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="group"
      aria-label={t('chartLabel')}
    >
      <g className="grid" aria-hidden="true">
        {yTicks.map((v) => (
          <line key={v} x1={m.left} x2={width - m.right} y1={y(v)} y2={y(v)} />
        ))}
      </g>
      <g className="axis" aria-hidden="true">
        <line x1={m.left} x2={m.left} y1={m.top} y2={m.top + plotH} />
        <line x1={m.left} x2={width - m.right} y1={m.top + plotH} y2={m.top + plotH} />
        {yTicks.map((v) => (
          <text key={v} x={m.left - 6} y={y(v)} dy="0.32em" textAnchor="end">
            {formatNumber(v, lang, v % 1 ? 1 : 0)}
          </text>
        ))}
        <text x={m.left} y={14} textAnchor="start">
          {t('areaAxis')}
        </text>
        {xTicks.map((tick) => (
          <g key={tick.week} transform={`translate(${x(tick.t)},${m.top + plotH})`}>
            <line y2={5} />
            <text y={18} textAnchor="middle">
              {t('weekTick', { week: tick.week })}
            </text>
            <text y={32} textAnchor="middle">
              {formatShortDate(tick.t, lang)}
            </text>
          </g>
        ))}
      </g>
      {line ? (
        <g aria-hidden="true">
          <line className="expected" x1={x(line.from.t)} y1={y(line.from.area)} x2={x(line.to.t)} y2={y(line.to.area)} />
          <circle cx={x(line.to.t)} cy={y(line.to.area)} r={4} fill="var(--warning)" />
          {/* Under the line's end, where the descending dashed line is not. */}
          <text
            className="expected-label"
            x={x(line.to.t) > width - m.right - 30 ? x(line.to.t) + 4 : x(line.to.t)}
            y={y(line.to.area) + 20}
            textAnchor={x(line.to.t) > width - m.right - 30 ? 'end' : 'middle'}
          >
            −{formatNumber(data.threshold!.min_reduction_pct, lang, 0)} %
          </text>
        </g>
      ) : null}
      <path className="area-line" d={path} aria-hidden="true" />
      {points.map((p) => {
        const label = t('pointTitle', { date: formatDate(p.measured_at, lang), area: formatArea(p.area, lang) });
        const href = `/measurements/${p.measurement}/review`;
        return (
          <a
            key={p.measurement}
            href={href}
            aria-label={label}
            onClick={(e) => {
              e.preventDefault();
              navigate(href);
            }}
          >
            <title>{label}</title>
            <circle className="point" data-testid="chart-point" data-measurement-id={p.measurement} cx={x(p.t)} cy={y(p.area)} r={6} />
          </a>
        );
      })}
      <g aria-hidden="true">
        <text x={4} y={tissueTop + tissueH / 2} dy="0.32em" fill="var(--text-muted)">
          {compact ? '' : t('tissue')}
        </text>
        {points.map((p) => {
          const segs = tissueSegments(p.tissue);
          const cx = x(p.t);
          if (!segs) {
            return <rect key={p.measurement} x={cx - barW / 2} y={tissueTop} width={barW} height={tissueH} fill="none" stroke="var(--border)" strokeDasharray="3 3" />;
          }
          let acc = 0;
          return (
            <g key={p.measurement}>
              {segs.map((s) => {
                const h = s.share * tissueH;
                const rect = <rect key={s.key} className={`media-tissue-${s.key}`} x={cx - barW / 2} y={tissueTop + acc} width={barW} height={h} />;
                acc += h;
                return rect;
              })}
            </g>
          );
        })}
      </g>
      {points.map((p) => {
        const href = `/measurements/${p.measurement}/review`;
        const cx = x(p.t);
        return (
          <a
            key={`thumb${p.measurement}`}
            href={href}
            aria-label={t('thumbnailOf', { date: formatDate(p.measured_at, lang) })}
            onClick={(e) => {
              e.preventDefault();
              navigate(href);
            }}
          >
            <Thumbnail photo={p.photo} crop={thumbnailCrop(p.wound_box, p.photo_size)} size={p.photo_size} x={cx - thumb / 2} y={thumbTop} side={thumb} />
            <rect className="thumb-frame" x={cx - thumb / 2} y={thumbTop} width={thumb} height={thumb} rx={3} />
          </a>
        );
      })}
    </svg>
  );
}

export default function ChartScreen(props: { siteId?: number }) {
  const t = useT(messages);
  const { lang } = useLang();
  const route = useRoute();
  const siteId = props.siteId ?? Number(route.params.siteId ?? 0);
  const [data, setData] = useState<Trajectory | null>(null);
  const [site, setSite] = useState<WoundSite | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [wrapRef, width] = useWidth<HTMLDivElement>();

  const load = useCallback(async () => {
    setError(null);
    try {
      const [trajectory, woundSite] = await Promise.all([
        api<Trajectory>('GET', `wound-sites/${siteId}/trajectory`),
        api<WoundSite>('GET', `wound-sites/${siteId}`).catch(() => null),
      ]);
      setData(trajectory);
      setSite(woundSite);
    } catch (e) {
      setError(describeError(e, lang));
    }
  }, [siteId, lang]);

  useEffect(() => {
    void load();
  }, [load]);

  const typeKey = data ? woundTypeKey(data.wound_type) : null;
  const points = data?.points.filter((p) => p.area_cm2 != null) ?? [];
  const latest = points[points.length - 1];
  const reduction = data?.baseline && latest ? reductionPct(data.baseline.area_cm2, latest.area_cm2) : null;

  return (
    <main className="media-screen">
      <div className="media-toolbar">{site ? <Link to={`/cases/${site.case}`}>← {t('backToCase')}</Link> : null}</div>
      <h1>
        {t('chartTitle')}
        {site ? ` — ${site.location}` : ''}
      </h1>
      {error ? (
        <p className="error" role="alert">
          {t('loadFailed', { reason: error })}{' '}
          <button type="button" onClick={() => void load()}>
            {t('retry')}
          </button>
        </p>
      ) : null}
      {!data && !error ? (
        <p className="loading" role="status">
          {t('loading')}
        </p>
      ) : null}
      {data ? (
        <>
          <div className="media-summary">
            {typeKey ? <span>{t(typeKey)}</span> : null}
            {points.length > 1 ? (
              <span>
                {t('reductionSince', { value: '' })}
                <strong>{changeText(reduction, t, lang)}</strong>
              </span>
            ) : null}
          </div>
          <ul className="media-legend">
            <li>
              <span className="line" aria-hidden="true" />
              {t('chartLabel')}
            </li>
            {data.threshold ? (
              <li>
                <span className="line is-expected" aria-hidden="true" />
                {t('expected', { pct: formatNumber(data.threshold.min_reduction_pct, lang, 0), weeks: formatNumber(data.threshold.weeks, lang, 0) })}
              </li>
            ) : (
              <li className="muted">{t('noThreshold')}</li>
            )}
            {(['granulation', 'slough', 'necrosis'] as const).map((k) => (
              <li key={k}>
                <span className={`media-swatch media-tissue-${k}`} aria-hidden="true" />
                {t(k)}
              </li>
            ))}
          </ul>
          <div ref={wrapRef} className="media-chart-wrap card">
            {points.length === 0 ? (
              <p className="muted" data-testid="healing-chart">
                {t('noData')}
              </p>
            ) : width > 0 ? (
              <Chart data={data} width={Math.max(300, width - 34)} t={t} lang={lang} />
            ) : null}
          </div>
          {points.length ? (
            <section className="card">
              <h2 id="media-table-title">{t('table')}</h2>
              {/* Wider than a phone: the table scrolls sideways in its own box (focusable, so a
                  keyboard scrolls it too). */}
              <div className="media-table-wrap" role="region" aria-labelledby="media-table-title" tabIndex={0}>
                <table className="media-table" aria-labelledby="media-table-title">
                  <thead>
                    <tr>
                      <th scope="col">{t('date')}</th>
                      <th scope="col" className="num">
                        {t('areaAxis')}
                      </th>
                      <th scope="col" className="num">
                        {t('reduction')}
                      </th>
                      <th scope="col" className="num">
                        {t('granulation')}
                      </th>
                      <th scope="col" className="num">
                        {t('slough')}
                      </th>
                      <th scope="col" className="num">
                        {t('necrosis')}
                      </th>
                      <th scope="col">{t('photo')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {points.map((p) => (
                      <tr key={p.measurement}>
                        <th scope="row">{formatDate(p.measured_at, lang)}</th>
                        <td className="num">{formatArea(p.area_cm2 as number, lang)}</td>
                        <td className="num">{p === points[0] ? '—' : changeText(p.reduction_pct, t, lang)}</td>
                        {(['granulation', 'slough', 'necrosis'] as const).map((k) => (
                          <td key={k} className="num">
                            {p.tissue[k] == null ? '—' : `${formatNumber(p.tissue[k] as number, lang, 0)} %`}
                          </td>
                        ))}
                        <td>
                          <Link to={`/measurements/${p.measurement}/review`}>{t('review')}</Link>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ) : null}
        </>
      ) : null}
    </main>
  );
}

// plot.js — the SVG drawing of where a person was and where they met people: their pings and
// the meeting points, in metres east and north of the centre of their pings (equirectangular
// projection, true to a few parts in a thousand over a venue or a city; no map tiles), with a
// scale bar. Each point is hoverable and keyboard-focusable and says who and when.
//
//   drawPlot(svg, tip, { who, pings: [{latitude, longitude, creation_time}],
//                        meetings: [{latitude, longitude, person, first_seen, last_seen, count, min_distance_m}] });

import { formatDistance, formatPlace, formatTime, fullName, plural } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const EARTH_RADIUS_M = 6371008.8;
const PAD = 30;
const MIN_HALF_EXTENT_M = 2; // a single spot still gets a readable scale
const MAX_FOCUSABLE_PINGS = 200; // beyond this own pings are hoverable only (tab order stays short)
const TIMES_LISTED = 4;

const rad = (deg) => (deg * Math.PI) / 180;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Metres east (x) and north (y) of the centre.
function projector(lat0, lon0) {
  const cos0 = Math.cos(rad(lat0));
  return (lat, lon) => {
    let dlon = lon - lon0;
    if (dlon > 180) dlon -= 360;
    if (dlon < -180) dlon += 360;
    return { x: EARTH_RADIUS_M * rad(dlon) * cos0, y: EARTH_RADIUS_M * rad(lat - lat0) };
  };
}

// The largest 1, 2 or 5 × 10^k not above limit.
function niceLength(limit) {
  const power = 10 ** Math.floor(Math.log10(limit));
  for (const step of [5, 2, 1]) if (step * power <= limit) return step * power;
  return power;
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return [...groups.values()];
}

function offsetText(p) {
  const ew = `${formatDistance(Math.abs(p.x))} ${p.x < 0 ? 'west' : 'east'}`;
  const ns = `${formatDistance(Math.abs(p.y))} ${p.y < 0 ? 'south' : 'north'}`;
  return `${ew}, ${ns} of the centre`;
}

function pingsText(who, group, p) {
  const times = group.slice(0, TIMES_LISTED).map((ping) => formatTime(ping.creation_time));
  if (group.length > TIMES_LISTED) times.push(`and ${group.length - TIMES_LISTED} more`);
  return [`${who}: ${plural(group.length, 'ping', 'pings')} here`, ...times,
    formatPlace(group[0].latitude, group[0].longitude), offsetText(p)];
}

function meetingText(group, p) {
  const lines = group.length > 1 ? [`Met ${plural(group.length, 'person', 'people')} here`] : [];
  for (const m of group) {
    const when = m.first_seen === m.last_seen || !m.last_seen
      ? formatTime(m.first_seen)
      : `${formatTime(m.first_seen)} to ${formatTime(m.last_seen)}`;
    const name = `${fullName(m.person)} (${m.person.company_name})`;
    lines.push(`${group.length > 1 ? name : `Met ${name}`}, ${when}, ${plural(m.count, 'time', 'times')}, closest ${formatDistance(m.min_distance_m)}`);
  }
  lines.push(formatPlace(group[0].latitude, group[0].longitude), offsetText(p));
  return lines;
}

function marker(kind, sx, sy, lines, focusable) {
  const g = el('g', { class: `pt pt-${kind}`, 'data-kind': kind });
  if (focusable) {
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'img');
    g.setAttribute('aria-label', lines.join('. '));
  }
  g.lines = lines; // shown by the tooltip on hover or focus
  if (kind === 'own') {
    g.append(el('circle', { cx: sx, cy: sy, r: 14, class: 'hit' }));
    g.append(el('circle', { cx: sx, cy: sy, r: 5, class: 'own' }));
  } else {
    g.append(el('circle', { cx: sx, cy: sy, r: 16, class: 'hit' }));
    // An open diamond, so their own ping at the same spot still shows inside it.
    g.append(el('rect', {
      x: sx - 7, y: sy - 7, width: 14, height: 14, class: 'met', transform: `rotate(45 ${sx} ${sy})`,
    }));
  }
  return g;
}

function drawScaleBar(svg, scale, width, height) {
  const metres = niceLength((width / 4) / scale);
  const px = metres * scale;
  const x = PAD;
  const y = height - 14;
  const g = el('g', { class: 'scale', 'aria-hidden': 'true' });
  g.append(el('path', { d: `M${x} ${y - 6}v6h${px}v-6` }));
  g.append(el('text', { x: x + px / 2, y: y - 9, 'text-anchor': 'middle' }, formatDistance(metres)));
  svg.append(g);
  svg.setAttribute('data-scale-m', String(metres));
}

// The drawing is as many units wide as the box is pixels, so its text keeps its size on a
// phone; narrow boxes get a squarer drawing.
function plotSize(svg) {
  const width = Math.round(Math.max(280, Math.min(1200, svg.parentElement.clientWidth || 640)));
  const height = Math.round(width < 520 ? width * 0.9 : Math.min(460, Math.max(320, width * 0.6)));
  return [width, height];
}

export function drawPlot(svg, tip, { who, pings, meetings }) {
  const [width, height] = plotSize(svg);
  hideTip(tip);
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.append(el('rect', { x: 0, y: 0, width, height, class: 'bg' }));

  const own = pings.map((p) => ({ ...p, lat: Number(p.latitude), lon: Number(p.longitude) }))
    .filter((p) => Number.isFinite(p.lat) && Number.isFinite(p.lon));
  const met = meetings.map((m) => ({ ...m, lat: Number(m.latitude), lon: Number(m.longitude) }))
    .filter((m) => Number.isFinite(m.lat) && Number.isFinite(m.lon));
  const basis = own.length ? own : met;
  if (!basis.length) {
    svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' },
      'No pings in this date range'));
    svg.setAttribute('data-points', '0');
    return;
  }

  // Centre: the mean of their pings (longitudes averaged relative to the first, so the
  // antimeridian does not split a cluster).
  const lat0 = basis.reduce((s, p) => s + p.lat, 0) / basis.length;
  const lonRef = basis[0].lon;
  const lon0 = lonRef + basis.reduce((s, p) => s + (((p.lon - lonRef + 540) % 360) - 180), 0) / basis.length;
  const project = projector(lat0, lon0);
  for (const p of own) Object.assign(p, project(p.lat, p.lon));
  for (const m of met) Object.assign(m, project(m.lat, m.lon));

  let halfX = MIN_HALF_EXTENT_M;
  let halfY = MIN_HALF_EXTENT_M;
  for (const p of [...own, ...met]) {
    halfX = Math.max(halfX, Math.abs(p.x));
    halfY = Math.max(halfY, Math.abs(p.y));
  }
  const scale = Math.min((width / 2 - PAD) / halfX, (height / 2 - PAD) / halfY);
  const sx = (x) => width / 2 + x * scale;
  const sy = (y) => height / 2 - y * scale;

  const axes = el('g', { class: 'axes', 'aria-hidden': 'true' });
  axes.append(el('path', { d: `M${width / 2} ${PAD / 2}V${height - PAD / 2}M${PAD / 2} ${height / 2}H${width - PAD / 2}` }));
  axes.append(el('text', { x: width / 2 + 4, y: PAD / 2 + 10 }, 'N'));
  axes.append(el('text', { x: width - PAD / 2 - 10, y: height / 2 - 4 }, 'E'));
  svg.append(axes);
  drawScaleBar(svg, scale, width, height);

  const ownGroups = groupBy(own, (p) => `${p.latitude},${p.longitude}`);
  const focusable = ownGroups.length <= MAX_FOCUSABLE_PINGS;
  const layer = el('g', { class: 'points' });
  for (const group of ownGroups) {
    const p = group[0];
    layer.append(marker('own', sx(p.x), sy(p.y), pingsText(who, group, p), focusable));
  }
  const ownAt = new Map(ownGroups.map((group) => [`${group[0].lat},${group[0].lon}`, group]));
  for (const group of groupBy(met, (m) => `${m.latitude},${m.longitude}`)) {
    const m = group[0];
    const lines = meetingText(group, m);
    // The meeting mark covers their own ping at the same spot: say it here too.
    const own = ownAt.get(`${m.lat},${m.lon}`);
    if (own) lines.splice(lines.length - 2, 0, `${who}: ${plural(own.length, 'ping', 'pings')} here too`);
    const g = marker('met', sx(m.x), sy(m.y), lines, true);
    g.dataset.personIds = group.map((x) => x.person.id).join(' ');
    layer.append(g);
  }
  svg.append(layer);
  svg.setAttribute('data-points', String(own.length + met.length));
  wireTips(svg, tip);
}

function showTip(svg, tip, g) {
  tip.replaceChildren(...g.lines.map((line, i) => {
    const p = document.createElement(i === 0 ? 'strong' : 'span');
    p.textContent = line;
    return p;
  }));
  tip.hidden = false;
  const box = tip.parentElement.getBoundingClientRect();
  const mark = g.lastElementChild.getBoundingClientRect();
  const tipRect = tip.getBoundingClientRect();
  let left = mark.left + mark.width / 2 - box.left - tipRect.width / 2;
  left = Math.max(4, Math.min(left, box.width - tipRect.width - 4));
  let top = mark.top - box.top - tipRect.height - 8;
  if (top < 4) top = mark.bottom - box.top + 8;
  tip.style.left = `${left}px`;
  tip.style.top = `${top}px`;
  for (const other of svg.querySelectorAll('.pt.active')) other.classList.remove('active');
  g.classList.add('active');
}

function hideTip(tip) {
  tip.hidden = true;
}

function wireTips(svg, tip) {
  if (svg.dataset.wired) return;
  svg.dataset.wired = '1';
  const show = (e) => {
    const g = e.target.closest && e.target.closest('.pt');
    if (g) showTip(svg, tip, g);
  };
  const hide = (e) => {
    const g = e.target.closest && e.target.closest('.pt');
    if (!g) return;
    g.classList.remove('active');
    if (document.activeElement === g && e.type !== 'focusout') return;
    hideTip(tip);
  };
  svg.addEventListener('pointerover', show);
  svg.addEventListener('focusin', show);
  svg.addEventListener('pointerout', hide);
  svg.addEventListener('focusout', hide);
  svg.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hideTip(tip);
  });
}

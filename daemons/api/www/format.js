// format.js — how times, dates, places and distances read on the page. The API speaks UTC
// (naive ISO-8601 such as "2020-08-18T10:37:06", or with an offset); so does the page.

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
});
const dayFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric',
});

// A Date from the API's creation_time; a time without an offset is UTC.
export function parseTime(text) {
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  return new Date(zoned.replace(' ', 'T'));
}

// "YYYY-MM-DD" of the instant, in UTC.
export function utcDay(date) {
  return date.toISOString().slice(0, 10);
}

// "YYYY-MM-DD" n days after day (n may be negative).
export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return utcDay(d);
}

export function isDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && utcDay(d) === text;
}

export function formatTime(text) {
  return `${timeFormat.format(parseTime(text))} UTC`;
}

export function formatDay(day) {
  return dayFormat.format(new Date(`${day}T00:00:00Z`));
}

export function formatDistance(m) {
  if (!Number.isFinite(m)) return '—';
  if (m >= 1000) return `${(m / 1000).toLocaleString('en-GB', { maximumFractionDigits: 2 })} km`;
  if (m >= 10) return `${Math.round(m)} m`;
  return `${m.toLocaleString('en-GB', { maximumFractionDigits: 2 })} m`;
}

export function formatPlace(latitude, longitude) {
  const lat = Number(latitude);
  const lon = Number(longitude);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return `${latitude}, ${longitude}`;
  return `${Math.abs(lat).toFixed(6)}° ${lat < 0 ? 'S' : 'N'}, ${Math.abs(lon).toFixed(6)}° ${lon < 0 ? 'W' : 'E'}`;
}

export function fullName(person) {
  return `${person.first_name} ${person.last_name}`.trim();
}

export function plural(n, one, many) {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}

// api.js — the few calls the page makes to udc-api, with relative URLs (the page is served
// by the API itself, on either of its ports), and one error type for everything that can go
// wrong: the API unreachable (kind "network") or an answer other than 2xx/304 (kind "http",
// with the API's own {"error": …} sentence when it sent one).

export class ApiError extends Error {
  constructor(message, { kind, status = 0 }) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
  }
}

export const PAGE_MAX = 1000; // the API's largest accepted ?limit= (api.page_max)

// Query values are %-encoded (a space as %20, not +: not every server reads + as a space).
export function apiUrl(path, params = {}) {
  const url = new URL(path, document.baseURI);
  url.search = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return url.href;
}

// GET a JSON document. With etag, asks If-None-Match and resolves {notModified: true} on 304.
// Resolves {data, etag, next} otherwise; next is the X-Next-Cursor of a paged answer.
export async function getJSON(path, params, { etag, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (etag) headers['If-None-Match'] = etag;
  let res;
  try {
    // no-store: the page does its own revalidation with the ETag; the browser cache must
    // not answer for the server.
    res = await fetch(apiUrl(path, params), { headers, signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError('The UdaConnect API cannot be reached', { kind: 'network' });
  }
  if (res.status === 304) return { notModified: true, etag };
  let body = null;
  try {
    body = await res.json();
  } catch (err) {
    if (err.name === 'AbortError') throw err;
  }
  if (!res.ok) {
    const said = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    throw new ApiError(said, { kind: 'http', status: res.status });
  }
  if (body === null) throw new ApiError('The API answered with something that is not JSON', { kind: 'http', status: res.status });
  return { data: body, etag: res.headers.get('ETag'), next: res.headers.get('X-Next-Cursor') };
}

// Every page of a paged list, PAGE_MAX at a time, up to maxItems (then truncated: true).
export async function getAllPages(path, params, { signal, maxItems = 50000 } = {}) {
  const items = [];
  let cursor;
  for (;;) {
    const page = await getJSON(path, { ...params, limit: PAGE_MAX, cursor }, { signal });
    items.push(...page.data);
    if (!page.next) return { items, truncated: false };
    if (items.length >= maxItems) return { items, truncated: true };
    cursor = page.next;
  }
}

export const api = {
  persons: (params, opts) => getJSON('api/persons', params, opts),
  person: (id, opts) => getJSON(`api/persons/${encodeURIComponent(id)}`, {}, opts),
  locationsPath: (id) => `api/persons/${encodeURIComponent(id)}/locations`,
  connectionPath: (id) => `api/persons/${encodeURIComponent(id)}/connection`,
};

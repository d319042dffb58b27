// app.js — the page's wiring: choosing a person (from the list or #person=ID in the address),
// loading their pings to find their whole history (the default date range), asking the API
// for their connections, drawing them, and keeping both fresh while the person is selected.

import { api, getAllPages, getJSON, ApiError } from './api.js';
import { ConnectionList } from './connections.js';
import { formatDay, fullName, parseTime, plural, utcDay } from './format.js';
import { LiveQuery } from './live.js';
import { PeopleList } from './people.js';
import { drawPlot } from './plot.js';
import { QueryForm } from './query.js';

const CONNECTIONS_POLL_MS = 1000;
const PINGS_POLL_MS = 5000;

const $ = (id) => document.getElementById(id);
const narrow = window.matchMedia('(max-width: 760px)');
const smooth = () => (window.matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth');

const state = {
  person: null,
  selection: 0, // bumped on every new selection: answers for an older one are dropped
  query: 0, // bumped on every new query of connections
  pings: [],
  values: null,
  connections: [],
  fresh: new Set(),
  liveConnections: null,
  livePings: null,
};

// --- the banner for an unreachable API --------------------------------------------------

let retryAction = null;
function showUnreachable(what, retry) {
  $('banner-text').textContent = `The UdaConnect API cannot be reached (${what}). Retrying…`;
  $('banner').hidden = false;
  retryAction = retry;
}
function hideUnreachable() {
  $('banner').hidden = true;
  retryAction = null;
}
$('banner-retry').addEventListener('click', () => {
  if (retryAction) retryAction();
});

function isUnreachable(err) {
  return err instanceof ApiError && (err.kind === 'network' || err.status >= 500);
}

// --- people -------------------------------------------------------------------------------

const people = new PeopleList({
  list: $('people-list'),
  input: $('people-q'),
  status: $('people-status'),
  more: $('people-more'),
  onSelect: (person) => {
    selectPerson(person);
    $('detail').focus({ preventScroll: true });
    // One column (a phone): the connections are below the list, bring them into view.
    if (narrow.matches) $('detail').scrollIntoView({ block: 'start', behavior: smooth() });
  },
  onError: (err) => {
    if (isUnreachable(err)) showUnreachable('people', () => people.retry());
  },
  onLoad: () => hideUnreachable(),
});

// --- the form and the results ---------------------------------------------------------------

const form = new QueryForm($('query'), {
  onSubmit: (values) => runQuery(values),
  onReset: () => {
    const { from, to } = historyRange();
    form.reset(from, to);
    const { values } = form.read();
    if (values) runQuery(values);
  },
});
const connectionList = new ConnectionList($('connections'), $('connections-more'));

function historyRange() {
  if (!state.pings.length) {
    const today = utcDay(new Date());
    return { from: today, to: today };
  }
  return {
    from: utcDay(parseTime(state.pings[0].creation_time)),
    to: utcDay(parseTime(state.pings[state.pings.length - 1].creation_time)),
  };
}

function describeQuery(values) {
  const span = values.from === values.to
    ? `on ${formatDay(values.from)}`
    : `between ${formatDay(values.from)} and ${formatDay(values.to)}`;
  const distance = `${values.distance.toLocaleString('en-GB')} m`;
  const together = values.window === null ? '' : `, at the same time (within ${plural(values.window, 'minute', 'minutes')})`;
  return { span, distance, together };
}

function setResultsStatus(text, busy) {
  $('results-status').textContent = text;
  $('connections').setAttribute('aria-busy', busy ? 'true' : 'false');
  $('results').classList.toggle('busy', busy);
}

function showSummary(newNames = []) {
  const { span, distance, together } = describeQuery(state.values);
  const n = state.connections.length;
  let text = n === 0
    ? `Nobody within ${distance} ${span}${together}.`
    : `${plural(n, 'person', 'people')} within ${distance} ${span}${together}.`;
  if (newNames.length) text += ` New: ${newNames.join(', ')}.`;
  setResultsStatus(text, false);
  $('results').classList.toggle('empty', n === 0);
}

function pingsInRange(values) {
  return state.pings.filter((p) => {
    const day = utcDay(parseTime(p.creation_time));
    return day >= values.from && day <= values.to;
  });
}

function redrawPlot() {
  if (!state.values) return;
  drawPlot($('plot'), $('plot-tip'), {
    who: fullName(state.person),
    pings: pingsInRange(state.values),
    meetings: state.connections.map((c) => ({
      latitude: c.location.latitude,
      longitude: c.location.longitude,
      person: c.person,
      first_seen: c.first_seen,
      last_seen: c.last_seen,
      count: c.count,
      min_distance_m: c.min_distance_m,
    })),
  });
}

function showConnections(connections, { fresh = new Set(), live = false } = {}) {
  state.connections = connections;
  state.fresh = fresh;
  connectionList.show(connections, { fresh, keepLength: live });
  redrawPlot();
}

const liveText = $('live-text');
function showLiveStatus(status) {
  const live = $('live');
  live.dataset.status = status;
  if (status === 'live') {
    liveText.textContent = `Live · checked ${new Date().toLocaleTimeString('en-GB')}`;
  } else if (status === 'paused') {
    liveText.textContent = 'Live updates paused while the page is hidden';
  } else {
    liveText.textContent = 'Live updates: API unreachable, retrying';
  }
}

function stopLive(which) {
  if (state[which]) state[which].stop();
  state[which] = null;
}

function startLiveConnections(path, params, etag) {
  stopLive('liveConnections');
  const live = new LiveQuery(path, params, {
    etag,
    interval: CONNECTIONS_POLL_MS,
    onStatus: (status) => {
      showLiveStatus(status);
      if (status === 'offline') showUnreachable('live updates', () => live.pollNow());
      else if (status === 'live' && !$('banner').hidden) hideUnreachable();
    },
    onData: (data) => {
      const before = new Set(state.connections.map((c) => c.person.id));
      const arrived = data.filter((c) => !before.has(c.person.id));
      const fresh = new Set([...state.fresh, ...arrived.map((c) => c.person.id)]);
      for (const id of fresh) if (!data.some((c) => c.person.id === id)) fresh.delete(id);
      $('query').hidden = false;
      $('results').hidden = false;
      showConnections(data, { fresh, live: true });
      showSummary(arrived.map((c) => fullName(c.person)));
      showLiveStatus('live');
    },
  });
  state.liveConnections = live;
  $('live').hidden = false;
  live.start();
}

async function runQuery(values) {
  const person = state.person;
  const query = ++state.query;
  state.values = values;
  stopLive('liveConnections');
  $('live').hidden = true; // until this query's answer is being kept fresh
  form.showFormError(null);
  $('results').hidden = false;
  const { span, distance, together } = describeQuery(values);
  setResultsStatus(`Looking for people within ${distance} ${span}${together}…`, true);

  const path = api.connectionPath(person.id);
  const params = form.apiParams(values);
  try {
    const answer = await getJSON(path, params);
    if (query !== state.query) return;
    hideUnreachable();
    showConnections(answer.data);
    showSummary();
    startLiveConnections(path, params, answer.etag);
  } catch (err) {
    if (query !== state.query) return;
    if (err instanceof ApiError && err.status === 400) {
      form.showFormError(`The API refused this search: ${err.message}`);
      setResultsStatus('Change the search above and try again.', false);
      showConnections([]);
    } else if (err instanceof ApiError && err.status === 404) {
      setResultsStatus(`${fullName(person)} is no longer known to UdaConnect.`, false);
      showConnections([]);
    } else {
      setResultsStatus('Could not load connections: the API is unreachable. Retrying…', false);
      showUnreachable('connections', () => state.liveConnections && state.liveConnections.pollNow());
      // The poller keeps asking (with back-off) and fills the list once the API answers.
      startLiveConnections(path, params, null);
    }
  }
}

// --- the person's own pings ------------------------------------------------------------------

function mergePings(fresh) {
  const known = new Set(state.pings.map((p) => p.id));
  const added = fresh.filter((p) => !known.has(p.id));
  if (!added.length) return false;
  state.pings = [...state.pings, ...added].sort((a, b) =>
    parseTime(a.creation_time) - parseTime(b.creation_time) || a.id - b.id);
  return true;
}

// New pings of the person: the plot grows, and so does the range while it is still the whole
// history. Only pings since the last known day are asked for.
function startLivePings() {
  stopLive('livePings');
  const person = state.person;
  const last = state.pings.length ? historyRange().to : undefined;
  const live = new LiveQuery(api.locationsPath(person.id), { start_date: last }, {
    interval: PINGS_POLL_MS,
    onData: (data) => {
      if (state.person !== person || !mergePings(data)) return;
      if (form.showsDefaultRange()) {
        const { from, to } = historyRange();
        form.setRange(from, to, { isDefault: true });
        const { values } = form.read();
        if (values) runQuery(values);
      } else {
        redrawPlot();
      }
      startLivePings();
    },
  });
  state.livePings = live;
  live.start();
}

async function selectPerson(person) {
  const selection = ++state.selection;
  state.query++;
  stopLive('liveConnections');
  stopLive('livePings');
  state.person = person;
  state.pings = [];
  state.values = null;
  state.connections = [];
  people.markSelected(person.id);
  if (location.hash !== `#person=${person.id}`) history.replaceState(null, '', `#person=${person.id}`);
  document.title = `${fullName(person)} — UdaConnect`;

  $('detail-heading').textContent = fullName(person);
  $('detail-company').textContent = person.company_name;
  $('detail-intro').textContent = `Loading ${fullName(person)}'s pings…`;
  $('detail-intro').hidden = false;
  $('query').hidden = true;
  $('results').hidden = true;
  connectionList.clear();

  let pings;
  try {
    pings = await getAllPages(api.locationsPath(person.id), {});
  } catch (err) {
    if (selection !== state.selection) return;
    if (isUnreachable(err)) {
      $('detail-intro').textContent = `Could not load ${fullName(person)}'s pings: the API is unreachable.`;
      showUnreachable('pings', () => selectPerson(person));
    } else {
      $('detail-intro').textContent = `Could not load ${fullName(person)}'s pings: ${err.message}.`;
    }
    return;
  }
  if (selection !== state.selection) return;
  hideUnreachable();
  state.pings = pings.items;
  const { from, to } = historyRange();
  const n = state.pings.length;
  $('detail-intro').textContent = n === 0
    ? `${fullName(person)} has no pings yet; showing today.`
    : `${plural(n, 'ping', 'pings')} from ${formatDay(from)} to ${formatDay(to)}${pings.truncated ? ' (the most recent are not drawn)' : ''}.`;
  $('query').hidden = false;
  form.reset(from, to);
  const { values } = form.read();
  runQuery(values);
  startLivePings();
}

async function selectFromAddress() {
  const match = /^#person=(\d+)$/.exec(location.hash);
  if (!match || (state.person && String(state.person.id) === match[1])) return;
  try {
    const answer = await api.person(match[1]);
    selectPerson(answer.data);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      $('detail-intro').textContent = `Nobody has the id ${match[1]}. Choose a person from the list.`;
    } else if (isUnreachable(err)) {
      showUnreachable('person', () => selectFromAddress());
    }
  }
}

// The plot is drawn to the width of its box: redraw when that changes.
let plotWidth = 0;
new ResizeObserver(([entry]) => {
  const width = Math.round(entry.contentRect.width);
  if (width && width !== plotWidth) {
    plotWidth = width;
    redrawPlot();
  }
}).observe($('plot-box'));

window.addEventListener('hashchange', selectFromAddress);
people.start();
selectFromAddress();

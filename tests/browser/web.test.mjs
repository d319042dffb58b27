// web.test.mjs — the web page in headless Chromium against a running stack (udc-api serving
// the page, udc-ingest-http taking pings). Prints "ok - …" / "not ok - …" lines and exits
// non-zero when anything failed.
//
// Environment: UDC_API_URL (the API, serving the page at /), UDC_INGEST_URL (udc-ingest-http),
// optionally UDC_PAGE_URL (the page's own port), UDC_SEED_DIR (default <repo>/schema/seed),
// UDC_SCREENSHOT_DIR (default <repo>/build/screenshots), UDC_CHROMIUM (default /usr/bin/chromium).
//
// What the page shows is compared with what the seed's geometry says: the expected
// connections are computed here from every person's pings (fetched from the API) with the
// haversine distance and the API's date rule, never copied from a list of names.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const API = need('UDC_API_URL').replace(/\/$/, '');
const INGEST = need('UDC_INGEST_URL').replace(/\/$/, '');
const PAGE = (process.env.UDC_PAGE_URL || '').replace(/\/$/, '');
const SEED_DIR = process.env.UDC_SEED_DIR || path.join(repo, 'schema/seed');
const SHOTS = process.env.UDC_SCREENSHOT_DIR || path.join(repo, 'build/screenshots');
const CHROMIUM = process.env.UDC_CHROMIUM || '/usr/bin/chromium';
const PERSON_ID = 1; // the seed's Pam Trexler: the person the story follows
const WAIT_MS = 15000; // for anything the page fetches
const LIVE_WAIT_MS = 10000; // a new ping must show within this, without reloading
const EARTH_RADIUS_M = 6371008.8;

function need(name) {
  const value = process.env[name];
  if (!value) {
    console.log(`not ok - environment variable ${name} is set`);
    process.exit(1);
  }
  return value;
}

// --- reporting ----------------------------------------------------------------------------------

let failures = 0;
let passes = 0;
async function step(what, body) {
  try {
    const note = await body();
    console.log(`ok - ${what}${note ? ` (${note})` : ''}`);
    passes += 1;
    return true;
  } catch (err) {
    console.log(`not ok - ${what}`);
    for (const line of String(err && err.stack ? err.message : err).split('\n').slice(0, 12)) console.log(`#   ${line}`);
    failures += 1;
    return false;
  }
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}
const sameSet = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const sorted = (ids) => [...ids].sort((x, y) => x - y);

// --- the API, directly ------------------------------------------------------------------------------

async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* reported below */ }
  return { status: res.status, headers: res.headers, json, text };
}

// Every item of a paged list (X-Next-Cursor).
async function getAll(pathAndQuery) {
  const items = [];
  let cursor = null;
  for (let pages = 0; pages < 10000; pages++) {
    const url = new URL(API + pathAndQuery);
    url.searchParams.set('limit', '1000');
    if (cursor) url.searchParams.set('cursor', cursor);
    const res = await http('GET', url.href);
    check(res.status === 200 && Array.isArray(res.json), `GET ${url.pathname}${url.search} answered ${res.status}: ${res.text.slice(0, 200)}`);
    items.push(...res.json);
    cursor = res.headers.get('x-next-cursor');
    if (!cursor) return items;
  }
  throw new Error(`${pathAndQuery}: too many pages`);
}

const timeMs = (t) => Date.parse(/([zZ]|[+-]\d\d:?\d\d)$/.test(t) ? t : `${t}Z`);
const dayMs = (day) => Date.parse(`${day}T00:00:00Z`);
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const addDays = (day, n) => utcDay(dayMs(day) + n * 86400000);

function haversine(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
const point = (loc) => ({ lat: Number(loc.latitude), lon: Number(loc.longitude), t: timeMs(loc.creation_time), loc });

// Every other person's pings that can match the page's range [from, to] (inclusive days):
// the page sends end_date = to + 1, and the API takes others' pings up to end_date + 1 day.
async function othersPings(personId, from, to) {
  const people = await getAll('/api/persons');
  const start = from;
  const end = addDays(to, 2);
  const out = [];
  const queue = people.filter((p) => p.id !== personId);
  async function worker() {
    while (queue.length) {
      const p = queue.shift();
      const pings = await getAll(`/api/persons/${p.id}/locations?start_date=${start}&end_date=${end}`);
      for (const loc of pings) out.push({ ...point(loc), person: p });
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  return { people, pings: out.filter((o) => o.t >= dayMs(start) && o.t < dayMs(end)) };
}

// The people within distance of any of the person's pings in [from, to]; also the pairs that
// lie so near the threshold that a sphere and the spheroid could disagree.
async function expectedConnections(personId, from, to, distance) {
  const own = (await getAll(`/api/persons/${personId}/locations`)).map(point)
    .filter((p) => p.t >= dayMs(from) && p.t < dayMs(addDays(to, 1)));
  const { pings } = await othersPings(personId, from, to);
  const ids = new Set();
  const doubtful = [];
  const closest = new Map();
  for (const o of pings) {
    for (const p of own) {
      const d = haversine(p, o);
      if (d <= distance) ids.add(o.person.id);
      if (Math.abs(d - distance) <= distance * 0.006 + 0.01) doubtful.push(`${o.person.id} at ${d.toFixed(3)} m`);
      closest.set(o.person.id, Math.min(closest.get(o.person.id) ?? Infinity, d));
    }
  }
  return { ids: sorted(ids), doubtful, own, others: pings, closest };
}

// --- the page -------------------------------------------------------------------------------------

const shownConnections = (page) => page.$$eval('#connections li[data-person-id]', (items) => items.map((li) => Number(li.dataset.personId)));

async function waitForConnections(page, expected, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let shown = [];
  for (;;) {
    const busy = await page.$eval('#connections', (el) => el.getAttribute('aria-busy'));
    shown = sorted(await shownConnections(page));
    if (busy !== 'true' && sameSet(shown, expected)) return shown;
    if (Date.now() > deadline) break;
    await page.waitForTimeout(200);
  }
  const status = await page.textContent('#results-status');
  throw new Error(`page shows people [${shown}], expected [${expected}]; status: ${status}`);
}

async function shoot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function postPerson(suffix) {
  const res = await http('POST', `${API}/api/persons`, {
    first_name: 'Wren', last_name: `Visitor-${suffix}`, company_name: 'Browser Test Fixtures',
  });
  check(res.status === 201 || res.status === 200, `POST /api/persons answered ${res.status}: ${res.text.slice(0, 200)}`);
  check(res.json && Number.isInteger(res.json.id), `POST /api/persons gave no id: ${res.text.slice(0, 200)}`);
  return res.json;
}

// A ping `metres` away from `from` (bearing: 0 north, 90 east), at the same time.
async function postPingNear(person, from, metres, bearingDeg) {
  const rad = Math.PI / 180;
  const dNorth = metres * Math.cos(bearingDeg * rad);
  const dEast = metres * Math.sin(bearingDeg * rad);
  const lat = from.lat + (dNorth / EARTH_RADIUS_M) / rad;
  const lon = from.lon + (dEast / (EARTH_RADIUS_M * Math.cos(from.lat * rad))) / rad;
  const body = {
    person_id: person.id,
    latitude: Number(lat.toFixed(7)),
    longitude: Number(lon.toFixed(7)),
    creation_time: from.loc.creation_time,
  };
  const res = await http('POST', `${INGEST}/api/locations`, body);
  check(res.status >= 200 && res.status < 300, `POST ${INGEST}/api/locations answered ${res.status}: ${res.text.slice(0, 200)}`);
  return { ...body, metres: haversine(from, { lat: body.latitude, lon: body.longitude }) };
}

function readSeedPeople() {
  const text = fs.readFileSync(path.join(SEED_DIR, 'persons.csv'), 'utf8').trim();
  const [, ...rows] = text.split(/\r?\n/);
  return rows.map((line) => {
    const cells = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (ch === '"' && quoted && line[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) { cells.push(cell); cell = ''; } else cell += ch;
    }
    cells.push(cell);
    return { id: Number(cells[0]), first_name: cells[1], last_name: cells[2], company_name: cells[3] };
  });
}

// --- the story ----------------------------------------------------------------------------------------

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'udc-chromium-'));
  let context;
  const pageErrors = [];
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage'],
      viewport: { width: 1280, height: 900 },
      timeout: 60000,
    });
  } catch (err) {
    console.log(`not ok - headless Chromium starts (${CHROMIUM})`);
    console.log(`#   ${String(err.message).split('\n')[0]}`);
    fs.rmSync(userDataDir, { recursive: true, force: true });
    return 1;
  }
  try {
    context.setDefaultTimeout(WAIT_MS);
    const watch = (page) => {
      page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    };
    const page = context.pages()[0] || await context.newPage();
    watch(page);
    const seed = readSeedPeople();
    let expected5;
    let range;
    let anchor; // one of the person's pings, the new pings are placed near it

    const loaded = await step('the page loads from udc-api and lists people', async () => {
      const res = await page.goto(`${API}/`);
      check(res && res.ok(), `GET / answered ${res && res.status()}`);
      await page.waitForSelector('#people-list button[data-person-id]');
      return `title "${await page.title()}"`;
    });
    if (!loaded) return 1;

    await step(`the page lists the ${seed.length} seed people with name and company`, async () => {
      for (const p of seed) {
        const button = await page.waitForSelector(`#people-list button[data-person-id="${p.id}"]`);
        const text = (await button.textContent()).replace(/\s+/g, ' ');
        check(text.includes(`${p.first_name} ${p.last_name}`), `person ${p.id} shows "${text}"`);
        check(text.includes(p.company_name), `person ${p.id} lacks the company: "${text}"`);
      }
    });

    await step('searching by company narrows the list, clearing it brings everyone back', async () => {
      const target = seed.find((p) => !seed.some((o) => o !== p && o.company_name.includes(p.company_name))) || seed[0];
      await page.fill('#people-q', target.company_name);
      const term = target.company_name;
      await page.waitForFunction(({ id, term }) => {
        const list = document.querySelector('#people-list');
        const buttons = [...list.querySelectorAll('button[data-person-id]')];
        return list.getAttribute('aria-busy') === 'false' &&
          buttons.some((b) => b.dataset.personId === String(id)) &&
          buttons.every((b) => b.textContent.toLowerCase().includes(term.toLowerCase()));
      }, { id: target.id, term });
      await page.fill('#people-q', '');
      await page.waitForFunction((n) => document.querySelectorAll('#people-list button[data-person-id]').length >= n, seed.length);
    });

    const selected = await step(`selecting person ${PERSON_ID} shows their whole history at 5 m`, async () => {
      await page.click(`#people-list button[data-person-id="${PERSON_ID}"]`);
      const person = await (await http('GET', `${API}/api/persons/${PERSON_ID}`)).json;
      await page.waitForFunction((name) => document.querySelector('#detail-heading').textContent === name,
        `${person.first_name} ${person.last_name}`);
      await page.waitForSelector('#query:not([hidden])');
      const pings = (await getAll(`/api/persons/${PERSON_ID}/locations`)).map(point);
      check(pings.length > 0, 'the person has no pings');
      const first = utcDay(Math.min(...pings.map((p) => p.t)));
      const last = utcDay(Math.max(...pings.map((p) => p.t)));
      range = { from: await page.inputValue('#q-from'), to: await page.inputValue('#q-to') };
      const distance = await page.inputValue('#q-distance');
      check(range.from === first && range.to === last, `range ${range.from}…${range.to}, pings span ${first}…${last}`);
      check(Number(distance) === 5, `distance ${distance}`);
      anchor = pings[pings.length - 1];
      return `${range.from} to ${range.to}`;
    });
    if (!selected) return 1;

    await step('the connections at 5 m are the people the geometry says', async () => {
      const want = await expectedConnections(PERSON_ID, range.from, range.to, 5);
      check(!want.doubtful.length, `pings too close to 5 m to decide: ${want.doubtful.join(', ')}`);
      check(want.ids.length > 0, 'the seed gives no connection at 5 m: nothing to compare');
      expected5 = want;
      await waitForConnections(page, want.ids);
      return `people ${want.ids.join(', ')}`;
    });

    await step('each connection says name, company, when, where (a real nearby ping), how often and how close', async () => {
      const items = await page.$$eval('#connections li[data-person-id]', (lis) => lis.map((li) => ({
        id: Number(li.dataset.personId),
        name: li.querySelector('.name').textContent,
        company: li.querySelector('.company').textContent,
        text: li.textContent,
        lat: li.querySelector('.where').dataset.latitude,
        lon: li.querySelector('.where').dataset.longitude,
      })));
      const people = new Map((await getAll('/api/persons')).map((p) => [p.id, p]));
      for (const item of items) {
        const p = people.get(item.id);
        check(item.name === `${p.first_name} ${p.last_name}` && item.company === p.company_name, `item ${item.id}: ${item.name} / ${item.company}`);
        check(/\b(19|20)\d\d\b/.test(item.text) && /UTC/.test(item.text), `item ${item.id} shows no time: ${item.text}`);
        check(/How often\s*\d[\d,]* times?/.test(item.text), `item ${item.id} shows no count`);
        check(/Closest\s*[\d.,]+ k?m/.test(item.text), `item ${item.id} shows no closest distance: ${item.text}`);
        const met = { lat: Number(item.lat), lon: Number(item.lon) };
        const near = expected5.others.some((o) => o.person.id === item.id && haversine(o, met) < 0.01) &&
          expected5.own.some((own) => haversine(own, met) <= 5.05);
        check(near, `item ${item.id}: ${item.lat}, ${item.lon} is not one of their pings within 5 m`);
      }
    });

    await step('the plot draws their pings, the meeting points and a scale bar; focusing a point says who and when', async () => {
      const counts = await page.$eval('#plot', (svg) => ({
        own: svg.querySelectorAll('.pt-own').length,
        met: svg.querySelectorAll('.pt-met').length,
        scale: svg.querySelector('.scale text') && svg.querySelector('.scale text').textContent,
      }));
      check(counts.own > 0 && counts.met > 0, `plot has ${counts.own} own and ${counts.met} meeting points`);
      check(/^\d[\d.,]* k?m$/.test(counts.scale || ''), `scale bar label "${counts.scale}"`);
      await page.focus('#plot .pt-met');
      await page.waitForSelector('#plot-tip:not([hidden])');
      const tip = await page.textContent('#plot-tip');
      const firstId = Number((await page.getAttribute('#plot .pt-met', 'data-person-ids')).split(' ')[0]);
      const p = (await http('GET', `${API}/api/persons/${firstId}`)).json;
      check(tip.includes(`${p.first_name} ${p.last_name}`) && /UTC/.test(tip), `tooltip: ${tip}`);
      return `${counts.own} own, ${counts.met} meeting, scale ${counts.scale}`;
    });
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await shoot(page, 'desktop-connections');

    await page.evaluate(() => { window.udcNotReloaded = true; });
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    let near3;
    await step('a ping 3 m away, sent through udc-ingest-http, shows as a new connection without reloading', async () => {
      near3 = await postPerson(`${suffix}-a`);
      const ping = await postPingNear(near3, anchor, 3, 90);
      const want = sorted([...expected5.ids, near3.id]);
      await waitForConnections(page, want, LIVE_WAIT_MS);
      check(await page.evaluate(() => window.udcNotReloaded === true), 'the page was reloaded');
      const badge = await page.$(`#connections li[data-person-id="${near3.id}"] .badge`);
      check(badge, 'the new connection is not marked new');
      return `${ping.metres.toFixed(2)} m from ping ${anchor.loc.id}`;
    });
    await shoot(page, 'desktop-live-update');

    await step('narrowing the distance to 1 m shrinks the list to the people the geometry says', async () => {
      const want = await expectedConnections(PERSON_ID, range.from, range.to, 1);
      check(!want.doubtful.length, `pings too close to 1 m to decide: ${want.doubtful.join(', ')}`);
      const before = await expectedConnections(PERSON_ID, range.from, range.to, 5).then((w) => w.ids);
      await page.fill('#q-distance', '1');
      await page.press('#q-distance', 'Enter');
      check(want.ids.length < before.length, `at 1 m the geometry gives [${want.ids}], no fewer than at 5 m [${before}]`);
      await waitForConnections(page, want.ids);
      const status = await page.textContent('#results-status');
      check(/within 1 m/.test(status), `status: ${status}`);
      return `[${before}] → [${want.ids}]`;
    });

    await step('a ping 0.5 m away by someone not yet connected appears live at 1 m', async () => {
      const near = await postPerson(`${suffix}-b`);
      const ping = await postPingNear(near, anchor, 0.5, 0);
      const want = await expectedConnections(PERSON_ID, range.from, range.to, 1);
      const expect = sorted(new Set([...want.ids, near.id]));
      await waitForConnections(page, expect, LIVE_WAIT_MS);
      check(await page.evaluate(() => window.udcNotReloaded === true), 'the page was reloaded');
      return `${ping.metres.toFixed(2)} m, person ${near.id}`;
    });

    await step('a range where nobody was near says so ("nobody within … between … and …")', async () => {
      // A day before the first ping: no own pings, so nobody can be near.
      const day = addDays(range.from, -3);
      await page.fill('#q-from', day);
      await page.fill('#q-to', addDays(range.from, -2));
      await page.click('#q-apply');
      await waitForConnections(page, []);
      const status = await page.textContent('#results-status');
      check(/^Nobody within 1 m (between|on) .+ and .+\.$/.test(status), `status: ${status}`);
      return status;
    });
    await shoot(page, 'desktop-nobody');

    await step('bad input is refused next to the field, and nothing is asked of the API', async () => {
      const before = await page.textContent('#results-status');
      await page.fill('#q-from', range.from);
      await page.fill('#q-to', range.to);
      await page.fill('#q-distance', '-3');
      await page.click('#q-apply');
      await page.waitForSelector('#q-distance-error:not([hidden])');
      check(await page.getAttribute('#q-distance', 'aria-invalid') === 'true', 'distance not marked invalid');
      await page.fill('#q-distance', '5');
      await page.fill('#q-to', addDays(range.from, -1));
      await page.click('#q-apply');
      await page.waitForSelector('#q-to-error:not([hidden])');
      check(await page.textContent('#results-status') === before, 'a query ran despite bad input');
    });
    await shoot(page, 'desktop-bad-input');

    await step('the window option ("at the same time, within N minutes") is sent and answered', async () => {
      await page.fill('#q-to', range.to);
      await page.check('#q-same-time');
      await page.fill('#q-window', '1');
      const asked = page.waitForRequest((req) => /\/connection\?/.test(req.url()) && /[?&]window=1(&|$)/.test(req.url()));
      await page.click('#q-apply');
      await asked;
      await page.waitForFunction(() => /at the same time/.test(document.querySelector('#results-status').textContent) &&
        document.querySelector('#connections').getAttribute('aria-busy') !== 'true');
      return await page.textContent('#results-status');
    });

    await step('keyboard: Tab from the search box reaches a person, Enter selects them', async () => {
      const kb = await context.newPage();
      watch(kb);
      await kb.goto(`${API}/`);
      await kb.waitForSelector('#people-list button[data-person-id]');
      await kb.focus('#people-q');
      await kb.keyboard.press('Tab');
      const id = await kb.evaluate(() => document.activeElement && document.activeElement.dataset.personId);
      check(id, `Tab went to ${await kb.evaluate(() => document.activeElement.outerHTML.slice(0, 80))}`);
      await kb.keyboard.press('Enter');
      await kb.waitForSelector('#results:not([hidden])');
      await kb.waitForFunction(() => document.querySelector('#connections').getAttribute('aria-busy') === 'false');
      await kb.close();
      return `person ${id}`;
    });

    await step('at phone width (360 px) the page fits and shows the connections', async () => {
      const phone = await context.newPage();
      watch(phone);
      await phone.setViewportSize({ width: 360, height: 740 });
      await phone.goto(`${API}/#person=${PERSON_ID}`);
      await phone.waitForSelector('#people-list button[data-person-id]');
      const want = await expectedConnections(PERSON_ID, range.from, range.to, 5);
      await waitForConnections(phone, want.ids);
      const width = await phone.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 360, `page is ${width} px wide`);
      const sticking = await phone.$$eval('input, button, #plot, .connection', (els) => els
        .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map((e) => `${e.tagName.toLowerCase()}#${e.id} right=${Math.round(e.getBoundingClientRect().right)}`));
      check(!sticking.length, `past the right edge: ${sticking.join(', ')}`);
      await shoot(phone, 'phone-connections');
      await phone.evaluate(() => window.scrollTo(0, 0));
      await phone.screenshot({ path: path.join(SHOTS, 'phone-top.png') });
      await phone.close();
      return `${width} px`;
    });

    await step('when the API cannot be reached the page says so', async () => {
      const cut = await context.newPage();
      watch(cut);
      await cut.route('**/api/**', (route) => route.abort('connectionrefused'));
      await cut.goto(`${API}/`);
      await cut.waitForSelector('#banner:not([hidden])');
      const text = await cut.textContent('#banner');
      check(/cannot be reached/i.test(text), `banner: ${text}`);
      await shoot(cut, 'desktop-unreachable');
      await cut.unroute('**/api/**');
      await cut.click('#banner-retry');
      await cut.waitForSelector('#people-list button[data-person-id]');
      await cut.waitForSelector('#banner', { state: 'hidden' });
      await cut.close();
    });

    if (PAGE) {
      await step('the page works from the page port too', async () => {
        const other = await context.newPage();
        watch(other);
        await other.goto(`${PAGE}/#person=${PERSON_ID}`);
        await other.waitForSelector('#people-list button[data-person-id]');
        await other.waitForSelector('#connections li[data-person-id]');
        await other.close();
      });
    }

    await step('no JavaScript errors', async () => {
      check(!pageErrors.length, pageErrors.join('\n'));
    });
    return failures ? 1 : 0;
  } finally {
    if (failures) {
      for (const [i, p] of context.pages().entries()) await shoot(p, `failure-${i}`).catch(() => {});
    }
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then((code) => {
  console.log(`# ${passes} ok, ${failures} not ok; screenshots in ${SHOTS}`);
  process.exit(code || (failures ? 1 : 0));
}, (err) => {
  console.log(`not ok - the browser test ran to its end`);
  console.log(`#   ${err && err.stack ? err.stack.split('\n').slice(0, 5).join('\n#   ') : err}`);
  process.exit(1);
});

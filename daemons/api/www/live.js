// live.js — keeps one API answer fresh by conditional polling: every interval the same URL is
// asked again with If-None-Match, and the API answers 304 (no body) until the answer changes.
// Polls never overlap, stop while the tab is hidden (and poll at once when it is shown
// again), back off while the API is unreachable, and wait at least SLOW_FACTOR times as long
// as the last answer took, so a costly query is not repeated back to back. See docs/web.md for why polling rather
// than Server-Sent Events.
//
//   const live = new LiveQuery(path, params, { etag, interval: 1000, onData, onStatus });
//   live.start();   // onData(data, etag) on each change; onStatus('live'|'paused'|'offline', detail)
//   live.stop();

import { getJSON } from './api.js';

const MAX_BACKOFF_MS = 15000;
const SLOW_FACTOR = 4;

export class LiveQuery {
  constructor(path, params, { etag = null, interval = 1000, onData, onStatus = () => {} }) {
    Object.assign(this, { path, params, etag, interval, onData, onStatus });
    this.timer = null;
    this.controller = null;
    this.failures = 0;
    this.lastTookMs = 0;
    this.running = false;
    this.onVisibility = () => this.visibilityChanged();
  }

  start() {
    if (this.running) return;
    this.running = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    if (document.hidden) this.onStatus('paused');
    else {
      this.onStatus('live');
      this.schedule(this.interval);
    }
  }

  stop() {
    this.running = false;
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearTimeout(this.timer);
    this.timer = null;
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  // Ask now instead of waiting for the next tick (e.g. a "retry now" button).
  pollNow() {
    if (!this.running || this.controller) return;
    clearTimeout(this.timer);
    this.poll();
  }

  visibilityChanged() {
    if (!this.running) return;
    if (document.hidden) {
      clearTimeout(this.timer);
      this.timer = null;
      this.onStatus('paused');
    } else {
      this.onStatus(this.failures ? 'offline' : 'live');
      this.pollNow();
    }
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    this.timer = null;
    if (!this.running || document.hidden) return;
    const controller = new AbortController();
    this.controller = controller;
    const started = performance.now();
    try {
      const answer = await getJSON(this.path, this.params, { etag: this.etag, signal: controller.signal });
      if (this.controller !== controller) return;
      this.lastTookMs = performance.now() - started;
      if (this.failures) this.onStatus('live');
      this.failures = 0;
      if (!answer.notModified) {
        this.etag = answer.etag;
        this.onData(answer.data, answer.etag);
      } else {
        this.onStatus('live');
      }
    } catch (err) {
      if (err.name === 'AbortError' || this.controller !== controller) return;
      this.failures += 1;
      this.onStatus('offline', err);
    }
    this.controller = null;
    if (this.running && !document.hidden) this.schedule(this.nextDelay());
  }

  nextDelay() {
    if (!this.failures) return Math.max(this.interval, SLOW_FACTOR * this.lastTookMs);
    return Math.min(MAX_BACKOFF_MS, this.interval * 2 ** Math.min(this.failures, 10));
  }
}

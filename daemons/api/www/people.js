// people.js — the list of people: searched on the server (?q= matches name or company) and
// paged with the API's cursor, a page at a time as the list is scrolled (or "More people" is
// pressed), so it stays quick with any number of people: only what was scrolled to is in
// the page.
//
//   const people = new PeopleList({ list, input, status, more, onSelect, onError, onLoad });
//   people.start();            // first page
//   people.markSelected(id);   // highlight the chosen one

import { api, ApiError } from './api.js';
import { fullName, plural } from './format.js';

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 250;

export class PeopleList {
  constructor({ list, input, status, more, onSelect, onError, onLoad = () => {} }) {
    Object.assign(this, { list, input, status, more, onSelect, onError, onLoad });
    this.query = '';
    this.cursor = null;
    this.done = false;
    this.loading = null; // AbortController of the page in flight
    this.count = 0;
    this.selectedId = null;

    input.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.search(input.value.trim()), SEARCH_DELAY_MS);
    });
    input.form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearTimeout(this.searchTimer);
      this.search(input.value.trim());
    });
    more.addEventListener('click', () => this.loadPage());
    list.addEventListener('click', (e) => {
      const button = e.target.closest('button[data-person-id]');
      if (button) this.onSelect(button.person);
    });
    // Load the next page when the end of the list scrolls into view; the list scrolls on its
    // own, so it is the observer's root, and a last, empty item marks its end.
    this.sentinel = document.createElement('li');
    this.sentinel.className = 'sentinel';
    this.sentinel.setAttribute('aria-hidden', 'true');
    list.append(this.sentinel);
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadPage();
    }, { root: list, rootMargin: '0px 0px 200px 0px' });
    this.observer.observe(this.sentinel);
  }

  start() {
    this.search('');
  }

  retry() {
    if (!this.done) this.loadPage();
  }

  search(query) {
    if (query === this.query && this.count > 0) return;
    this.query = query;
    this.cursor = null;
    this.done = false;
    this.count = 0;
    if (this.loading) this.loading.abort();
    this.loading = null;
    this.list.replaceChildren(this.sentinel);
    this.loadPage();
  }

  async loadPage() {
    if (this.loading || this.done) return;
    const controller = new AbortController();
    this.loading = controller;
    this.setStatus(this.count ? 'Loading more people…' : 'Loading people…', true);
    try {
      const page = await api.persons(
        { limit: PAGE_SIZE, cursor: this.cursor, q: this.query || undefined },
        { signal: controller.signal });
      if (this.loading !== controller) return; // a newer search replaced this one
      this.append(page.data);
      this.cursor = page.next;
      this.done = !page.next;
      this.loading = null;
      this.showCount();
      this.onLoad();
      // The sentinel may still be visible (a tall screen): keep filling.
      if (!this.done) requestAnimationFrame(() => this.fillScreen());
    } catch (err) {
      if (err.name === 'AbortError' || this.loading !== controller) return;
      this.loading = null;
      const message = err instanceof ApiError && err.kind === 'http' ? err.message : 'API unreachable';
      this.setStatus(`Could not load people: ${message}.`, false);
      this.more.hidden = false;
      this.onError(err);
    }
  }

  // After a page: if the end of the list is still in view (a tall screen), load another.
  fillScreen() {
    const end = this.sentinel.getBoundingClientRect();
    const box = this.list.getBoundingClientRect();
    if (end.top < Math.min(box.bottom, window.innerHeight) + 200) this.loadPage();
  }

  append(people) {
    const fragment = document.createDocumentFragment();
    for (const person of people) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'person';
      button.dataset.personId = String(person.id);
      button.person = person;
      if (person.id === this.selectedId) button.setAttribute('aria-current', 'true');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = fullName(person);
      const company = document.createElement('span');
      company.className = 'company';
      company.textContent = person.company_name;
      button.append(name, company);
      item.append(button);
      fragment.append(item);
    }
    this.list.insertBefore(fragment, this.sentinel);
    this.count += people.length;
  }

  showCount() {
    const who = this.query ? ` matching “${this.query}”` : '';
    if (this.count === 0) {
      this.setStatus(this.query ? `Nobody matches “${this.query}”.` : 'Nobody is registered yet.', false);
    } else {
      this.setStatus(`${plural(this.count, 'person', 'people')}${who}${this.done ? '' : ' so far'}.`, false);
    }
    this.more.hidden = this.done;
  }

  setStatus(text, busy) {
    this.status.textContent = text;
    this.list.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  markSelected(id) {
    this.selectedId = id;
    for (const button of this.list.querySelectorAll('button[aria-current]')) button.removeAttribute('aria-current');
    const button = this.list.querySelector(`button[data-person-id="${CSS.escape(String(id))}"]`);
    if (button) button.setAttribute('aria-current', 'true');
  }
}

// connections.js — the list of people the selected person met: name, company, when and where
// they met, how often and how close. Long lists are shown a slice at a time ("Show more").
//
//   const view = new ConnectionList(listElement, moreButton);
//   view.show(connections, { fresh: Set of person ids to mark as new });

import { formatDistance, formatPlace, formatTime, fullName, plural } from './format.js';

const SLICE = 200;

function row(term, detail) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = detail;
  return [dt, dd];
}

function item(c, isNew) {
  const li = document.createElement('li');
  li.className = isNew ? 'connection new' : 'connection';
  li.dataset.personId = String(c.person.id);

  const head = document.createElement('div');
  head.className = 'who';
  const name = document.createElement('h3');
  name.className = 'name';
  name.textContent = fullName(c.person);
  head.append(name);
  if (isNew) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'new';
    head.append(badge);
  }
  const company = document.createElement('p');
  company.className = 'company';
  company.textContent = c.person.company_name;

  const when = c.first_seen === c.last_seen || !c.last_seen
    ? formatTime(c.first_seen)
    : `${formatTime(c.first_seen)} to ${formatTime(c.last_seen)}`;
  const facts = document.createElement('dl');
  const where = row('Where', formatPlace(c.location.latitude, c.location.longitude));
  where[1].className = 'where';
  where[1].dataset.latitude = c.location.latitude;
  where[1].dataset.longitude = c.location.longitude;
  facts.append(
    ...row('When', when),
    ...where,
    ...row('How often', plural(c.count, 'time', 'times')),
    ...row('Closest', formatDistance(c.min_distance_m)),
  );
  li.append(head, company, facts);
  return li;
}

export class ConnectionList {
  constructor(list, more) {
    this.list = list;
    this.more = more;
    this.items = [];
    this.fresh = new Set();
    this.shown = SLICE;
    more.addEventListener('click', () => {
      this.shown += SLICE;
      this.render();
    });
  }

  show(items, { fresh = new Set(), keepLength = false } = {}) {
    this.items = items;
    this.fresh = fresh;
    if (!keepLength) this.shown = SLICE;
    this.render();
  }

  clear() {
    this.show([]);
  }

  render() {
    const fragment = document.createDocumentFragment();
    for (const c of this.items.slice(0, this.shown)) fragment.append(item(c, this.fresh.has(c.person.id)));
    this.list.replaceChildren(fragment);
    const rest = this.items.length - this.shown;
    this.more.hidden = rest <= 0;
    if (rest > 0) this.more.textContent = `Show ${plural(Math.min(rest, SLICE), 'more', 'more')} (of ${rest.toLocaleString('en-GB')} left)`;
  }
}

// query.js — the form that says which connections to show: a date range (inclusive days, UTC),
// a distance in metres and optionally "at the same time, within N minutes". It checks its
// own input, says what is wrong next to the field, and turns valid input into the API's
// parameters.
//
//   const form = new QueryForm(formElement, { onSubmit(values), onReset() });
//   form.setRange(from, to, { isDefault: true });
//   const { values, errors } = form.read();   // values null when errors
//   form.apiParams(values) → { start_date, end_date, distance, window? }

import { addDays, isDay } from './format.js';

export const DEFAULT_DISTANCE_M = 5;
const MAX_DISTANCE_M = 1000000;
const MAX_WINDOW_MIN = 525600;

export class QueryForm {
  constructor(form, { onSubmit, onReset }) {
    this.form = form;
    this.from = form.elements.from;
    this.to = form.elements.to;
    this.distance = form.elements.distance;
    this.sameTime = form.elements.same_time;
    this.window = form.elements.window;
    this.formError = form.querySelector('#query-error');
    this.defaultRange = null;

    this.sameTime.addEventListener('change', () => {
      this.window.disabled = !this.sameTime.checked;
      if (!this.sameTime.checked) this.setError(this.window, null);
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const { values, errors } = this.read();
      this.showErrors(errors);
      if (values) onSubmit(values);
    });
    form.querySelector('#q-reset').addEventListener('click', () => onReset());
    for (const input of [this.from, this.to, this.distance, this.window]) {
      input.addEventListener('input', () => this.setError(input, null));
    }
  }

  setRange(from, to, { isDefault = false } = {}) {
    this.from.value = from;
    this.to.value = to;
    if (isDefault) this.defaultRange = { from, to };
  }

  reset(from, to) {
    this.setRange(from, to, { isDefault: true });
    this.distance.value = String(DEFAULT_DISTANCE_M);
    this.sameTime.checked = false;
    this.window.disabled = true;
    this.showErrors({});
  }

  // Whether the range shown is still the person's whole history (then it grows with new pings).
  showsDefaultRange() {
    return Boolean(this.defaultRange) && this.from.value === this.defaultRange.from &&
      this.to.value === this.defaultRange.to;
  }

  read() {
    const errors = {};
    const from = this.from.value.trim();
    const to = this.to.value.trim();
    if (!isDay(from)) errors.from = from || this.from.validity.badInput ? 'Enter a real date (YYYY-MM-DD).' : 'Enter the first day.';
    if (!isDay(to)) errors.to = to || this.to.validity.badInput ? 'Enter a real date (YYYY-MM-DD).' : 'Enter the last day.';
    if (!errors.from && !errors.to && to < from) errors.to = 'The last day cannot be before the first day.';

    const distanceText = this.distance.value.trim();
    const distance = Number(distanceText);
    if (this.distance.validity.badInput || distanceText === '' || !Number.isFinite(distance) ||
        distance < 0 || distance > MAX_DISTANCE_M) {
      errors.distance = 'Enter a distance in metres, from 0 to 1,000,000.';
    }

    let window = null;
    if (this.sameTime.checked) {
      const windowText = this.window.value.trim();
      window = Number(windowText);
      if (this.window.validity.badInput || windowText === '' || !Number.isInteger(window) ||
          window < 0 || window > MAX_WINDOW_MIN) {
        errors.window = 'Enter whole minutes, from 0 to 525,600.';
      }
    }
    if (Object.keys(errors).length) return { values: null, errors };
    return { values: { from, to, distance, window }, errors };
  }

  apiParams(values) {
    // The API's rule (kept from the first version): the person's pings in
    // [start_date, end_date), so the inclusive last day is sent as the day after it.
    const params = { start_date: values.from, end_date: addDays(values.to, 1), distance: values.distance };
    if (values.window !== null) params.window = values.window;
    return params;
  }

  showErrors(errors) {
    this.setError(this.from, errors.from);
    this.setError(this.to, errors.to);
    this.setError(this.distance, errors.distance);
    this.setError(this.window, errors.window);
    this.showFormError(null);
    const first = [this.from, this.to, this.distance, this.window].find((input) => errors[input.name]);
    if (first) first.focus();
  }

  setError(input, message) {
    const box = this.form.querySelector(`#${input.id}-error`);
    if (message) {
      input.setAttribute('aria-invalid', 'true');
      box.textContent = message;
      box.hidden = false;
    } else {
      input.removeAttribute('aria-invalid');
      box.textContent = '';
      box.hidden = true;
    }
  }

  // An error the API found (400) that the form did not.
  showFormError(message) {
    this.formError.textContent = message || '';
    this.formError.hidden = !message;
  }
}

// Event lookup (docs/API.md "Event lookup"): paste an event id on a canvas page and see where it is.
import { h, api, act, go, crumbs, section, clock, enc, canvasPath, json, traceItem, views, panels } from './app.js';

const findHash = (canvas, id) => `#/find/${enc(canvas)}/${enc(id)}`;

/** The id box: on the canvas page, and above the answer. */
function lookupForm(canvas, id = '') {
  const box = h('input', { id: 'lookup-id', autocomplete: 'off', required: true, spellcheck: 'false', placeholder: '0193…', size: 40, value: id });
  const form = h('form', { class: 'inline', role: 'search', 'aria-label': 'Find an event' },
    h('label', { for: 'lookup-id' }, 'Event id'), box, h('button', { type: 'submit' }, 'Find'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(findHash(canvas, box.value.trim()));
  });
  return form;
}

function hit(canvas, found) {
  const facts = (...pairs) => h('dl', { class: 'facts' }, pairs.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
  const block = (label, value) => h('div', { class: 'block' }, h('h4', {}, label), h('pre', {}, json(value)));
  const worker = h('a', { href: `#/c/${enc(canvas)}/w/${enc(found.worker)}` }, found.worker);
  switch (found.where) {
    case 'trace':
      return h('div', { class: 'hit', 'data-where': 'trace' }, h('h3', {}, 'Traced by ', worker), traceItem(canvas, found.trace, true));
    case 'deadLetter':
      return h('div', { class: 'hit', 'data-where': 'deadLetter' }, h('h3', {}, 'Dead letter of ', worker),
        facts(['Dead-lettered', clock(found.deadLetter.deadLetteredAt)], ['Attempts', String(found.deadLetter.attempts)], ['Reason', found.deadLetter.reason]),
        block('Event', found.deadLetter.event));
    case 'unhandled':
      return h('div', { class: 'hit', 'data-where': 'unhandled' }, h('h3', {}, 'Parked: there is no worker ', h('code', {}, found.worker)),
        facts(['Enqueued', clock(found.unhandled.enqueuedAt)], ['Parked', clock(found.unhandled.receivedAt)]),
        block('Event', found.unhandled.event),
        h('a', { class: 'button', href: `#/c/${enc(canvas)}/new/${enc(found.worker)}` }, 'Create worker'));
    case 'cancelled':
      return h('div', { class: 'hit', 'data-where': 'cancelled' }, h('h3', {}, 'Un-enqueued from ', worker),
        facts(['Cancelled', clock(found.cancelledAt)]), h('p', { class: 'hint' }, 'It is skipped (traced as cancelled) when its worker reaches it.'));
    default:
      return h('div', { class: 'hit' }, h('h3', {}, `${found.where}: `, worker), block('Details', found));
  }
}

async function findView(root, [canvas, id], signal) {
  crumbs([canvas, `#/c/${enc(canvas)}`], ['Find event', findHash(canvas, id ?? '')]);
  const answer = h('div', { class: 'lookup' }, h('p', { class: 'muted' }, 'Looking…'));
  root.append(h('div', { class: 'heading' }, h('h1', {}, 'Find event'), lookupForm(canvas, id)), section('Where it is', answer));
  if (!id) return answer.replaceChildren(h('p', { class: 'empty' }, 'Paste an event id (the id an emit answered).'));
  const found = await act(root.querySelector('form button'), () => api('GET', canvasPath(canvas, `/lookup/${enc(id)}`), { signal }));
  if (!found) return answer.replaceChildren(h('p', { class: 'empty' }, 'No answer.'));
  answer.replaceChildren(
    ...(found.found.length ? found.found.map((f) => hit(canvas, f)) : [h('p', { class: 'empty', 'data-where': 'nowhere' }, 'Found nowhere.')]),
    h('p', { class: 'hint note' }, found.note));
}

views.find = findView;
panels.canvas.push((canvas) => section('Find an event', lookupForm(canvas)));

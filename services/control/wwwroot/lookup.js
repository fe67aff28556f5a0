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

const facts = (...pairs) => h('dl', { class: 'facts' }, pairs.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
const workerLink = (canvas, worker) => h('a', { href: `#/c/${enc(canvas)}/w/${enc(worker)}` }, worker);

function hit(canvas, found) {
  const block = (label, value) => h('div', { class: 'block' }, h('h4', {}, label), h('pre', {}, json(value)));
  const worker = workerLink(canvas, found.worker);
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

const unfinished = ['scheduled', 'queued', 'running'];
// Re-read this often while the event is not finished; an answer comes at once when it finishes (?wait).
const followSeconds = 5;

function statusView(canvas, status) {
  const when = (value) => (value ? clock(value) : '—');
  const outcome = status.error != null ? [['Error', status.error]] : status.result !== null ? [['Result', h('pre', {}, json(status.result))]] : [];
  return h('div', { class: 'event-status', 'data-status': status.status },
    h('p', {}, h('span', { class: 'badge' }, status.status), ' on ', workerLink(canvas, status.worker),
      unfinished.includes(status.status) ? h('span', { class: 'muted' }, ' (following)') : ''),
    facts(['Attempts', String(status.attempts)], ['Enqueued', when(status.enqueuedAt)], ['Runs at', when(status.runAt)],
      ['Started', when(status.startedAt)], ['Finished', when(status.finishedAt)], ...outcome));
}

/** The event's status (docs/API.md "Event status"), followed until it finishes or the view is left. */
async function followStatus(box, canvas, id, signal) {
  let wait = 0;
  while (!signal.aborted) {
    let status;
    try {
      status = await api('GET', canvasPath(canvas, `/events/${enc(id)}${wait ? `?wait=${wait}` : ''}`), { signal });
    } catch (error) {
      if (error.name === 'AbortError') return;
      box.replaceChildren(error.status === 404
        ? h('p', { class: 'empty', 'data-status': 'none' }, 'No status: not emitted on this canvas, or its status has expired (WORKQ_EVENT_STATUS_RETENTION_HOURS).')
        : h('p', { class: 'empty' }, error.message));
      return;
    }
    box.replaceChildren(statusView(canvas, status));
    if (!unfinished.includes(status.status)) return;
    wait = followSeconds;
  }
}

async function findView(root, [canvas, id], signal) {
  crumbs([canvas, `#/c/${enc(canvas)}`], ['Find event', findHash(canvas, id ?? '')]);
  const answer = h('div', { class: 'lookup' }, h('p', { class: 'muted' }, 'Looking…'));
  const status = h('div', { class: 'lookup' }, h('p', { class: 'muted' }, 'Looking…'));
  root.append(h('div', { class: 'heading' }, h('h1', {}, 'Find event'), lookupForm(canvas, id)));
  if (!id) {
    answer.replaceChildren(h('p', { class: 'empty' }, 'Paste an event id (the id an emit answered).'));
    return root.append(section('Where it is', answer));
  }
  root.append(section('Status', status), section('Where it is', answer));
  followStatus(status, canvas, id, signal);
  const found = await act(root.querySelector('form button'), () => api('GET', canvasPath(canvas, `/lookup/${enc(id)}`), { signal }));
  if (!found) return answer.replaceChildren(h('p', { class: 'empty' }, 'No answer.'));
  answer.replaceChildren(
    ...(found.found.length ? found.found.map((f) => hit(canvas, f)) : [h('p', { class: 'empty', 'data-where': 'nowhere' }, 'Found nowhere.')]),
    h('p', { class: 'hint note' }, found.note));
}

views.find = findView;
panels.canvas.push((canvas) => section('Find an event', lookupForm(canvas)));

// Event lookup (docs/API.md "Event lookup"): paste an event id on a canvas page and see where it is, its status
// (followed until it finishes), and cancel it while it has not finished.
import { h, api, act, ask, notify, go, crumbs, section, clock, enc, canvasPath, json, traceItem, views, panels } from './app.js';

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

// Statuses that may still change: followed, and cancellable. Sleeping and waiting belong to durable handlers (a run
// that ended in Sleep or WaitFor); every other status is final.
const unfinished = ['scheduled', 'queued', 'running', 'sleeping', 'waiting'];
// Re-read this often while the event is not finished; an answer comes at once when it finishes (?wait).
const followSeconds = 5;

/** What runAt means in each status: when a scheduled event is due, a sleeping one wakes, a waiting one times out. */
const runAtLabel = (status) => ({ sleeping: 'Wakes at', waiting: 'Times out at' })[status] ?? 'Runs at';

function statusView(canvas, status) {
  const when = (value) => (value ? clock(value) : '—');
  const outcome = status.error != null ? [['Error', status.error]] : status.result !== null ? [['Result', h('pre', {}, json(status.result))]] : [];
  const waiting = status.status === 'waiting' ? [['Waiting for', h('code', { 'data-waiting-for': '' }, status.waitingFor ?? '—')]] : [];
  // Shown for high and low events only (docs/API.md "Priorities").
  const priority = status.priority && status.priority !== 'normal' ? [['Priority', h('span', { 'data-priority': status.priority }, status.priority)]] : [];
  return h('div', { class: 'event-status', 'data-status': status.status },
    h('p', {}, h('span', { class: `badge ${status.status}` }, status.status), ' on ', workerLink(canvas, status.worker),
      unfinished.includes(status.status) ? h('span', { class: 'muted' }, ' (following)') : ''),
    facts(['Attempts', String(status.attempts)], ...priority, ['Enqueued', when(status.enqueuedAt)], [runAtLabel(status.status), when(status.runAt)],
      ...waiting, ['Started', when(status.startedAt)], ['Finished', when(status.finishedAt)], ...outcome));
}

/**
 * The event's status (docs/API.md "Event status"), followed until it finishes or the signal ends it; shown(status)
 * hears each answer (null when there is none).
 */
async function followStatus(box, canvas, id, signal, shown) {
  let wait = 0;
  while (!signal.aborted) {
    let status;
    try {
      status = await api('GET', canvasPath(canvas, `/events/${enc(id)}${wait ? `?wait=${wait}` : ''}`), { signal });
    } catch (error) {
      if (error.name === 'AbortError' || signal.aborted) return;
      shown(null);
      box.replaceChildren(error.status === 404
        ? h('p', { class: 'empty', 'data-status': 'none' }, 'No status: not emitted on this canvas, or its status has expired (WORKQ_EVENT_STATUS_RETENTION_HOURS).')
        : h('p', { class: 'empty' }, error.message));
      return;
    }
    // A follow that was replaced (after a cancel) must not draw an older answer over the newer one's.
    if (signal.aborted) return;
    shown(status);
    box.replaceChildren(statusView(canvas, status));
    if (!unfinished.includes(status.status)) return;
    wait = followSeconds;
  }
}

/**
 * The Status section: the followed status, and Cancel while the event has not finished (POST .../events/{id}/cancel
 * with this session's token). The answer is shown under it; a refusal (409: it finished meanwhile) in the alert.
 */
function statusPanel(canvas, id, signal) {
  const box = h('div', {}, h('p', { class: 'muted' }, 'Looking…'));
  const cancel = h('button', { type: 'button', class: 'danger-outline', hidden: true }, 'Cancel event');
  const answer = h('p', { class: 'hint cancel-answer', role: 'status', hidden: true });
  let current = null;
  let following = null;

  const follow = () => {
    following?.abort();
    following = new AbortController();
    followStatus(box, canvas, id, AbortSignal.any([signal, following.signal]), (status) => {
      current = status;
      cancel.hidden = !status || !unfinished.includes(status.status);
    });
  };

  cancel.addEventListener('click', async () => {
    const running = current?.status === 'running';
    const sure = await ask({
      title: 'Cancel event',
      message: running
        ? "Its handler's CancellationToken is cancelled now; the event ends cancelled when the handler returns (its runner is stopped if it does not)."
        : `It is ${current?.status ?? 'not finished'}: cancelled now, it never runs again.`,
      ok: 'Cancel event', danger: true,
    });
    if (!sure) return;
    await act(cancel, async () => {
      try {
        const cancelled = await api('POST', canvasPath(canvas, `/events/${enc(id)}/cancel`), { signal });
        answer.dataset.cancel = cancelled.status;
        answer.textContent = cancelled.status === 'running'
          ? 'Cancel requested: the handler was asked to stop, and the event ends cancelled when it returns.'
          : cancelled.status === 'cancelled' ? 'Cancelled: it never runs again.' : `Answered: ${cancelled.status}.`;
        answer.hidden = false;
        notify(cancelled.status === 'running' ? 'Cancel requested' : 'Event cancelled');
      } finally {
        // At once, rather than when the current long poll ends: the status it has now, then followed again.
        follow();
      }
    });
  });

  follow();
  return section('Status', h('div', { class: 'lookup' }, box, h('div', { class: 'actions status-actions' }, answer, cancel)));
}

async function findView(root, [canvas, id], signal) {
  crumbs([canvas, `#/c/${enc(canvas)}`], ['Find event', findHash(canvas, id ?? '')]);
  const answer = h('div', { class: 'lookup' }, h('p', { class: 'muted' }, 'Looking…'));
  root.append(h('div', { class: 'heading' }, h('h1', {}, 'Find event'), lookupForm(canvas, id)));
  if (!id) {
    answer.replaceChildren(h('p', { class: 'empty' }, 'Paste an event id (the id an emit answered).'));
    return root.append(section('Where it is', answer));
  }
  root.append(statusPanel(canvas, id, signal), section('Where it is', answer));
  const found = await act(root.querySelector('form button'), () => api('GET', canvasPath(canvas, `/lookup/${enc(id)}`), { signal }));
  if (!found) return answer.replaceChildren(h('p', { class: 'empty' }, 'No answer.'));
  answer.replaceChildren(
    ...(found.found.length ? found.found.map((f) => hit(canvas, f)) : [h('p', { class: 'empty', 'data-where': 'nowhere' }, 'Found nowhere.')]),
    h('p', { class: 'hint note' }, found.note));
}

views.find = findView;
panels.canvas.push((canvas) => section('Find an event', lookupForm(canvas)));

// Batches (docs/API.md "Batches"): the canvas page lists them with their progress; a batch's page shows its counts,
// times and callbacks, and cancels it. No route lists a batch's events, so the page shows their counts only.
import { h, api, act, ask, notify, crumbs, section, table, number, clock, enc, canvasPath, preview, every, optional, views, panels } from './app.js';

const STATES = ['open', 'running', 'completed'];
// Rows a page of the canvas page's list shows; the rest are behind "Next page".
const PAGE_SIZE = 20;
// An event status that may still change (lookup.js follows the same ones).
const unfinished = ['scheduled', 'queued', 'running', 'sleeping', 'waiting'];

const batchHash = (canvas, id) => `#/batch/${enc(canvas)}/${enc(id)}`;
const batchPath = (canvas, rest = '') => canvasPath(canvas, `/batches${rest}`);
// The GUID's first block tells a canvas's batches apart; the link's title and the page show all of it.
const shortId = (id) => id.slice(0, 8);

/** Done is every event with a final status; failed is every bad end but a cancel (which is grey, not red). */
function tally(batch) {
  return { done: batch.total - batch.pending, failed: batch.failed + batch.timedOut + batch.deadLettered };
}

/** The bar: completed, failed (red) and cancelled (grey) events as parts of the total; what is left is pending. */
function progress(batch) {
  const { done, failed } = tally(batch);
  const text = `${number(done)} of ${number(batch.total)} done: ${number(batch.completed)} completed, ${number(failed)} failed, ${number(batch.cancelled)} cancelled`;
  const part = (name, count) => {
    const element = h('span', { class: `part ${name}`, 'data-part': name, 'data-count': count });
    // A property, not a style attribute: the page's Content-Security-Policy (style-src 'self') refuses those.
    element.style.width = `${batch.total ? (count / batch.total) * 100 : 0}%`;
    return element;
  };
  return h('div', { class: 'progress', role: 'progressbar', 'aria-label': `Batch ${shortId(batch.id)}`, title: text,
    'aria-valuemin': 0, 'aria-valuemax': batch.total, 'aria-valuenow': done, 'aria-valuetext': text },
  part('completed', batch.completed), part('failed', failed), part('cancelled', batch.cancelled));
}

const stateBadge = (batch) => h('span', { class: `badge ${batch.state}` }, batch.state);

// ---- the canvas page's section ----

/** The list, newest first, a page at a time; polls the current page every 2 s until the view is left. */
function batchesPanel(canvas, signal) {
  const state = h('select', { 'aria-label': 'Batch state' }, h('option', { value: '' }, 'All states'), STATES.map((s) => h('option', { value: s }, s)));
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  // The cursors of the pages before this one (for "Previous page"), and the next page's.
  let cursors = [];
  let next = null;
  // A poll that asked before the filter or page changed must not show its answer over the newer one.
  let asked = 0;
  let shown = null;

  state.addEventListener('change', () => act(state, () => { cursors = []; return refresh(); }));

  async function refresh() {
    const query = new URLSearchParams({ limit: PAGE_SIZE });
    if (state.value) query.set('state', state.value);
    if (cursors.length) query.set('cursor', cursors.at(-1));
    const mine = ++asked;
    let nextCursor = null;
    let batches;
    try {
      batches = await api('GET', batchPath(canvas, `?${query}`), { signal, onResponse: (response) => { nextCursor = response.headers.get('X-Next-Cursor'); } });
    } catch (error) {
      // An older control service does not serve batches: say so once and stop polling.
      if (error.status !== 404) throw error;
      list.replaceChildren(h('p', { class: 'muted' }, 'Batches unavailable: this control service does not serve them.'));
      return false;
    }
    if (mine !== asked) return true;
    next = nextCursor;
    // Re-drawn only when it changed, so a link is not replaced under the pointer.
    const key = JSON.stringify([batches, next, cursors.length]);
    if (key !== shown) list.replaceChildren(render(batches));
    shown = key;
    return true;
  }

  function render(batches) {
    const page = cursors.length + 1;
    const previous = h('button', { type: 'button', disabled: cursors.length === 0 }, 'Previous page');
    previous.addEventListener('click', () => act(previous, () => { cursors.pop(); return refresh(); }));
    const following = h('button', { type: 'button', disabled: !next }, 'Next page');
    following.addEventListener('click', () => act(following, () => { cursors.push(next); return refresh(); }));
    if (!batches.length) {
      return h('div', {}, h('p', { class: 'empty' }, state.value ? `No ${state.value} batches.` : 'No batches.'),
        cursors.length ? h('div', { class: 'actions' }, previous) : null);
    }
    return h('div', {},
      table('Batches', ['Batch', 'State', 'Progress', 'Done#', 'Failed#', 'Cancelled#', 'Created'], h('tbody', {}, batches.map((batch) => {
        const { done, failed } = tally(batch);
        return h('tr', { 'data-batch': batch.id },
          h('th', { scope: 'row' }, h('a', { href: batchHash(canvas, batch.id), title: batch.id }, h('code', {}, shortId(batch.id)))),
          h('td', {}, stateBadge(batch)), h('td', { class: 'bar' }, progress(batch)),
          h('td', { class: 'num', 'data-stat': 'done' }, `${number(done)} / ${number(batch.total)}`),
          h('td', { class: `num${failed ? ' bad' : ''}`, 'data-stat': 'failed',
            title: `failed ${number(batch.failed)}, timed out ${number(batch.timedOut)}, dead-lettered ${number(batch.deadLettered)}` }, number(failed)),
          h('td', { class: 'num', 'data-stat': 'cancelled' }, number(batch.cancelled)),
          h('td', {}, clock(batch.createdAt)));
      }))),
      h('div', { class: 'actions' },
        h('span', { class: 'muted', 'data-page': page }, `Page ${page}: ${number(batches.length)} batch(es)`), previous, following));
  }

  every(2000, refresh, signal);
  return section('Batches',
    h('p', { class: 'hint' }, 'Batches of events emitted together (POST /v1/canvases/{canvas}/batches on the emitter), newest first.'),
    h('form', { class: 'inline search', 'aria-label': 'Filter batches', onsubmit: (event) => event.preventDefault() }, state),
    list);
}

// ---- a batch's page ----

const CALLBACKS = [['onComplete', 'fires once every event ended'], ['onSuccess', 'fires only when every event completed']];

/** Whether a finished batch emitted the callback: onComplete always, onSuccess only when every event completed. */
const fires = (batch, name) => name === 'onComplete' || batch.completed === batch.total;

function callbackRow(canvas, batch, name, callback, status) {
  const what = status?.error != null ? status.error : status?.result;
  let state;
  if (batch.state !== 'completed') state = h('span', { class: 'muted' }, 'when the batch completes');
  else if (!fires(batch, name)) state = h('span', { class: 'muted', title: 'onSuccess fires only when every event completed' }, 'not fired');
  // A status appears once the callback is emitted (a moment after the batch finished), and expires with the others.
  else if (!status) state = h('span', { class: 'muted' }, 'no status yet');
  else state = h('span', { class: `badge ${status.status}` }, status.status);
  return h('tr', { 'data-callback': name },
    h('th', { scope: 'row' }, name),
    h('td', {}, h('a', { href: `#/c/${enc(canvas)}/w/${enc(callback.worker)}` }, callback.worker)),
    h('td', {}, h('a', { href: `#/find/${enc(canvas)}/${enc(callback.eventId)}`, title: 'Find this event' }, h('code', {}, callback.eventId))),
    h('td', { 'data-status': status?.status ?? '' }, state),
    h('td', {}, clock(status?.finishedAt)),
    h('td', {}, what === undefined || what === null ? '—' : h('code', { class: status.error != null ? 'bad' : null, title: preview(what, 2000) }, preview(what, 60))));
}

function batchView(root, [canvas, id], signal) {
  if (!canvas || !id) return location.replace(canvas ? `#/c/${enc(canvas)}` : '#/');
  const path = batchPath(canvas, `/${enc(id)}`);
  crumbs([canvas, `#/c/${enc(canvas)}`], [`Batch ${shortId(id)}`, batchHash(canvas, id)]);

  const badges = h('span');
  const bar = h('div', { class: 'batch-progress' });
  const stats = {};
  const stat = (key, label) => h('div', { class: 'stat' }, h('span', { class: 'label' }, label), stats[key] = h('span', { class: 'value', 'data-stat': key }, '—'));
  const times = {};
  const time = (key, label) => [h('dt', {}, label), times[key] = h('dd', { 'data-time': key }, '—')];
  const callbacks = h('tbody');
  let pending = 0;
  let shown = null;

  const cancel = h('button', { type: 'button', class: 'danger-outline', hidden: true }, 'Cancel batch');
  cancel.addEventListener('click', async () => {
    const sure = await ask({
      title: `Cancel batch ${shortId(id)}`,
      message: `Its ${number(pending)} queued and scheduled event(s) are cancelled and never run; running ones finish. onComplete then fires with the counts, onSuccess does not.`,
      ok: 'Cancel batch', danger: true,
    });
    if (sure) await act(cancel, async () => { render(await api('DELETE', path)); notify(`Cancelled batch ${shortId(id)}`); });
  });

  const page = h('div', { class: 'batch' },
    h('div', { class: 'heading' }, h('h1', {}, `Batch ${shortId(id)}`, ' ', badges), h('div', { class: 'actions' }, cancel)),
    h('p', { class: 'hint' }, 'Updated every second until it completes. Its events are not listed (no route lists a batch\'s events): the counts say how they ended.'),
    bar,
    h('div', { class: 'stats' },
      stat('total', 'Total'), stat('pending', 'Pending'), stat('done', 'Done'), stat('completed', 'Completed'), stat('failed', 'Failed'),
      stat('timedOut', 'Timed out'), stat('deadLettered', 'Dead-lettered'), stat('cancelled', 'Cancelled')),
    section('Times', h('dl', { class: 'facts' },
      h('dt', {}, 'Batch id'), h('dd', {}, h('code', {}, id)),
      time('createdAt', 'Created'), time('closedAt', 'Closed'), time('cancelledAt', 'Cancelled'), time('finishedAt', 'Finished'))),
    section('Callbacks',
      h('p', { class: 'hint' }, CALLBACKS.map(([name, when]) => `${name} ${when}`).join('; '), '. Each is an event: its id links to where it is.'),
      table('Callbacks', ['Callback', 'Worker', 'Event', 'Status', 'Finished', 'Result'], callbacks)));
  root.append(page);

  /** The batch's own fields: state, bar, counts, times and whether it may still be cancelled. */
  function render(batch) {
    pending = batch.pending;
    badges.replaceChildren(stateBadge(batch), ...(batch.cancelledAt ? [' ', h('span', { class: 'badge cancelled' }, 'cancelled')] : []));
    bar.replaceChildren(progress(batch));
    const { done, failed } = tally(batch);
    for (const key of Object.keys(stats)) stats[key].textContent = number(key === 'done' ? done : batch[key]);
    stats.failed.classList.toggle('bad', failed > 0);
    for (const key of Object.keys(times)) times[key].textContent = clock(batch[key]);
    cancel.hidden = batch.state === 'completed' || Boolean(batch.cancelledAt);
  }

  function renderCallbacks(batch, statuses) {
    // Re-drawn only when it changed, so a link is not replaced under the pointer.
    const key = JSON.stringify([batch.state, statuses]);
    if (key === shown) return;
    shown = key;
    const rows = CALLBACKS.filter(([name]) => batch[name]).map(([name]) => callbackRow(canvas, batch, name, batch[name], statuses[name]));
    callbacks.replaceChildren(...rows);
    if (!rows.length) callbacks.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No callbacks.')));
  }

  // Every second until the batch completed and each callback it fired has a final status.
  every(1000, async () => {
    let batch;
    try {
      batch = await api('GET', path, { signal });
    } catch (error) {
      // An unknown (or expired) batch or a bad id stays so: say it in place of the page, and stop.
      if (error.status !== 404 && error.status !== 400) throw error;
      page.replaceChildren(h('p', { class: 'empty' }, error.message));
      return false;
    }
    render(batch);
    const statuses = {};
    if (batch.state === 'completed') {
      for (const [name] of CALLBACKS) {
        if (batch[name] && fires(batch, name)) statuses[name] = await optional(canvasPath(canvas, `/events/${enc(batch[name].eventId)}`), signal);
      }
    }
    renderCallbacks(batch, statuses);
    return batch.state !== 'completed' || CALLBACKS.some(([name]) => batch[name] && fires(batch, name) && (!statuses[name] || unfinished.includes(statuses[name].status)));
  }, signal);
}

views.batch = batchView;
panels.canvas.push(batchesPanel);

// Workq dashboard: a hash-routed page over the control API (docs/API.md). Plain DOM, no build step; the charts use the vendored uPlot.

import { metricsPanel } from './metrics.js';

import { deadLetterPanel } from './deadletters.js';

const $ = (selector) => document.querySelector(selector);

/** Builds an element: props are attributes, except on* (listeners) and value (a property). */
function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'value') element.value = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

// ---- session: the token lives in this tab only ----

const SESSION_KEY = 'workq.session';
let session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');

function setSession(value) {
  session = value;
  if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(SESSION_KEY);
  $('#session').hidden = !value;
  $('#role').textContent = value ? (value.admin ? 'admin' : `canvas ${value.canvas}`) : '';
}

/** Shows the view of a hash at once (pushState fires no hashchange), also when it is the current one. */
function go(hash) {
  if (location.hash !== hash) history.pushState(null, '', hash);
  clearAlert();
  route();
}

function signOut(reason) {
  setSession(null);
  go('#/');
  if (reason) report(new Error(reason));
}

// ---- API ----

class ApiError extends Error {
  constructor(method, path, status, problem) {
    // Without a detail (a route this control service does not serve), say which request it was.
    super(problem.detail ?? `${method} ${path} answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

const enc = encodeURIComponent;
const canvasPath = (canvas, rest = '') => `/v1/canvases/${enc(canvas)}${rest}`;
const workerPath = (canvas, worker, rest = '') => canvasPath(canvas, `/workers/${enc(worker)}${rest}`);

/** onResponse sees a successful answer's headers (e.g. a page's X-Next-Cursor). */
async function api(method, path, { body, signal, token = session?.token, onResponse } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, signal, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (response.ok) {
    onResponse?.(response);
    return data;
  }
  const error = new ApiError(method, path, response.status, data ?? {});
  // A revoked or changed token ends the session rather than failing every poll.
  if (response.status === 401 && session && token === session.token) signOut(`Signed out: ${error.message}`);
  throw error;
}

// ---- messages ----

const alertBox = $('#alert');

function report(error, source = 'action') {
  if (error.name === 'AbortError') return;
  const title = error instanceof ApiError ? `${error.problem.title ?? 'Error'} (${error.status})` : 'Error';
  alertBox.dataset.source = source;
  alertBox.replaceChildren(
    h('strong', {}, title), h('span', {}, error.message),
    h('button', { type: 'button', class: 'ghost', onclick: () => clearAlert() }, 'Dismiss'));
  alertBox.hidden = false;
}

function clearAlert(source) {
  if (source && alertBox.dataset.source !== source) return;
  alertBox.hidden = true;
  alertBox.replaceChildren();
}

let noticeTimer;
function notify(text) {
  $('#notice').textContent = text;
  $('#notice').classList.add('shown');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => $('#notice').classList.remove('shown'), 4000);
}

/** Runs a button's action with the button disabled; shows a problem's detail when it fails. */
async function act(button, action) {
  button.disabled = true;
  clearAlert();
  try {
    return await action();
  } catch (error) {
    report(error);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** A modal question; resolves to the input's value (or true without an input), or null when cancelled. */
function ask({ title, message, input, ok = 'OK', danger = false }) {
  const dialog = $('#ask');
  const box = $('#ask-input');
  $('#ask-title').textContent = title;
  $('#ask-message').textContent = message;
  $('#ask-field').hidden = !input;
  $('#ask-label').textContent = input?.label ?? '';
  box.type = input?.type ?? 'text';
  box.value = input?.value ?? '';
  box.min = input?.min ?? '';
  box.max = input?.max ?? '';
  box.required = Boolean(input?.required);
  $('#ask-ok').textContent = ok;
  $('#ask-ok').className = danger ? 'danger' : 'primary';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close',
    () => resolve(dialog.returnValue === 'ok' ? (input ? box.value : true) : null), { once: true }));
}

// ---- formatting ----

const number = (n) => (n ?? 0).toLocaleString('en-US');
// Local time as 2026-11-23 12:16:59: unambiguous, and sorts as it reads.
const clock = (iso) => (iso ? new Date(iso).toLocaleString('sv-SE') : '—');
const millis = (ms) => (ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`);
const json = (value) => JSON.stringify(value, null, 2) ?? 'undefined';
const preview = (value, length = 80) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return text.length > length ? `${text.slice(0, length)}…` : text;
};

function badge(worker) {
  const state = h('span', { class: `badge ${worker.state}` }, worker.state);
  return worker.state === 'blocked' && worker.blockedReason
    ? h('span', { class: 'state' }, state, h('span', { class: 'reason', title: worker.blockedReason }, worker.blockedReason))
    : state;
}

/** A table with a header row; a column name ending in # holds numbers (aligned right, as the actions are). */
function table(label, columns, body) {
  const align = (column) => (column.endsWith('#') ? 'num' : column === 'Actions' ? 'end' : null);
  return h('table', { class: 'grid', 'aria-label': label },
    h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col', class: align(column) }, column.replace('#', ''))))),
    body);
}

function section(title, ...content) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...content);
}

// ---- polling: each view's loops stop when the view is left ----

/** Calls fn now and then every ms after it finishes; fn returning false ends the loop. */
function every(ms, fn, signal) {
  const tick = async () => {
    let again = true;
    try {
      again = (await fn()) !== false;
      clearAlert('poll');
    } catch (error) {
      if (!signal.aborted) report(error, 'poll');
    }
    if (again && !signal.aborted) setTimeout(tick, ms);
  };
  tick();
}

/** GET of a route another service version may not serve yet: null when it answers 404. */
async function optional(path, signal) {
  try {
    return await api('GET', path, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

// ---- worker controls shared by the canvas table and the worker page ----

function workerControls(canvas, name, changed) {
  const post = (button, action, body) => act(button, async () => changed(await api('POST', workerPath(canvas, name, `/${action}`), { body })));
  const toggle = h('button', { type: 'button' });
  toggle.addEventListener('click', () => post(toggle, toggle.dataset.action));
  const block = session.admin ? h('button', { type: 'button' }) : null;
  block?.addEventListener('click', async () => {
    if (block.dataset.action === 'unblock') return post(block, 'unblock');
    const reason = await ask({
      title: `Block ${name}`, message: 'A blocked worker runs nothing until an administrator unblocks it; its events stay queued.',
      input: { label: 'Reason', value: '' }, ok: 'Block', danger: true,
    });
    if (reason !== null) await post(block, 'block', { reason });
  });
  const concurrency = h('button', { type: 'button', class: 'link', 'aria-label': `Edit concurrency of ${name}` }, 'Edit');
  concurrency.addEventListener('click', async () => {
    const value = await ask({
      title: `Concurrency of ${name}`, message: 'Events one worker instance runs at once.',
      input: { label: 'Concurrency', type: 'number', min: 1, max: 1000, value: concurrency.dataset.value, required: true }, ok: 'Save',
    });
    if (value !== null) await act(concurrency, async () => changed(await api('PATCH', workerPath(canvas, name), { body: { concurrency: Number(value) } })));
  });
  return {
    toggle, block, concurrency,
    update(worker) {
      const running = worker.state === 'running';
      toggle.dataset.action = running ? 'pause' : 'resume';
      toggle.textContent = running ? 'Pause' : 'Resume';
      toggle.disabled = worker.state === 'blocked';
      toggle.title = worker.state === 'blocked' ? 'Blocked by an administrator' : '';
      concurrency.dataset.value = worker.concurrency;
      if (block) {
        block.dataset.action = worker.state === 'blocked' ? 'unblock' : 'block';
        block.textContent = worker.state === 'blocked' ? 'Unblock' : 'Block';
        block.className = worker.state === 'blocked' ? '' : 'danger-outline';
      }
    },
  };
}

// ---- views ----

function crumbs(...items) {
  const links = [];
  if (session?.admin) links.push(['Canvases', '#/']);
  for (const [label, href] of items) links.push([label, href]);
  $('#crumbs').replaceChildren(...links.map(([label, href], i) =>
    (i === links.length - 1 ? h('span', { 'aria-current': 'page' }, label) : h('a', { href }, label))));
  document.title = links.length ? `${links.at(-1)[0]} · Workq` : 'Workq';
}

function signInView(root) {
  crumbs();
  const token = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true });
  const canvas = h('input', { id: 'canvas', autocomplete: 'off', pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Workq'),
    h('label', { class: 'field', for: 'token' }, 'Token'), token,
    h('label', { class: 'field', for: 'canvas' }, 'Canvas ', h('span', { class: 'muted' }, '(for a canvas token)')), canvas,
    h('p', { class: 'hint' }, 'The admin token sees every canvas; a canvas token acts on its own canvas only. The token is kept in this tab only.'),
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await act(submit, async () => {
      const given = { token: token.value.trim(), canvas: canvas.value.trim() };
      try {
        await api('GET', '/v1/canvases', { token: given.token });
        setSession({ token: given.token, admin: true });
        go(given.canvas ? `#/c/${enc(given.canvas)}` : '#/');
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 403)) throw error;
        if (!given.canvas) throw new Error('This is a canvas token: enter its canvas name too (a canvas token cannot list canvases).');
        await api('GET', canvasPath(given.canvas, '/workers'), { token: given.token });
        setSession({ token: given.token, canvas: given.canvas, admin: false });
        go(`#/c/${enc(given.canvas)}`);
      }
    });
  });
  root.append(form);
  token.focus();
}

function canvasesView(root, signal) {
  crumbs();
  const body = h('tbody');
  root.append(h('h1', {}, 'Canvases'), h('section', { class: 'card' }, table('Canvases', ['Canvas', 'Workers#'], body)));
  every(2000, async () => {
    const canvases = await api('GET', '/v1/canvases', { signal });
    body.replaceChildren(...canvases.map((canvas) => h('tr', {},
      h('td', {}, h('a', { href: `#/c/${enc(canvas.name)}` }, canvas.name)), h('td', { class: 'num' }, number(canvas.workers)))));
    if (!canvases.length) body.append(h('tr', {}, h('td', { colspan: 2, class: 'empty' }, 'No canvases yet: create one with POST /v1/canvases.')));
  }, signal);
  root.append(...panels.home.map((panel) => panel(signal)));
}

function canvasView(root, canvas, signal) {
  crumbs([canvas, `#/c/${enc(canvas)}`]);
  const workers = h('tbody');
  const rows = new Map();
  const refresh = async () => renderWorkers(await api('GET', canvasPath(canvas, '/workers'), { signal }));

  function renderWorkers(list) {
    for (const worker of list) {
      if (!rows.has(worker.name)) rows.set(worker.name, workerRow(worker.name));
      rows.get(worker.name).update(worker);
    }
    for (const [name, row] of rows) if (!list.some((w) => w.name === name)) { row.tr.remove(); rows.delete(name); }
    workers.replaceChildren(...[...rows.keys()].sort().map((name) => rows.get(name).tr));
    if (!rows.size) workers.append(h('tr', {}, h('td', { colspan: 11, class: 'empty' }, 'No workers yet.')));
  }

  function workerRow(name) {
    const controls = workerControls(canvas, name, refresh);
    const count = (key) => h('td', { class: 'num', 'data-stat': key });
    const cells = {
      state: h('td'), queued: count('queued'), inFlight: count('inFlight'), sleeping: count('sleeping'), waiting: count('waiting'),
      processed: count('processed'), failed: count('failed'), deadLettered: count('deadLettered'), concurrency: h('span'),
    };
    const tr = h('tr', { 'data-worker': name },
      h('th', { scope: 'row' }, h('a', { href: `#/c/${enc(canvas)}/w/${enc(name)}` }, name)),
      cells.state, cells.queued, cells.inFlight, cells.sleeping, cells.waiting, cells.processed, cells.failed, cells.deadLettered,
      h('td', { class: 'num' }, cells.concurrency, ' ', controls.concurrency),
      h('td', { class: 'actions' }, controls.toggle, controls.block));
    return {
      tr,
      update(worker) {
        cells.state.replaceChildren(badge(worker));
        // sleeping and waiting: events of durable handlers between runs (absent from an older control service: 0).
        for (const key of ['queued', 'inFlight', 'sleeping', 'waiting', 'processed', 'failed', 'deadLettered']) cells[key].textContent = number(worker.stats[key]);
        cells.failed.classList.toggle('bad', worker.stats.failed > 0);
        cells.concurrency.textContent = worker.concurrency;
        controls.update(worker);
      },
    };
  }

  const newName = h('input', { id: 'new-worker', autocomplete: 'off', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}', placeholder: 'send-email' });
  const newForm = h('form', { class: 'inline' },
    h('label', { for: 'new-worker' }, 'New worker'), newName, h('button', { type: 'submit' }, 'Create worker'));
  newForm.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/c/${enc(canvas)}/new/${enc(newName.value)}`;
  });

  const unhandled = h('tbody');
  const crons = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  root.append(
    h('div', { class: 'heading' }, h('h1', {}, canvas), newForm),
    section('Workers', table('Workers', ['Worker', 'State', 'Queued#', 'In flight#', 'Sleeping#', 'Waiting#', 'Processed#', 'Failed#', 'Dead-lettered#', 'Concurrency#', 'Actions'], workers)),
    metricsPanel(api, canvasPath(canvas, '/metrics'), signal),
    section('Unhandled events',
      h('p', { class: 'hint' }, 'Emits to workers that do not exist yet. They are parked, and run once the worker is created.'),
      table('Unhandled events', ['Worker', 'Count#', 'First seen', 'Last seen', 'Sample', 'Actions'], unhandled)),
    section('Crons', crons),
    ...panels.canvas.map((panel) => panel(canvas, signal)));

  every(1000, refresh, signal);
  every(2000, async () => {
    const list = await api('GET', canvasPath(canvas, '/unhandled'), { signal });
    unhandled.replaceChildren(...list.map((entry) => unhandledRow(entry)));
    if (!list.length) unhandled.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'Nothing unhandled.')));
  }, signal);
  every(5000, async () => {
    const list = await optional(canvasPath(canvas, '/crons'), signal);
    crons.replaceChildren(list === null
      ? h('p', { class: 'muted' }, 'Crons unavailable: this control service does not serve them.')
      : list.length
        ? table('Crons', ['Cron', 'Schedule', 'Worker', 'Event', 'Last run', 'Next run'], h('tbody', {}, list.map((cron) => h('tr', {},
          h('th', { scope: 'row' }, cron.name), h('td', {}, h('code', {}, cron.schedule)),
          h('td', {}, h('a', { href: `#/c/${enc(canvas)}/w/${enc(cron.worker)}` }, cron.worker)),
          h('td', {}, h('code', {}, preview(cron.event, 40))), h('td', {}, clock(cron.lastRun)), h('td', {}, clock(cron.nextRun))))))
        : h('p', { class: 'empty' }, 'No crons.'));
    return list !== null;
  }, signal);

  function unhandledRow(entry) {
    const discard = h('button', { type: 'button', class: 'danger-outline' }, 'Discard');
    discard.addEventListener('click', async () => {
      const sure = await ask({
        title: `Discard events for ${entry.worker}`, message: `Drop ${number(entry.count)} parked event(s)? They will never run.`, ok: 'Discard', danger: true,
      });
      if (sure) await act(discard, async () => { await api('DELETE', canvasPath(canvas, `/unhandled/${enc(entry.worker)}`)); tr.remove(); notify(`Discarded the events for ${entry.worker}`); });
    });
    const tr = h('tr', { 'data-worker': entry.worker },
      h('th', { scope: 'row' }, entry.worker), h('td', { class: 'num' }, number(entry.count)),
      h('td', {}, clock(entry.firstSeen)), h('td', {}, clock(entry.lastSeen)),
      h('td', {}, h('code', { title: entry.sample }, preview(entry.sample, 60))),
      h('td', { class: 'actions' }, h('a', { class: 'button', href: `#/c/${enc(canvas)}/new/${enc(entry.worker)}` }, 'Create worker'), discard));
    return tr;
  }
}

/** A textarea with line numbers; compile errors mark their lines. */
function codeEditor(code) {
  // Behind the transparent textarea: a number per line, and a tint across the lines with errors.
  const lines = h('div', { class: 'lines', 'aria-hidden': 'true' });
  const area = h('textarea', { id: 'code', spellcheck: 'false', wrap: 'off', autocapitalize: 'off', autocomplete: 'off', value: code });
  const list = h('ol', { class: 'errors', 'aria-label': 'Compile errors', hidden: true });
  let marked = new Map();

  const paint = () => {
    const count = area.value.split('\n').length;
    lines.replaceChildren(...Array.from({ length: count }, (_, i) =>
      h('div', { class: marked.has(i + 1) ? 'error' : null, 'data-line': i + 1 }, h('span', {}, String(i + 1)))));
    follow();
  };
  const follow = () => { lines.style.transform = `translateY(${-area.scrollTop}px)`; };
  area.addEventListener('input', paint);
  area.addEventListener('scroll', follow);

  const goTo = (line, column) => {
    const before = area.value.split('\n').slice(0, line - 1);
    const offset = before.reduce((sum, text) => sum + text.length + 1, 0) + Math.max(0, column - 1);
    area.focus();
    area.setSelectionRange(offset, offset);
  };

  paint();
  return {
    element: h('div', {}, h('label', { for: 'code', class: 'field' }, 'Handler code (C# script body)'), h('div', { class: 'editor' }, lines, area), list),
    area,
    setErrors(errors) {
      marked = new Map(errors.map((e) => [e.line, e.message]));
      list.hidden = !errors.length;
      list.replaceChildren(...errors.map((e) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => goTo(e.line, e.column) }, `Line ${e.line}, column ${e.column}`), ` ${e.message}`)));
      paint();
    },
  };
}

/** PUT of the editor's code; shows compile errors at their lines. Resolves to the worker, or null. */
async function deploy(button, canvas, name, editor, concurrency) {
  return act(button, async () => {
    try {
      const worker = await api('PUT', workerPath(canvas, name), { body: { code: editor.area.value, concurrency } });
      editor.setErrors([]);
      return worker;
    } catch (error) {
      if (!(error instanceof ApiError && Array.isArray(error.problem.errors))) throw error;
      editor.setErrors(error.problem.errors);
      report(error);
      return null;
    }
  });
}

function saveShortcut(button, signal) {
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 's') { event.preventDefault(); button.click(); }
  }, { signal });
}

async function newWorkerView(root, canvas, name, signal) {
  crumbs([canvas, `#/c/${enc(canvas)}`], ['New worker', location.hash]);
  const exists = async (worker) => (await api('GET', canvasPath(canvas, '/workers'), { signal })).some((w) => w.name === worker);
  // PUT would replace an existing worker's code: an existing name opens that worker instead.
  if (name && await exists(name)) return location.replace(`#/c/${enc(canvas)}/w/${enc(name)}`);
  const parked = (await api('GET', canvasPath(canvas, '/unhandled'), { signal })).find((u) => u.worker === name);
  const template = [
    ...(parked ? [`// ${number(parked.count)} parked event(s) run once this worker exists; the latest: ${preview(parked.sample, 200)}`] : []),
    '// Runs once for every event emitted to this worker. Event is the JSON (a JsonNode?); Log adds a line to its trace.',
    'Log($"got {Event?.ToJsonString()}");',
    'return Event;',
  ].join('\n');
  const nameBox = h('input', { id: 'worker-name', autocomplete: 'off', required: true, value: name });
  const concurrency = h('input', { id: 'worker-concurrency', type: 'number', min: 1, max: 1000, value: 10, required: true });
  const editor = codeEditor(template);
  const save = h('button', { type: 'submit', class: 'primary' }, 'Create worker');
  const form = h('form', { class: 'card' },
    h('div', { class: 'row' },
      h('div', {}, h('label', { class: 'field', for: 'worker-name' }, 'Worker name'), nameBox),
      h('div', {}, h('label', { class: 'field', for: 'worker-concurrency' }, 'Concurrency'), concurrency)),
    editor.element, h('div', { class: 'actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = nameBox.value.trim();
    if (await exists(chosen)) return report(new Error(`Worker ${chosen} exists already: open it from the canvas to change its code.`));
    const worker = await deploy(save, canvas, chosen, editor, Number(concurrency.value));
    if (worker) {
      notify(`Created ${worker.name} (version ${worker.version})`);
      location.hash = `#/c/${enc(canvas)}/w/${enc(worker.name)}`;
    }
  });
  saveShortcut(save, signal);
  root.append(h('h1', {}, 'New worker'),
    parked ? h('p', { class: 'hint' }, `${number(parked.count)} parked event(s) for ${name} run as soon as it is created.`) : null, form);
  editor.area.focus();
}

function workerView(root, canvas, name, traceToOpen, signal) {
  const here = `#/c/${enc(canvas)}/w/${enc(name)}`;
  crumbs([canvas, `#/c/${enc(canvas)}`], [name, here]);
  let loaded = false;
  const state = h('span');
  const version = h('span', { class: 'muted' });
  const refresh = (worker) => render(worker);
  const controls = workerControls(canvas, name, refresh);
  const stats = {};
  const stat = (key, label) => h('div', { class: 'stat' }, h('span', { class: 'label' }, label), stats[key] = h('span', { class: 'value', 'data-stat': key }, '—'));
  const concurrency = h('span', { class: 'value' }, '—');
  // The worker's rate limit, over every worker instance (set by PUT or PATCH rateLimit).
  const rateLimit = h('span', { class: 'value', 'data-rate-limit': '' }, '—');

  const purge = h('button', { type: 'button', class: 'danger-outline' }, 'Purge queue');
  purge.addEventListener('click', async () => {
    const sure = await ask({ title: `Purge ${name}`, message: `Drop the ${stats.queued.textContent} queued event(s) of ${name}? They will never run.`, ok: 'Purge', danger: true });
    if (sure) await act(purge, async () => notify(`Purged ${number((await api('DELETE', workerPath(canvas, name, '/events'))).purged)} event(s)`));
  });
  const remove = h('button', { type: 'button', class: 'danger-outline' }, 'Delete worker');
  remove.addEventListener('click', async () => {
    const sure = await ask({ title: `Delete ${name}`, message: 'The worker, its code and its queued events go. Traces and counters go too.', ok: 'Delete', danger: true });
    if (sure) await act(remove, async () => { await api('DELETE', workerPath(canvas, name)); notify(`Deleted ${name}`); location.hash = `#/c/${enc(canvas)}`; });
  });

  const editor = codeEditor('');
  const save = h('button', { type: 'button', class: 'primary' }, 'Save');
  const saved = h('span', { class: 'muted' });
  save.addEventListener('click', async () => {
    const worker = await deploy(save, canvas, name, editor);
    if (worker) {
      saved.textContent = `Deployed version ${worker.version}`;
      notify(`Deployed ${name} version ${worker.version}`);
      render(worker);
    }
  });
  saveShortcut(save, signal);

  const runnerState = h('span', { 'data-runner': '' });
  const lastCrash = h('span', { class: 'muted small', 'data-last-crash': '' });
  const runnerStat = h('div', { class: 'stat', hidden: true, title: "The canvas's runner process: its handlers run there" },
    h('span', { class: 'label' }, 'Runner'), runnerState, lastCrash);
  const traces = h('div', { class: 'traces' }, h('p', { class: 'muted' }, 'Loading…'));
  const deadLetters = deadLetterPanel({ h, api, act, ask, notify, table, clock, preview, number, every, path: (rest) => workerPath(canvas, name, rest), name, signal });

  // Queued by priority (docs/API.md "Priorities"): shown once the worker has high or low events.
  const byPriority = h('div', { class: 'stat', title: 'Queued events by priority: high ones start before normal ones, normal before low', hidden: true },
    h('span', { class: 'label' }, 'Queued high / normal / low'), h('span', { class: 'value', 'data-stat': 'queuedByPriority' }, '—'));
  root.append(
    h('div', { class: 'heading' },
      h('h1', {}, name, ' ', state, ' ', version),
      h('div', { class: 'actions' }, controls.toggle, controls.block, purge, remove)),
    h('div', { class: 'stats' },
      stat('queued', 'Queued'), stat('scheduled', 'Scheduled'), stat('inFlight', 'In flight'), stat('sleeping', 'Sleeping'), stat('waiting', 'Waiting'),
      stat('processed', 'Processed'), stat('failed', 'Failed'),
      stat('deadLettered', 'Dead-lettered'), stat('consumers', 'Consumers'),
      h('div', { class: 'stat' }, h('span', { class: 'label' }, 'Concurrency'), h('span', {}, concurrency, ' ', controls.concurrency)),
      h('div', { class: 'stat', title: 'At most this many runs over every worker instance; events over it wait in the queue' },
        h('span', { class: 'label' }, 'Rate limit'), rateLimit),
      byPriority,
      runnerStat),
    h('div', { class: 'columns' },
      section('Code', editor.element, h('div', { class: 'actions' }, saved, save)),
      section('Recent traces', traces)),
    metricsPanel(api, workerPath(canvas, name, '/metrics'), signal),
    section('Dead letters', deadLetters));

  function render(worker) {
    state.replaceChildren(badge(worker));
    // The canvas's runner process (absent where handler code runs in the worker service).
    const runner = worker.runner;
    runnerStat.hidden = !runner;
    if (runner) {
      runnerState.textContent = [runner.state, runner.restarts ? `${runner.restarts} restarts` : '', runner.crashes ? `${runner.crashes} crashes` : '',
        runner.sandbox === 'off' ? 'no sandbox' : ''].filter(Boolean).join(' · ');
      runnerState.classList.toggle('bad', runner.crashes > 0);
      lastCrash.textContent = runner.lastCrash ? `last crash ${clock(runner.lastCrashAt)}: ${runner.lastCrash}` : '';
    }
    version.textContent = `version ${worker.version}`;
    for (const key of Object.keys(stats)) stats[key].textContent = number(worker.stats[key]);
    stats.failed.classList.toggle('bad', worker.stats.failed > 0);
    const queued = worker.stats.queuedByPriority;
    byPriority.hidden = !queued || (queued.high === 0 && queued.low === 0);
    if (queued) byPriority.lastChild.textContent = [queued.high, queued.normal, queued.low].map(number).join(' / ');
    concurrency.textContent = worker.concurrency;
    rateLimit.textContent = worker.rateLimit ? `${number(worker.rateLimit.events)} per ${worker.rateLimit.perSeconds} s` : 'none';
    controls.update(worker);
    if (!loaded && worker.code !== undefined) {
      loaded = true;
      editor.area.value = worker.code;
      editor.area.dispatchEvent(new Event('input'));
    }
  }

  every(1000, async () => render(await api('GET', workerPath(canvas, name), { signal })), signal);

  let shown = null;
  every(1500, async () => {
    const list = await api('GET', workerPath(canvas, name, '/traces'), { signal });
    // A sleeping or waiting event's resumes are traces of their own: the same event id, another resume.
    const key = list.map((t) => `${t.eventId}:${t.resume ?? 0}:${t.status}`).join();
    if (key === shown) return;
    shown = key;
    const open = new Set([...traces.querySelectorAll('details[open]')].map((d) => d.dataset.eventId));
    traces.replaceChildren(...list.map((trace) => traceItem(canvas, trace, open.has(trace.eventId) || trace.eventId === traceToOpen)));
    if (!list.length) traces.append(h('p', { class: 'empty' }, 'No events processed yet.'));
    const target = traceToOpen && traces.querySelector(`details[data-event-id="${CSS.escape(traceToOpen)}"]`);
    if (target) {
      target.scrollIntoView({ block: 'nearest' });
      traceToOpen = null;
    }
  }, signal);
}

/** A durable run's steps in the order they ended: name (handler text), replayed or run, and how long it took. */
function stepList(steps) {
  return h('div', { class: 'block' }, h('h4', {}, 'Steps'), h('ol', { class: 'steps', 'aria-label': 'Steps' }, steps.map((step) => h('li', { 'data-replayed': String(step.replayed) },
    h('code', { class: 'step-name' }, step.name),
    h('span', { class: `badge ${step.replayed ? 'replayed' : 'ran'}` }, step.replayed ? 'replayed' : 'run'),
    h('span', { class: 'muted' }, millis(step.durationMs))))));
}

function traceItem(canvas, trace, open) {
  const fact = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  const block = (label, text, cls) => h('div', { class: 'block' }, h('h4', {}, label), h('pre', { class: cls }, text));
  const steps = trace.steps ?? [];
  // A durable handler's run (docs/API.md "Durable handlers"): resume 0 is the event's first run, 1, 2, ... its resumes.
  const durable = trace.resume > 0 || steps.length > 0 || trace.status === 'sleeping' || trace.status === 'waiting';
  return h('details', { class: 'trace', 'data-event-id': trace.eventId, 'data-resume': trace.resume ?? 0, open },
    h('summary', {},
      h('span', { class: `badge ${trace.status}` }, trace.status),
      h('time', { datetime: trace.startedAt }, clock(trace.startedAt)),
      h('span', { class: 'muted' }, millis(trace.durationMs)),
      trace.resume > 0 ? h('span', { class: 'muted' }, `resume ${trace.resume}`) : null,
      h('code', { class: 'preview' }, preview(trace.event, 48))),
    h('dl', { class: 'facts' },
      fact('Event id', h('code', {}, trace.eventId)), fact('Trace id', h('code', {}, trace.traceId ?? '—')),
      fact('Attempt', String(trace.attempt)), durable ? fact('Resume', String(trace.resume ?? 0)) : null,
      trace.priority && trace.priority !== 'normal' ? fact('Priority', h('span', { 'data-priority': trace.priority }, trace.priority)) : null,
      fact('Enqueued', clock(trace.enqueuedAt)),
      fact('Queue wait', millis(trace.queueWaitMs)), fact('Duration', millis(trace.durationMs))),
    block('Event', json(trace.event)),
    trace.error ? block('Error', `${trace.error.type}: ${trace.error.message}`, 'error') : block('Result', json(trace.result)),
    steps.length ? stepList(steps) : null,
    block('Logs', trace.logs?.length ? trace.logs.join('\n') : '(no logs)'),
    trace.emitted?.length
      ? h('div', { class: 'block' }, h('h4', {}, 'Emitted'), h('ul', { class: 'emitted' }, trace.emitted.map((child) => h('li', {},
        h('a', { href: `#/c/${enc(canvas)}/w/${enc(child.worker)}/t/${enc(child.id)}` }, child.worker), ' ', h('code', {}, child.id)))))
      : null);
}

// ---- routing ----

let leaving;
function route() {
  leaving?.abort();
  leaving = new AbortController();
  const { signal } = leaving;
  const root = $('#view');
  root.replaceChildren();
  const [kind, canvas, sub, worker, traceKind, trace] = location.hash.replace(/^#\/?/, '').split('/').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  if (!session) return signInView(root);
  if (views[kind]) return views[kind](root, [canvas, sub, worker, traceKind, trace], signal);
  if (kind !== 'c' || !canvas) {
    if (session.admin) return canvasesView(root, signal);
    return location.replace(`#/c/${enc(session.canvas)}`);
  }
  if (sub === 'w' && worker) return workerView(root, canvas, worker, traceKind === 't' ? trace : null, signal);
  if (sub === 'new') return newWorkerView(root, canvas, worker ?? '', signal).catch(report);
  return canvasView(root, canvas, signal);
}

// ---- extensions: modules index.html loads after this one (lookup.js, instances.js, batches.js) add views and panels ----

/** Views by the hash's first part (#/kind/a/b): view(root, [a, b, ...], signal). */
export const views = {};
/** Sections appended to a page: canvas panels get (canvas, signal), home panels (signal). */
export const panels = { canvas: [], home: [] };
export { h, api, act, ask, notify, report, go, crumbs, section, table, number, clock, enc, canvasPath, json, preview, every, optional, traceItem, session };

$('#sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => { clearAlert(); route(); });
setSession(session);
// Module scripts all run before DOMContentLoaded, so the extensions have registered by the first route.
document.addEventListener('DOMContentLoaded', route);

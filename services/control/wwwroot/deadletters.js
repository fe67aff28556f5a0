// The worker page's dead letters: search (q, reason, from, to), pages, and redrive or discard of what the filter selects.
// app.js hands in its helpers so this file stays self-contained (docs/API.md, "Dead-letter search").

const REASONS = ['delivery limit', 'retries exhausted'];

/** The section's content; polls the current page every 3 s until the view is left. */
export function deadLetterPanel({ h, api, act, ask, notify, table, clock, preview, number, every, path, name, signal }) {
  const q = h('input', { type: 'search', placeholder: 'Error or payload text', 'aria-label': 'Search dead letters' });
  const reason = h('select', { 'aria-label': 'Reason' }, h('option', { value: '' }, 'Any reason'), REASONS.map((r) => h('option', { value: r }, r)));
  const from = h('input', { type: 'datetime-local', step: 1, 'aria-label': 'Dead-lettered from' });
  const to = h('input', { type: 'datetime-local', step: 1, 'aria-label': 'Dead-lettered before' });
  const clear = h('button', { type: 'button', class: 'ghost' }, 'Clear');
  const form = h('form', { class: 'inline search', role: 'search' }, q, reason, from, to, h('button', { type: 'submit' }, 'Search'), clear);
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));

  // What the list shows: the applied filter, and the cursors of the pages before (for "Previous").
  let filter = new URLSearchParams();
  let cursors = [];
  let next = null;

  const apply = () => {
    filter = new URLSearchParams();
    if (q.value.trim()) filter.set('q', q.value.trim());
    if (reason.value) filter.set('reason', reason.value);
    // datetime-local is the viewer's local time; the API takes ISO 8601 instants.
    if (from.value) filter.set('from', new Date(from.value).toISOString());
    if (to.value) filter.set('to', new Date(to.value).toISOString());
    cursors = [];
    return refresh();
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); apply(); });
  clear.addEventListener('click', () => { form.reset(); apply(); });

  const query = (extra = {}) => {
    const params = new URLSearchParams(filter);
    for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
    const text = params.toString();
    return text ? `?${text}` : '';
  };

  async function refresh() {
    let nextCursor = null;
    let letters;
    try {
      letters = await api('GET', path(`/dead-letters${query({ cursor: cursors.at(-1) })}`),
        { signal, onResponse: (response) => { nextCursor = response.headers.get('X-Next-Cursor'); } });
    } catch (error) {
      // An older control service does not serve dead letters: say so once and stop polling.
      if (error.status !== 404) throw error;
      list.replaceChildren(h('p', { class: 'muted' }, 'Dead letters unavailable: this control service does not serve them.'));
      return false;
    }
    next = nextCursor;
    list.replaceChildren(render(letters));
    return true;
  }

  function render(letters) {
    const filtered = [...filter.keys()].length > 0;
    const page = cursors.length + 1;
    const previous = h('button', { type: 'button', disabled: cursors.length === 0 }, 'Previous page');
    previous.addEventListener('click', () => act(previous, () => { cursors.pop(); return refresh(); }));
    const following = h('button', { type: 'button', disabled: !next }, 'Next page');
    following.addEventListener('click', () => act(following, () => { cursors.push(next); return refresh(); }));

    const what = filtered ? 'these' : 'all';
    const redrive = h('button', { type: 'button' }, `Redrive ${what}`);
    redrive.addEventListener('click', () => act(redrive, async () => {
      notify(`Redrove ${number((await api('POST', path(`/dead-letters/redrive${query()}`))).redriven)} event(s)`);
      cursors = [];
      await refresh();
    }));
    const discard = h('button', { type: 'button', class: 'danger-outline' }, `Discard ${what}`);
    discard.addEventListener('click', async () => {
      const sure = await ask({
        title: `Discard dead letters of ${name}`,
        message: filtered ? 'Drop every dead letter this search selects (on all pages) for good?' : 'Drop every dead letter of this worker for good?',
        ok: 'Discard', danger: true,
      });
      if (sure) await act(discard, async () => {
        notify(`Discarded ${number((await api('DELETE', path(`/dead-letters${query()}`))).discarded)} event(s)`);
        cursors = [];
        await refresh();
      });
    });

    if (!letters.length) {
      return h('div', {}, h('p', { class: 'empty' }, filtered ? 'No dead letters match.' : 'No dead letters.'),
        cursors.length ? h('div', { class: 'actions' }, previous) : null);
    }
    return h('div', {},
      table('Dead letters', ['Event id', 'Dead-lettered', 'Attempts#', 'Reason', 'Event'], h('tbody', {}, letters.map((letter) => h('tr', {},
        h('td', {}, h('code', {}, letter.id)), h('td', {}, clock(letter.deadLetteredAt)), h('td', { class: 'num' }, letter.attempts),
        h('td', {}, letter.reason), h('td', {}, h('code', { title: preview(letter.event, 2000) }, preview(letter.event, 40))))))),
      h('div', { class: 'actions' },
        h('span', { class: 'muted', 'data-page': page }, `Page ${page}: ${number(letters.length)} dead letter(s)`),
        previous, following, redrive, discard));
  }

  every(3000, refresh, signal);
  return h('div', {}, form, list);
}

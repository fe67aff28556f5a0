// Worker instances (docs/API.md "Instances", admin): what each live instance consumes, from its load reports.
import { h, api, crumbs, section, table, number, clock, every, views, panels } from './app.js';

function instanceCard(instance) {
  const facts = (...pairs) => h('dl', { class: 'facts' }, pairs.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
  const consumers = instance.consumers.map((c) => h('tr', { 'data-consumer': `${c.canvas}/${c.worker}` },
    h('td', {}, h('a', { href: `#/c/${encodeURIComponent(c.canvas)}` }, c.canvas)),
    h('th', { scope: 'row' }, h('a', { href: `#/c/${encodeURIComponent(c.canvas)}/w/${encodeURIComponent(c.worker)}` }, c.worker)),
    h('td', { class: 'num', 'data-stat': 'prefetch' }, number(c.prefetch)), h('td', { class: 'num', 'data-stat': 'inFlight' }, number(c.inFlight)),
    h('td', {}, h('span', { class: `badge ${c.state === 'consuming' ? 'running' : 'paused'}` }, c.state))));
  return h('section', { class: 'card instance', 'data-instance': instance.id },
    h('h2', {}, `${instance.host} · pid ${instance.pid}`),
    facts(['Instance', h('code', {}, instance.id)], ['Started', clock(instance.startedAt)], ['Last report', clock(instance.lastSeen)],
      ['Canvases', instance.canvases.length ? h('code', {}, instance.canvases.join(', ')) : 'every canvas'],
      ['Handler code', instance.runners === null ? 'in the instance (WORKQ_ISOLATION=none)' : 'a runner process per canvas'],
      ...(instance.runners === null ? [] : [['Runner sandbox', instance.sandbox === 'off' ? 'off (WORKQ_SANDBOX=off)' : instance.sandbox ?? 'not reported']])),
    instance.runners?.length
      ? table(`Runners of ${instance.host} pid ${instance.pid}`, ['Canvas', 'State', 'Pid', 'Running#', 'Restarts#', 'Crashes#', 'Last crash'], h('tbody', {},
        instance.runners.map((r) => h('tr', { 'data-runner': r.canvas },
          h('td', {}, h('a', { href: `#/c/${encodeURIComponent(r.canvas)}` }, r.canvas), r.quarantine ? ' (quarantine)' : ''),
          h('td', {}, h('span', { class: `badge ${r.state === 'warm' ? 'running' : 'paused'}` }, r.state)),
          h('td', { class: 'num' }, r.pid ?? '—'), h('td', { class: 'num' }, number(r.running)),
          h('td', { class: 'num' }, number(r.restarts)), h('td', { class: 'num' }, number(r.crashes)),
          h('td', {}, r.lastCrash ? `${clock(r.lastCrashAt)}: ${r.lastCrash}` : '—')))))
      : null,
    consumers.length
      ? table(`Consumers of ${instance.host} pid ${instance.pid}`, ['Canvas', 'Worker', 'Prefetch#', 'In flight#', 'State'], h('tbody', {}, consumers))
      : h('p', { class: 'empty' }, 'Consumes nothing.'));
}

function instancesView(root, _, signal) {
  crumbs(['Instances', '#/instances']);
  const list = h('div', { class: 'instances' }, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('h1', {}, 'Worker instances'),
    h('p', { class: 'hint' }, 'Live worker instances and the queues each consumes; prefetch is the worker\'s concurrency. Updated every second.'), list);
  every(1000, async () => {
    const instances = await api('GET', '/v1/instances', { signal });
    list.replaceChildren(...instances.map(instanceCard));
    if (!instances.length) list.append(h('p', { class: 'empty' }, 'No worker instance has reported in the last 2 seconds.'));
  }, signal);
}

views.instances = instancesView;
// The home page is the admin's canvas list.
panels.home.push(() => section('Worker instances',
  h('p', {}, h('a', { href: '#/instances' }, 'Instances'), ': what each live worker instance consumes, with prefetch and events in flight.')));

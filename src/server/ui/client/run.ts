/**
 * The run viewer (`#/runs/<id>`): totals, one row per step visit (tokens
 * in/out, cache reads, dollars, latency), the timeline of attempts, retries,
 * waits and who resolved them, the failure point, the machine diagram with
 * the current step outlined, and buttons for the events a waiting run
 * accepts. It follows the run over `GET /api/runs/:id/stream`.
 */
export const runJs = String.raw`
function cacheReadsOf(entry) {
  const u = entry.usage || {};
  return u.cacheReadInputTokens || u.cacheReadTokens || u.cache_read_input_tokens || 0;
}

function totalsOf(run) {
  const t = run.timeline.totals;
  const cache = run.journal.reduce((n, e) => n + cacheReadsOf(e), 0);
  const items = [['Status', badge(run.status)], ['Tokens in', fmt.int(t.inputTokens)], ['Tokens out', fmt.int(t.outputTokens)], ['Cache reads', fmt.int(cache)],
    ['Cost', fmt.usd(run.usage.usd)], ['Duration', fmt.ms(t.durationMs)], ['Attempts', fmt.int(t.attempts)], ['Retries', fmt.int(t.retries)]];
  return h('dl', { class: 'totals', id: 'run-totals' }, items.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))));
}

function stepsTable(run) {
  const usd = {}, cache = {};
  for (const r of run.timeline.rows) if (r.step) usd[r.step + ':' + r.visit] = (usd[r.step + ':' + r.visit] || 0) + r.usd;
  for (const e of run.journal) if (e.step) cache[e.step + ':' + e.visit] = (cache[e.step + ':' + e.visit] || 0) + cacheReadsOf(e);
  const num = (v) => h('td', { class: 'num' }, v);
  const rows = run.steps.map((s) => h('tr', { 'data-step': s.id },
    h('th', { scope: 'row' }, s.id + (s.visit > 1 ? ' (visit ' + s.visit + ')' : '')),
    h('td', null, s.status), num(fmt.int(s.attempts)), num(fmt.int(s.inputTokens)), num(fmt.int(s.outputTokens)),
    num(fmt.int(cache[s.id + ':' + s.visit] || 0)), num(fmt.usd(usd[s.id + ':' + s.visit] || 0)),
    num(s.endedAt === null ? 'running' : fmt.ms(s.endedAt - s.startedAt))));
  const t = run.timeline.totals;
  const allCache = run.journal.reduce((n, e) => n + cacheReadsOf(e), 0);
  const foot = h('tr', null, h('td', null, 'Total'), h('td'), num(fmt.int(t.attempts)), num(fmt.int(t.inputTokens)), num(fmt.int(t.outputTokens)),
    num(fmt.int(allCache)), num(fmt.usd(run.usage.usd)), num(fmt.ms(t.durationMs)));
  const cols = ['Step', 'Status', 'Attempts', 'Tokens in', 'Tokens out', 'Cache reads', 'Cost', 'Latency'];
  return h('table', { id: 'steps' }, h('caption', null, 'Steps'),
    h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: i >= 2 ? 'num' : null }, c)))),
    h('tbody', null, rows), h('tfoot', null, foot));
}

function timelineTable(run) {
  const num = (v) => h('td', { class: 'num' }, v);
  const rows = run.timeline.rows.map((r) => h('tr', { class: r.failurePoint ? 'failure-point' : null },
    num('+' + fmt.ms(r.offsetMs)), h('td', null, r.step || '–'), num(r.attempt || ''),
    h('td', null, r.failurePoint ? h('strong', null, 'failure point: ') : null, r.event.replace('_', ' ')),
    h('td', null, r.detail, r.error ? h('span', { class: 'error' }, (r.detail ? ' ' : '') + r.error.kind + ': ' + r.error.message) : null),
    num(fmt.ms(r.durationMs)), num(r.inputTokens ? fmt.int(r.inputTokens) : ''), num(r.outputTokens ? fmt.int(r.outputTokens) : ''), num(r.usd ? fmt.usd(r.usd) : '')));
  const cols = ['At', 'Step', 'Attempt', 'Event', 'Detail', 'Duration', 'In', 'Out', 'Cost'];
  return h('table', { id: 'timeline' }, h('caption', null, 'Timeline'),
    h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: [0, 2, 5, 6, 7, 8].includes(i) ? 'num' : null }, c)))),
    h('tbody', null, rows));
}

function waitPanel(run, refresh) {
  const w = run.waitingFor;
  if (!w) return null;
  const dataId = 'event-data';
  const data = h('textarea', { id: dataId, rows: 3, cols: 40, spellcheck: 'false', placeholder: '{"note": "…"}' });
  const error = h('p', { class: 'error', role: 'alert' });
  const send = async (type) => {
    error.textContent = '';
    let payload;
    if (data.value.trim()) {
      try { payload = JSON.parse(data.value); } catch (e) { error.textContent = 'Event data is not JSON: ' + e.message; data.focus(); return; }
    }
    try {
      const after = await api('POST', '/api/runs/' + encodeURIComponent(run.runId) + '/events', payload === undefined ? { type } : { type, data: payload });
      say('Sent ' + type + ': the run is ' + after.status.replace('_', ' ') + '.');
      refresh();
    } catch (e) { error.textContent = 'Could not send ' + type + ': ' + e.message; }
  };
  return h('section', { class: 'panel', id: 'waiting', 'aria-labelledby': 'waiting-title' },
    h('h2', { id: 'waiting-title' }, 'Waiting at ' + w.step),
    h('p', null, 'The run waits for ' + w.events.join(' or ') + (w.timeoutAt ? '; it times out at ' + fmt.time(w.timeoutAt) + '.' : '.')),
    h('div', { class: 'field' }, h('label', { for: dataId }, 'Event data (JSON, optional)'), data),
    error,
    h('div', { class: 'actions' }, w.events.map((type) => h('button', { type: 'button', class: type === 'REJECT' ? 'danger' : 'primary', 'data-event': type, onclick: () => send(type) }, type))));
}

async function showRun(id) {
  const path = '/api/runs/' + encodeURIComponent(id);
  let run = await api('GET', path);
  const title = h('h1');
  const facts = h('p', { class: 'meta' });
  const panelSlot = h('div');
  const data = h('div');
  const details = h('div');
  const img = h('img', { id: 'diagram' });
  const diagram = h('figure', { class: 'diagram' }, img, h('figcaption', { class: 'muted' }, 'Orange: where the run is. Blue: steps it went through.'));
  mount(h('section', null, title, facts, panelSlot, h('div', { class: 'layout' }, data, h('div', null, h('h2', null, 'Machine'), diagram)), details), 'Run ' + run.runId);
  let waitKey = null;
  const render = () => {
    title.textContent = 'Run ' + run.runId;
    facts.replaceChildren(run.workflow + ' · started ' + fmt.time(run.createdAt) + ' · updated ' + fmt.time(run.updatedAt) + ' · ', badge(run.status));
    const key = JSON.stringify(run.waitingFor);
    if (key !== waitKey) { waitKey = key; panelSlot.replaceChildren(waitPanel(run, refresh) || ''); }
    data.replaceChildren();
    append(data, [
      h('h2', null, 'Totals'),
      totalsOf(run),
      run.failure ? h('p', { class: 'error', id: 'failure' }, 'Failed (' + run.failure.kind + (run.failure.step ? ' at ' + run.failure.step : '') + '): ' + run.failure.message) : null]);
    details.replaceChildren();
    append(details, [
      stepsTable(run),
      timelineTable(run),
      run.output !== null ? [h('h2', null, 'Output'), h('pre', { id: 'output' }, fmt.json(run.output))] : null]);
    const current = run.waitingFor ? run.waitingFor.step : (run.steps.length ? run.steps[run.steps.length - 1].id : 'none');
    img.setAttribute('alt', 'State diagram of ' + run.workflow + '; the run is ' + run.status.replace('_', ' ') + (current ? ' at ' + current : '') + '.');
    img.setAttribute('src', path + '/diagram.svg?v=' + run.updatedAt + '-' + run.status);
  };
  let loading = null;
  async function refresh() {
    if (loading) return loading;
    loading = api('GET', path).then((next) => { run = next; render(); }).catch(() => undefined).finally(() => { loading = null; });
    return loading;
  }
  render();
  // The server ends the stream when the run can change no more; closing it then keeps EventSource from reconnecting.
  const ended = (view) => view.status === 'done' || view.status === 'cancelled' || (view.status === 'failed' && !view.resumable);
  if (ended(run)) return;
  const stream = new EventSource(path + '/stream');
  stream.addEventListener('run', (event) => {
    const view = JSON.parse(event.data);
    if (ended(view)) stream.close();
    if (view.updatedAt !== run.updatedAt || view.status !== run.status) refresh();
  });
  ui.cleanup.push(() => stream.close());
}
`;

/** The run list (`#/runs?status=&workflow=&minCost=&maxCost=&sort=&order=`): filters and sort done by `GET /api/runs`. */
export const runsJs = String.raw`
const STATUSES = ['running', 'waiting', 'done', 'failed', 'budget_exhausted', 'cancelled'];
const SORTS = [['createdAt', 'Created'], ['updatedAt', 'Updated'], ['usd', 'Cost'], ['tokens', 'Tokens'], ['status', 'Status'], ['workflow', 'Workflow']];

function select(name, label, options, value) {
  const id = 'filter-' + name;
  return h('div', null, h('label', { for: id }, label),
    h('select', { id, name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}
function textInput(name, label, value, attrs) {
  const id = 'filter-' + name;
  return h('div', null, h('label', { for: id }, label), h('input', Object.assign({ id, name, value: value || '' }, attrs || {})));
}

async function showRuns(params) {
  const keys = ['status', 'workflow', 'minCost', 'maxCost', 'sort', 'order'];
  const query = new URLSearchParams();
  for (const k of keys) if (params.get(k)) query.set(k, params.get(k));
  const sort = params.get('sort') || 'createdAt';
  const order = params.get('order') || 'desc';
  const form = h('form', { class: 'filters', 'aria-label': 'Filter and sort runs', onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const k of keys) { const v = form.elements[k].value.trim(); if (v) next.set(k, v); }
    location.hash = '#/runs' + (next.toString() ? '?' + next.toString() : '');
  } },
    select('status', 'Status', [['', 'any']].concat(STATUSES.map((s) => [s, s.replace('_', ' ')])), params.get('status') || ''),
    textInput('workflow', 'Workflow', params.get('workflow'), { type: 'text', placeholder: 'any', spellcheck: 'false' }),
    textInput('minCost', 'Min cost ($)', params.get('minCost'), { type: 'number', min: '0', step: 'any', inputmode: 'decimal' }),
    textInput('maxCost', 'Max cost ($)', params.get('maxCost'), { type: 'number', min: '0', step: 'any', inputmode: 'decimal' }),
    select('sort', 'Sort by', SORTS, sort),
    select('order', 'Order', [['desc', 'Descending'], ['asc', 'Ascending']], order),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'));
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const columns = [['Run', null], ['Workflow', 'workflow'], ['Status', 'status'], ['Tokens', 'tokens'], ['Cost', 'usd'], ['Created', 'createdAt'], ['Updated', 'updatedAt']];
  const head = h('tr', null, columns.map(([label, key]) => h('th', {
    scope: 'col', class: key === 'tokens' || key === 'usd' ? 'num' : null,
    'aria-sort': key === sort ? (order === 'asc' ? 'ascending' : 'descending') : null,
  }, label)));
  const table = h('table', { id: 'runs' }, h('caption', null, 'Runs'), h('thead', null, head), body);
  const count = h('p', { class: 'muted', id: 'run-count' });
  mount(h('section', null, h('h1', null, 'Runs'), form, count, table, more), 'Runs');
  let shown = 0;
  const load = async (cursor) => {
    const q = new URLSearchParams(query);
    q.set('limit', '50');
    if (cursor) q.set('cursor', cursor);
    let page;
    try {
      page = await api('GET', '/api/runs?' + q.toString());
    } catch (e) {
      if (e.status !== 401) count.replaceChildren(h('span', { class: 'error', role: 'alert' }, 'Could not list runs: ' + e.message));
      return;
    }
    for (const r of page.runs) {
      body.appendChild(h('tr', { 'data-run': r.runId },
        h('td', null, h('a', { href: '#/runs/' + encodeURIComponent(r.runId), title: r.runId }, r.runId.slice(0, 13))),
        h('td', null, r.workflow),
        h('td', null, badge(r.status)),
        h('td', { class: 'num' }, fmt.int(r.tokens)),
        h('td', { class: 'num' }, fmt.usd(r.usd)),
        h('td', null, fmt.time(r.createdAt)),
        h('td', null, fmt.time(r.updatedAt))));
    }
    shown += page.runs.length;
    count.textContent = shown === 0 ? 'No runs match.' : shown + (shown === 1 ? ' run' : ' runs') + (page.nextCursor ? ' shown; more below.' : '.');
    more.hidden = !page.nextCursor;
    more.onclick = () => load(page.nextCursor);
  };
  await load(null);
}
`;

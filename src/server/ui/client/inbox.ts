/**
 * The inbox (`#/inbox`): what waits for a person, from `GET /api/inbox`. A
 * review entry (a tool call the model proposed) shows its input as a form
 * generated from the tool's JSON Schema, with Approve, Approve with edits and
 * Reject; a plain wait shows its data and one button per event it accepts.
 */
export const inboxJs = String.raw`
function entriesOf(body) {
  if (Array.isArray(body)) return body;
  return (body && (body.entries || body.items || body.inbox)) || [];
}

function sendEvent(entry, body, done) {
  return api('POST', '/api/runs/' + encodeURIComponent(entry.runId) + '/events', Object.assign(body, { step: entry.step }))
    .then((after) => { say('Sent ' + body.type + ' to run ' + entry.runId.slice(0, 13) + ': it is ' + after.status.replace('_', ' ') + '.'); done(); });
}

function reviewEntry(entry, n, done) {
  const form = schemaForm(entry.schema || {}, entry.proposed || {});
  const error = h('p', { class: 'error', role: 'alert' });
  const reasonId = 'reason-' + n;
  const reason = h('input', { id: reasonId, type: 'text', size: 40 });
  const edited = h('button', { type: 'button', class: 'primary', disabled: true }, 'Approve with edits');
  const update = () => { edited.disabled = !form.check(); };
  form.node.addEventListener('input', update);
  form.node.addEventListener('change', update);
  const act = (make) => async () => {
    error.textContent = '';
    let body;
    try { body = make(); } catch (e) { error.textContent = e.message; return; }
    try { await sendEvent(entry, body, done); } catch (e) { error.textContent = 'Could not send ' + body.type + ': ' + e.message; }
  };
  edited.addEventListener('click', act(() => ({ type: 'APPROVE', data: { input: form.read() } })));
  const approve = h('button', { type: 'button', class: 'primary', onclick: act(() => ({ type: 'APPROVE', data: { input: entry.proposed || {} } })) }, 'Approve');
  const reject = h('button', { type: 'button', class: 'danger', onclick: act(() => ({ type: 'REJECT', data: { reason: reason.value.trim() || 'rejected by reviewer' } })) }, 'Reject');
  return h('article', { class: 'entry', 'data-run': entry.runId, 'aria-labelledby': 'entry-' + n },
    h('h2', { id: 'entry-' + n }, 'Review ' + (entry.tool || 'tool call') + ' at ' + entry.step),
    h('p', { class: 'meta' }, h('a', { href: '#/runs/' + encodeURIComponent(entry.runId) }, 'run ' + entry.runId.slice(0, 13)), ' · ' + entry.workflow + ' · waiting since ' + fmt.time(entry.waitingSince)),
    entry.prompt ? h('p', null, entry.prompt) : null,
    entry.show !== undefined ? h('pre', null, fmt.json(entry.show)) : null,
    h('form', { 'aria-label': 'Proposed input of ' + (entry.tool || 'the tool'), onsubmit: (e) => e.preventDefault() }, form.node),
    error,
    h('div', { class: 'actions' }, approve, edited,
      h('div', { class: 'field' }, h('label', { for: reasonId }, 'Reason (for Reject)'), reason), reject));
}

function waitEntry(entry, n, done) {
  const error = h('p', { class: 'error', role: 'alert' });
  return h('article', { class: 'entry', 'data-run': entry.runId, 'aria-labelledby': 'entry-' + n },
    h('h2', { id: 'entry-' + n }, 'Waiting at ' + entry.step),
    h('p', { class: 'meta' }, h('a', { href: '#/runs/' + encodeURIComponent(entry.runId) }, 'run ' + entry.runId.slice(0, 13)), ' · ' + entry.workflow + ' · waiting since ' + fmt.time(entry.waitingSince)),
    entry.prompt ? h('p', null, entry.prompt) : null,
    entry.show !== undefined ? h('pre', null, fmt.json(entry.show)) : null,
    error,
    h('div', { class: 'actions' }, (entry.events || []).map((type) => h('button', { type: 'button', class: type === 'REJECT' ? 'danger' : 'primary', 'data-event': type,
      onclick: () => sendEvent(entry, { type }, done).catch((e) => { error.textContent = 'Could not send ' + type + ': ' + e.message; }) }, type))));
}

async function showInbox() {
  const list = h('div', { id: 'inbox' });
  mount(h('section', null, h('h1', null, 'Inbox'), list), 'Inbox');
  const load = async () => {
    let body;
    try { body = await api('GET', '/api/inbox'); } catch (e) {
      if (e.status === 404) list.replaceChildren(h('p', null, 'This server has no inbox (GET /api/inbox answered 404). Waiting runs can be answered from their run page.'));
      else if (e.status !== 401) list.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'Could not load the inbox: ' + e.message));
      return;
    }
    const entries = entriesOf(body);
    list.replaceChildren();
    append(list, entries.length === 0 ? h('p', null, 'Nothing waits for you.') : entries.map((entry, i) => (entry.kind === 'review' ? reviewEntry(entry, i, load) : waitEntry(entry, i, load))));
  };
  await load();
}
`;

/**
 * The browser script's core: building elements (never from HTML strings, so
 * data from runs is always text), API calls with the session's CSRF token,
 * the login form, and the hash router. Plain ES2020, no template literals
 * (the source sits in a String.raw literal).
 */
export const coreJs = String.raw`
const ui = { csrf: null, by: null, cleanup: [] };

function h(tag, attrs) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (let i = 2; i < arguments.length; i++) append(el, arguments[i]);
  return el;
}
function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
}

const fmt = {
  int: (n) => (n === null || n === undefined ? '0' : Number(n).toLocaleString('en-US')),
  usd: (n) => '$' + Number(n || 0).toFixed(4),
  ms: (n) => (n === null || n === undefined ? '–' : n < 1000 ? Math.round(n) + ' ms' : (n / 1000).toFixed(2) + ' s'),
  time: (ms) => (ms ? new Date(ms).toLocaleString('en-GB', { hour12: false }) : '–'),
  json: (v) => JSON.stringify(v, null, 2),
};

function badge(status) { return h('span', { class: 'badge ' + status }, status.replace('_', ' ')); }

function say(text) { document.getElementById('status').textContent = text; }

class ApiFailure extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error.message : 'HTTP ' + status);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && ui.csrf) headers['X-CSRF-Token'] = ui.csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try { json = await res.json(); } catch (e) { json = null; }
  if (res.status === 401 && path !== '/api/session') { showLogin('Your session ended: sign in again.'); }
  if (!res.ok) throw new ApiFailure(res.status, json);
  return json;
}

function mount(node, title) {
  const main = document.getElementById('main');
  main.replaceChildren(node);
  document.title = title ? title + ' · Stepwise' : 'Stepwise';
  main.focus();
}

function setNav(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').textContent = signedIn && ui.by ? 'signed in as ' + ui.by : '';
  const here = location.hash.startsWith('#/inbox') ? '#/inbox' : '#/runs';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function showLogin(message) {
  stopView();
  ui.csrf = null;
  setNav(false);
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' }, message || '');
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'login-error' });
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title', onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = '';
    try {
      const session = await api('POST', '/api/session', { token: input.value });
      input.value = '';
      signedIn(session);
    } catch (e) {
      error.textContent = e.status === 401 ? 'That token is not valid.' : 'Could not sign in: ' + e.message;
      input.focus();
    }
  } },
    h('h1', { id: 'login-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste an API token of this server (the one stepwise serve was given). It is sent once; the browser then keeps a session cookie.'),
    h('div', null, h('label', { for: 'token' }, 'API token'), input),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  mount(form, 'Sign in');
  input.focus();
}

function signedIn(session) {
  ui.csrf = session.csrfToken;
  ui.by = session.by;
  setNav(true);
  route();
}

function stopView() {
  for (const stop of ui.cleanup.splice(0)) stop();
}

function route() {
  if (!ui.by) return;
  stopView();
  say('');
  setNav(true);
  const hash = location.hash || '#/runs';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  const view = parts[0] === 'inbox' ? showInbox() : parts[0] === 'runs' && parts[1] ? showRun(decodeURIComponent(parts[1])) : showRuns(params);
  view.catch((e) => { if (e.status !== 401) mount(h('p', { class: 'error', role: 'alert' }, 'Could not load: ' + e.message), 'Error'); });
}

async function boot() {
  window.addEventListener('hashchange', route);
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('DELETE', '/api/session'); } catch (e) { /* signed out anyway */ }
    ui.by = null;
    showLogin('You are signed out.');
  });
  try {
    signedIn(await api('GET', '/api/session'));
  } catch (e) {
    showLogin('');
  }
}
`;

// The dashboard: log-in, then the overview (platform health, latency, the caller's signals, correlation).
// Every request goes to this API; the session cookie is HttpOnly, and each change carries the CSRF token the
// log-in set in the tradestream_csrf cookie (X-CSRF-Token). Times are shown in New York time.
'use strict';

const ET = new Intl.DateTimeFormat('en-US', {timeZone: 'America/New_York', hour12: false, year: 'numeric',
  month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'});
const $ = (id) => document.getElementById(id);
const timers = [];

function cookie(name) {
  const found = document.cookie.split('; ').find((part) => part.startsWith(name + '='));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : '';
}

async function api(path, options = {}) {
  const method = options.method || 'GET';
  const headers = {Accept: 'application/json', ...(options.headers || {})};
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = cookie('tradestream_csrf');
  const response = await fetch(path, {method, headers, credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body)});
  if (response.status === 401 && !options.allow401) { showLogin(); }
  return response;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function etTime(iso) { return ET.format(new Date(iso)).replace(',', ''); }

// Theme ------------------------------------------------------------------------------------------------------
function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  $('theme-toggle').textContent = theme === 'dark' ? 'Light' : 'Dark';
}
applyTheme(localStorage.getItem('theme') || 'dark');
$('theme-toggle').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('theme', next);
  applyTheme(next);
});

// Log-in -----------------------------------------------------------------------------------------------------
function showLogin() {
  timers.splice(0).forEach(clearInterval);
  if (typeof stopLive === 'function') stopLive();
  if (typeof clearSignals === 'function') clearSignals();
  clearAccounts();
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('login-name').focus();
}

function clearErrors() {
  for (const field of ['name', 'password']) {
    $(`login-${field}-error`).textContent = '';
    $(`login-${field}`).removeAttribute('aria-invalid');
  }
  $('login-error').textContent = '';
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const body = {name: $('login-name').value.trim(), password: $('login-password').value};
  let missing = false;
  for (const field of ['name', 'password']) {
    if (!body[field]) {
      $(`login-${field}-error`).textContent = 'required';
      $(`login-${field}`).setAttribute('aria-invalid', 'true');
      missing = true;
    }
  }
  if (missing) return;
  $('login-submit').disabled = true;
  try {
    const response = await api('/api/auth/login', {method: 'POST', body, allow401: true});
    const answer = await response.json();
    if (response.ok) {
      $('login-password').value = '';
      showApp(answer);
    } else if (response.status === 400 && answer.errors) {
      for (const error of answer.errors) {
        const where = $(`login-${error.field}-error`) || $('login-error');
        where.textContent = error.message;
        const input = $(`login-${error.field}`);
        if (input) input.setAttribute('aria-invalid', 'true');
      }
    } else {
      $('login-error').textContent = answer.detail || `log-in failed (${response.status})`;
    }
  } catch (error) {
    $('login-error').textContent = 'the API cannot be reached';
  } finally {
    $('login-submit').disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  await api('/api/auth/logout', {method: 'POST', allow401: true});
  showLogin();
});

// Pages ------------------------------------------------------------------------------------------------------
function showPage() {
  const page = (location.hash || '#overview').slice(1);
  const known = [...document.querySelectorAll('main.page')].map((main) => main.id);
  const shown = known.includes(page) ? page : 'overview';
  for (const id of known) $(id).hidden = id !== shown;
  for (const link of document.querySelectorAll('#pages a')) {
    link.classList.toggle('active', link.dataset.page === shown);
  }
}
window.addEventListener('hashchange', showPage);

// Overview ---------------------------------------------------------------------------------------------------
function showApp(me) {
  role = me.role;
  $('who').textContent = `${me.name} (${me.role})`;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  showPage();
  refreshAll();
  if (typeof startLive === 'function') startLive();
  if (typeof refreshStrategies === 'function') refreshStrategies();
  if (typeof refreshRiskAccounts === 'function') refreshRiskAccounts();
  if (typeof refreshSettings === 'function' && location.hash === '#settings') refreshSettings();
  timers.push(setInterval(refreshHealth, 2000), setInterval(refreshLatency, 5000), setInterval(refreshHeatmap, 10000),
              setInterval(refreshFeeds, 5000),
              setInterval(() => { $('clock').textContent = etTime(new Date().toISOString()) + ' ET'; }, 1000));
}

function refreshAll() {
  $('clock').textContent = etTime(new Date().toISOString()) + ' ET';
  refreshHealth(); refreshAccounts(); refreshSignals(); refreshLatency(); refreshHeatmap();
  if (typeof refreshFeeds === 'function') refreshFeeds();
}

// Accounts and the kill switch: a trip or a reset needs a reason and a second, confirming click.
let role = 'viewer';
const SWITCH = {
  trip: {kind: 'tripped', why: 'say why trading stops', label: 'Trip kill switch…', cls: 'stop'},
  reset: {kind: 'reset', why: 'say why trading may resume', label: 'Reset kill switch…', cls: 'danger'},
};

function nsTime(ns) { return etTime(new Date(ns / 1e6).toISOString()); }

function switchState(a) {
  const trip = a.last_kill_switch_trip;
  const reset = a.last_kill_switch_reset;
  if (trip && (!reset || trip.ts_event_ns > reset.ts_event_ns)) return 'tripped by hand';
  return reset ? 'reset' : 'not tripped by hand';
}

function change(c) { return c ? `${nsTime(c.ts_event_ns)} by ${c.operator}: ${c.reason}` : 'never'; }

// The card is live: a risk decision the websocket brings for an account replaces the figures it shows (equity and
// open risk are as of the account's last decision, the same decision GET /api/accounts would answer), and a trade
// of the account closing today refetches the card (debounced), again until the answer's sum holds that close (the
// sink stores the trade a moment after the websocket brings it). Fills change none of the card's figures.
const accountRows = new Map();     // account_id -> its row as the API answered it, with any newer live decision
const closesAwaited = new Map();   // account_id -> the newest closing time (ns) not yet in the API's sum
const ACCOUNTS_DEBOUNCE_MS = 300;
const ACCOUNTS_TRIES = 8;          // refetches for one close, 0.3 s apart doubling (about a minute in all)
const accountsRefetch = {timer: null, tries: 0};

async function refreshAccounts() {
  const response = await api('/api/accounts');
  if (!response.ok) return;
  const answered = await response.json();
  const held = new Map(accountRows);
  accountRows.clear();
  for (const account of answered) {
    const live = held.get(account.account_id)?.last_risk_decision;
    const stored = account.last_risk_decision;
    if (live && (!stored || live.ts_event_ns > stored.ts_event_ns)) account.last_risk_decision = live;
    accountRows.set(account.account_id, account);
    const today = account.closed_today;
    const awaited = closesAwaited.get(account.account_id);
    if (awaited !== undefined && today.last_closed_ns !== null && today.last_closed_ns >= awaited) {
      closesAwaited.delete(account.account_id);
    }
  }
  for (const account of closesAwaited.keys()) if (!accountRows.has(account)) closesAwaited.delete(account);
  renderAccounts();
  if (closesAwaited.size && accountsRefetch.tries < ACCOUNTS_TRIES) {
    scheduleAccounts(ACCOUNTS_DEBOUNCE_MS * 2 ** accountsRefetch.tries);
  }
}

function scheduleAccounts(delayMs) {
  clearTimeout(accountsRefetch.timer);
  accountsRefetch.tries += 1;
  accountsRefetch.timer = setTimeout(refreshAccounts, delayMs);
}

// A RiskDecisionMade from the websocket (api.live, type risk): the account's figures as of it.
function onRiskDecision(decision) {
  const account = accountRows.get(decision.account_id);
  if (!account) return;
  const shown = account.last_risk_decision;
  if (shown && shown.ts_event_ns > decision.ts_event) return;
  account.last_risk_decision = {ts_event_ns: decision.ts_event, equity: decision.equity,
    open_risk: decision.open_risk_after, kill_switch_tripped: decision.kill_switch_tripped,
    kill_switch_reason: decision.kill_switch_reason};
  renderAccounts();
}

// A TradeUpdated from the websocket: a trade closed today changes the account's realised P&L; refetch it.
function onAccountTrade(trade) {
  const account = accountRows.get(trade.account_id);
  if (!account || trade.status !== 'Closed' || trade.closed_ns === null || trade.closed_ns === undefined) return;
  if (trade.closed_ns < account.closed_today.since_ns) return;   // closed before today: not in the figure
  closesAwaited.set(trade.account_id, Math.max(closesAwaited.get(trade.account_id) || 0, trade.closed_ns));
  accountsRefetch.tries = 0;
  scheduleAccounts(ACCOUNTS_DEBOUNCE_MS);
}

function clearAccounts() {
  clearTimeout(accountsRefetch.timer);
  accountRows.clear();
  closesAwaited.clear();
  renderAccounts();
}

function renderAccounts() {
  $('accounts').replaceChildren(...[...accountRows.values()].map((a) => {
    const tr = document.createElement('tr');
    tr.dataset.account = a.account_id;
    const state = switchState(a);
    const decision = a.last_risk_decision;
    const risk = decision && decision.kill_switch_tripped
      ? `; risk stage: tripped (${decision.kill_switch_reason})` : '';
    const money = centsText;   // decimal.js: exact, to the cent
    const today = a.closed_today;
    tr.append(cell(a.account_id), cell(decision ? money(decision.equity) : '', 'num equity'),
              cell(decision ? money(decision.open_risk) : '', 'num open-risk'),
              cell(`${money(today.net_pnl)} (${today.trades})`, 'num day-pnl ' + signed(today.net_pnl)),
              cell(state + risk, state.startsWith('tripped') || risk ? 'down switch-state' : 'switch-state'),
              cell(change(a.last_kill_switch_trip)), cell(change(a.last_kill_switch_reset)));
    const action = document.createElement('td');
    if (role !== 'viewer') {
      for (const [what, how] of Object.entries(SWITCH)) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = `${how.cls} ${what}-switch`;
        button.textContent = how.label;
        button.addEventListener('click', () => openSwitch(what, a.account_id));
        action.append(button, ' ');
      }
    }
    tr.append(action);
    return tr;
  }));
}

function openSwitch(what, account) {
  for (const other of Object.keys(SWITCH)) $(`${other}-form`).hidden = true;
  $(`${what}-account`).textContent = account;
  $(`${what}-reason`).value = '';
  $(`${what}-reason-error`).textContent = '';
  $('switch-result').textContent = '';
  $(`${what}-form`).hidden = false;
  $(`${what}-reason`).focus();
}

for (const [what, how] of Object.entries(SWITCH)) {
  $(`${what}-cancel`).addEventListener('click', () => { $(`${what}-form`).hidden = true; });
  $(`${what}-form`).addEventListener('submit', async (event) => {
    event.preventDefault();
    const account = $(`${what}-account`).textContent;
    const reason = $(`${what}-reason`).value.trim();
    const error = $(`${what}-reason-error`);
    error.textContent = '';
    if (!reason) {
      error.textContent = how.why;
      return;
    }
    $(`${what}-confirm`).disabled = true;
    try {
      const response = await api(`/api/accounts/${encodeURIComponent(account)}/kill-switch/${what}`,
                                 {method: 'POST', body: {reason}});
      const body = await response.json();
      if (response.status === 202) {
        $(`${what}-form`).hidden = true;
        $('switch-result').textContent = `Kill switch of ${account} ${how.kind} at ${nsTime(body.ts_event_ns)} ET by ` +
          `${body.operator}: ${body.reason}`;
        refreshAccounts();
      } else if (body.errors) {
        error.textContent = body.errors.map((e) => e.message).join('; ');
      } else {
        error.textContent = body.detail || `the ${what} failed (${response.status})`;
      }
    } finally {
      $(`${what}-confirm`).disabled = false;
    }
  });
}

async function refreshHealth() {
  const response = await api('/api/health');
  const body = await response.json();
  $('overall').textContent = body.status;
  $('overall').className = 'badge ' + body.status;
  $('rows').replaceChildren(...Object.entries(body.components || {}).map(([name, c]) => {
    const tr = document.createElement('tr');
    tr.append(cell(name), cell(c.status, c.status), cell(c.detail));
    return tr;
  }));
}

async function refreshLatency() {
  const response = await api('/api/metrics/latency');
  if (!response.ok) return;
  if (typeof showLatency === 'function') showLatency(await response.json());  // overview.js
}

// The newest signals as the API answers them, when the dashboard starts and when the live updates connect again;
// the websocket brings each one after that (overview.js).
async function refreshSignals() {
  const response = await api(`/api/signals?limit=${MAX_SIGNALS_SHOWN}`);
  if (!response.ok) return;
  showSignals(await response.json());  // overview.js
}

function colour(value) {
  if (value === null) return '#30363d';
  const v = Math.max(-1, Math.min(1, value));
  return v >= 0 ? `rgb(${Math.round(200 - 140 * v)}, ${Math.round(200 + 20 * v)}, ${Math.round(200 - 120 * v)})`
                : `rgb(${Math.round(200 - 20 * v)}, ${Math.round(200 + 110 * v)}, ${Math.round(200 + 110 * v)})`;
}

async function refreshHeatmap() {
  const response = await api('/api/correlation?bars=20&symbols=' + encodeURIComponent($('symbols').value));
  if (!response.ok) return;
  const body = await response.json();
  $('asof').textContent = body.as_of ? 'as of ' + etTime(body.as_of) + ' ET' : 'no bars yet';
  const head = document.createElement('tr');
  head.append(document.createElement('th'), ...body.symbols.map((s) => {
    const th = document.createElement('th'); th.textContent = s; return th;
  }));
  const rows = body.matrix.map((row, i) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th'); th.textContent = body.symbols[i]; tr.append(th);
    for (const value of row) {
      const td = cell(value === null ? '–' : value.toFixed(2)); td.style.background = colour(value); tr.append(td);
    }
    return tr;
  });
  $('heatmap').replaceChildren(head, ...rows);
}
$('symbols').addEventListener('change', refreshHeatmap);

// Deals ------------------------------------------------------------------------------------------------------
function dealsQuery() {
  const query = new URLSearchParams({from: $('deals-from').value.trim(), to: $('deals-to').value.trim()});
  for (const field of ['account', 'strategy']) {
    const value = $(`deals-${field}`).value.trim();
    if (value) query.set(field, value);
  }
  return query;
}

// 'gain', 'loss' or '' for an amount's decimal string, by its exact sign (decimal.js).
function signed(text) {
  const units = text === '' ? 0n : toUnits(text);
  return units > 0n ? 'gain' : units < 0n ? 'loss' : '';
}

$('deals-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const id of ['deals-from-error', 'deals-to-error', 'deals-error']) $(id).textContent = '';
  $('deals-export').setAttribute('aria-disabled', 'true');
  const query = dealsQuery();
  const response = await api('/api/deals?' + query);
  const body = await response.json();
  if (!response.ok) {
    for (const error of body.errors || [{field: '', message: body.detail}]) {
      ($(`deals-${error.field}-error`) || $('deals-error')).textContent = error.message;
    }
    $('deals-rows').replaceChildren();
    return;
  }
  $('deals-rows').replaceChildren(...body.map((d) => {
    const tr = document.createElement('tr');
    tr.append(cell(etTime(d.entry_time)), cell(d.strategy), cell(d.symbol), cell(d.signal_type),
              cell(String(d.entry_qty), 'num'), cell(String(d.exit_qty), 'num'), cell(d.entry_price, 'num'),
              cell(d.exit_price || '', 'num'), cell(d.net_pnl, 'num ' + signed(d.net_pnl)),
              cell(d.net_pnl_pct, 'num ' + signed(d.net_pnl_pct)), cell(d.status));
    return tr;
  }));
  $('deals-summary').textContent = `${body.length} deal(s)`;
  query.set('format', 'csv');
  $('deals-export').href = '/api/deals?' + query;
  $('deals-export').setAttribute('aria-disabled', 'false');
});

// Start: the overview when a session is live, else the log-in.
(async () => {
  try {
    const response = await api('/api/auth/me', {allow401: true});
    if (response.ok) showApp(await response.json()); else showLogin();
  } catch (error) {
    showLogin();
    $('login-error').textContent = 'the API cannot be reached';
  }
})();

// The risk settings page: one of the caller's accounts, its settings as the last change recorded them (GET
// /api/accounts/{id}/settings), one field per setting, and a change published with a reason (PUT): the API reads
// the settings as `tradestream account change` does, and each problem (`settings.limits.max_drawdown_pct`, ...) is
// shown beside its setting. Lists are edited as JSON. Uses $, api and nsTime of app.js.
'use strict';

// The settings of an account that has no recorded change yet: examples/accounts/paper.yaml's, as a start.
const EXAMPLE_ACCOUNT = {
  broker: 'paper', currency: 'USD', starting_capital: '100000', good_faith_violations_refused: true,
  pattern_day_trader_minimum_equity: '25000', what_if_margin: false,
  regimes: [{from: '2025-01-01', regime: 'legacy_pdt'}, {from: '2026-06-04', regime: 'intraday_margin'}],
  margin: {initial_pct: '50', maintenance_pct: '25'},
  limits: {max_loss_per_trade: '500', max_loss_per_trade_pct: '1', max_open_risk: '2000', max_drawdown_pct: '3',
           max_active_trades: 5, max_trades_per_day: 20, max_position_pct: '25', max_capital_utilized_pct: '100',
           stop_breach_policy: 'reject'},
};
const riskInputs = new Map();  // setting path -> {input, kind}

function riskId(path) { return `rs-${path.replaceAll('.', '-')}`; }

function riskField(path, value) {
  const kind = Array.isArray(value) ? 'json' : typeof value;
  const label = document.createElement('label');
  label.className = `field${kind === 'json' ? ' wide' : ''}${kind === 'boolean' ? ' check' : ''}`;
  const input = document.createElement(kind === 'json' ? 'textarea' : 'input');
  input.id = riskId(path);
  if (kind === 'boolean') { input.type = 'checkbox'; input.checked = value; }
  else input.value = kind === 'json' ? JSON.stringify(value) : String(value);
  if (path === 'account_id') input.readOnly = true;
  const error = document.createElement('span');
  error.className = 'field-error';
  error.id = `${riskId(path)}-error`;
  label.append(path, input, error);
  riskInputs.set(path, {input, kind});
  return label;
}

// One field per setting, the account first, then by name (PostgreSQL's jsonb keeps its own order of keys).
function riskFields(settings, prefix = '') {
  const order = (key) => (key === 'account_id' ? '' : key);
  const entries = Object.entries(settings).sort(([a], [b]) => order(a).localeCompare(order(b)));
  return entries.flatMap(([key, value]) => (
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? riskFields(value, `${prefix}${key}.`) : [riskField(`${prefix}${key}`, value)]));
}

function riskSettings() {
  const settings = {};
  const problems = [];
  for (const [path, {input, kind}] of riskInputs) {
    let value;
    if (kind === 'boolean') value = input.checked;
    else if (kind === 'number') {
      const text = input.value.trim();
      value = /^-?\d+$/.test(text) ? Number(text) : text;
    }
    else if (kind === 'json') {
      try { value = JSON.parse(input.value); } catch (error) {
        problems.push({field: `settings.${path}`, message: `must be JSON: ${error.message}`});
        continue;
      }
    } else value = input.value.trim();
    const keys = path.split('.');
    let node = settings;
    for (const key of keys.slice(0, -1)) node = node[key] = node[key] || {};
    node[keys[keys.length - 1]] = value;
  }
  return {settings, problems};
}

function showRiskErrors(errors) {
  for (const error of errors) {
    if (error.field === 'reason') { $('risk-reason-error').textContent = error.message; continue; }
    // The setting the error names, or the nearest section or list holding it (regimes[1].from: regimes).
    let path = error.field.replace(/^settings\.?/, '');
    let target = null;
    while (path && !(target = $(`${riskId(path)}-error`))) path = path.replace(/(\.[^.]*|\[\d+\][^.[]*)$/, '');
    if (!target) { $('risk-error').textContent += `${error.field}: ${error.message}\n`; continue; }
    target.textContent += (error.field === `settings.${path}` ? '' : `${error.field}: `) + error.message + '\n';
    riskInputs.get(path).input.setAttribute('aria-invalid', 'true');
  }
}

async function refreshRiskAccounts() {
  const response = await api('/api/accounts');
  if (!response.ok) return;
  $('risk-save').hidden = role === 'viewer';
  const chosen = $('risk-account').value;
  $('risk-account').replaceChildren(...(await response.json()).map((a) => new Option(a.account_id, a.account_id)));
  if (chosen) $('risk-account').value = chosen;
}

$('risk-load').addEventListener('submit', async (event) => {
  event.preventDefault();
  const account = $('risk-account').value;
  $('risk-result').textContent = '';
  if (!account) { $('risk-source').textContent = 'you own no account'; return; }
  const response = await api(`/api/accounts/${encodeURIComponent(account)}/settings`);
  const body = await response.json();
  let settings;
  if (response.ok) {
    settings = body.settings;
    $('risk-source').textContent = `In force since ${nsTime(body.ts_event_ns)} ET, set by ${body.operator}: ` +
      body.reason;
  } else if (response.status === 404) {
    settings = {account_id: account, ...EXAMPLE_ACCOUNT};
    $('risk-source').textContent = 'No change recorded: the account file its runner started with is in force. ' +
      "Below are the example account's settings, to adapt before publishing.";
  } else {
    $('risk-source').textContent = body.detail || `the settings could not be read (${response.status})`;
    return;
  }
  riskInputs.clear();
  $('risk-fields').replaceChildren(...riskFields(settings));
  $('risk-reason').value = '';
  $('risk-reason-error').textContent = '';
  $('risk-error').textContent = '';
  $('risk-form').hidden = false;
});

$('risk-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const {input} of riskInputs.values()) input.removeAttribute('aria-invalid');
  for (const error of document.querySelectorAll('#risk-form .field-error')) error.textContent = '';
  $('risk-error').textContent = '';
  $('risk-result').textContent = '';
  const {settings, problems} = riskSettings();
  const reason = $('risk-reason').value.trim();
  if (!reason) problems.push({field: 'reason', message: 'required: say why the settings change'});
  if (problems.length) { showRiskErrors(problems); return; }
  const account = settings.account_id;
  $('risk-save').disabled = true;
  try {
    const response = await api(`/api/accounts/${encodeURIComponent(account)}/settings`,
                               {method: 'PUT', body: {reason, settings}});
    const body = await response.json();
    if (response.status === 202) {
      $('risk-result').textContent = `Settings of ${account} published at ${nsTime(body.ts_event_ns)} ET by ` +
        `${body.operator}: ${body.reason}`;
    } else if (body.errors) {
      showRiskErrors(body.errors);
    } else {
      $('risk-error').textContent = body.detail || `the settings were not published (${response.status})`;
    }
  } finally {
    $('risk-save').disabled = false;
  }
});

window.addEventListener('hashchange', () => { if (location.hash === '#risk') refreshRiskAccounts(); });

// The strategies page: the caller's scanners, a form with every setting to create or edit one, and enabling or
// disabling it. The API validates (POST /api/scanners, PUT /api/scanners/{name}, POST /api/scanners/validate):
// each field error is shown beside its setting, and a rule's error marks the character at its position in the
// rule editor. Uses $, api, cell and etTime of app.js.
'use strict';

const FIELDS = [
  // [setting, kind, choices]: text, int, bool, list (comma-separated), choice, rules (one per line), section (JSON)
  ['name', 'text'], ['type', 'choice', ['intraday', 'positional']],
  ['instrument', 'choice', ['equity', 'etf', 'option', 'futures']], ['strategy', 'choice', ['rules', 'correlation']],
  ['direction', 'choice', ['long', 'short', 'both']], ['mode', 'choice', ['virtual', 'live']],
  ['symbols', 'list'], ['primary', 'text'], ['correlated', 'text'], ['timeframe', 'text'], ['interval', 'text'],
  ['days', 'list'], ['start_time', 'text'], ['end_time', 'text'], ['extended_hours', 'bool'],
  ['max_signals_per_day', 'int'], ['max_signals_per_symbol', 'int'], ['expiry', 'text'],
  ['entry_rules', 'rules'], ['exit_rules', 'rules'], ['order', 'section'], ['risk', 'section'], ['trade', 'section'],
  ['sanity', 'section'], ['charges', 'section'], ['option', 'section'], ['futures', 'section'],
];
const TEMPLATE = {
  name: '', type: 'intraday', instrument: 'equity', strategy: 'rules', direction: 'long', mode: 'virtual',
  symbols: ['SPY'], timeframe: '15m', interval: '5m', days: 'all', max_signals_per_day: 5, max_signals_per_symbol: 2,
  entry_rules: [], exit_rules: [], order: {exchange: 'SMART', order_type: 'market', product: 'margin', quantity: 10},
};
let editing = null;  // the name of the strategy being edited; null for a new one

function field(name) { return $(`sf-${name}`); }

function buildForm() {
  $('strategy-fields').replaceChildren(...FIELDS.map(([name, kind, choices]) => {
    const label = document.createElement('label');
    label.className = `field${kind === 'rules' || kind === 'section' ? ' wide' : ''}${kind === 'bool' ? ' check' : ''}`;
    let input;
    if (kind === 'choice') {
      input = document.createElement('select');
      input.append(...choices.map((choice) => new Option(choice, choice)));
    } else if (kind === 'rules' || kind === 'section') {
      input = document.createElement('textarea');
      input.rows = kind === 'rules' ? 3 : 2;
      input.spellcheck = false;
    } else {
      input = document.createElement('input');
      if (kind === 'bool') input.type = 'checkbox';
    }
    input.id = `sf-${name}`;
    input.name = name;
    const error = document.createElement('span');
    error.className = 'field-error';
    error.id = `sf-${name}-error`;
    label.append(name.replaceAll('_', ' '), input, error);
    if (kind === 'rules') {
      const marks = document.createElement('div');
      marks.id = `sf-${name}-marks`;
      label.append(marks);
    }
    return label;
  }));
}

function fill(config) {
  for (const [name, kind] of FIELDS) {
    const value = config[name];
    const input = field(name);
    if (kind === 'bool') input.checked = Boolean(value);
    else if (value === undefined || value === null) input.value = kind === 'choice' ? input.options[0].value : '';
    else if (kind === 'list') input.value = Array.isArray(value) ? value.join(', ') : String(value);
    else if (kind === 'rules') input.value = value.join('\n');
    else if (kind === 'section') input.value = JSON.stringify(value, null, 1);
    else input.value = String(value);
    if (kind === 'section' || kind === 'rules') {
      input.rows = Math.max(2, Math.min(12, input.value.split('\n').length + 1));
    }
  }
}

// The settings as written in the form; {error} for a section that is not JSON (said beside it, nothing sent).
function collect() {
  const body = {};
  const problems = [];
  for (const [name, kind] of FIELDS) {
    const input = field(name);
    const text = kind === 'bool' ? '' : input.value;
    if (kind === 'bool') { body[name] = input.checked; continue; }
    if (kind === 'rules') {
      body[name] = text.split('\n').map((rule) => rule.replace(/\s+$/, '')).filter(Boolean);
      continue;
    }
    if (!text.trim()) continue;
    if (kind === 'int') body[name] = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim();
    else if (kind === 'list') body[name] = name === 'days' && text.trim() === 'all' ? 'all'
      : text.split(',').map((item) => item.trim()).filter(Boolean);
    else if (kind === 'section') {
      try { body[name] = JSON.parse(text); } catch (error) {
        problems.push({field: name, message: `must be a JSON object of the ${name} settings: ${error.message}`});
      }
    } else body[name] = text.trim();
  }
  return {body, problems};
}

function clearFieldErrors() {
  for (const [name, kind] of FIELDS) {
    $(`sf-${name}-error`).textContent = '';
    field(name).removeAttribute('aria-invalid');
    if (kind === 'rules') $(`sf-${name}-marks`).replaceChildren();
  }
  $('strategy-error').textContent = '';
}

// A rule's error: the rule with the character at the error's position marked, and the message.
function markRule(name, index, position, message) {
  const rule = field(name).value.split('\n').map((line) => line.replace(/\s+$/, '')).filter(Boolean)[index] || '';
  const div = document.createElement('div');
  div.className = 'rule-error';
  div.dataset.rule = String(index);
  div.dataset.position = String(position);
  const code = document.createElement('code');
  const mark = document.createElement('mark');
  mark.textContent = rule.slice(position, position + 1) || ' ';
  code.append(rule.slice(0, position), mark, rule.slice(position + 1));
  div.append(`rule ${index + 1}, position ${position}: `, code, ` ${message.replace(/ at position \d+$/, '')}`);
  $(`sf-${name}-marks`).append(div);
}

function showErrors(errors) {
  for (const error of errors) {
    const top = (error.field.match(/^[^.[]*/) || [''])[0];
    const slot = top && $(`sf-${top}-error`);
    if (!slot) {
      $('strategy-error').textContent += (error.field ? `${error.field}: ` : '') + error.message + '\n';
      continue;
    }
    field(top).setAttribute('aria-invalid', 'true');
    const rule = error.field.match(/^(entry_rules|exit_rules)\[(\d+)\]$/);
    if (rule && error.position !== undefined) {
      markRule(rule[1], Number(rule[2]), error.position, error.message);
      continue;
    }
    slot.textContent += (error.field === top ? '' : `${error.field}: `) + error.message + '\n';
  }
}

async function submitStrategy(checkOnly) {
  clearFieldErrors();
  $('strategies-result').textContent = '';
  const {body, problems} = collect();
  if (problems.length) { showErrors(problems); return; }
  const path = checkOnly ? '/api/scanners/validate'
    : editing === null ? '/api/scanners' : `/api/scanners/${encodeURIComponent(editing)}`;
  const method = !checkOnly && editing !== null ? 'PUT' : 'POST';
  $('strategy-save').disabled = true;
  try {
    const response = await api(path, {method, body});
    const answer = await response.json();
    if (response.ok) {
      if (checkOnly) {
        $('strategies-result').textContent = 'The settings are valid';
        return;
      }
      $('strategy-editor').hidden = true;
      $('strategies-result').textContent = `Saved ${answer.name}, version ${answer.version}`;
      refreshStrategies();
    } else if (answer.errors) {
      showErrors(answer.errors);
    } else {
      $('strategy-error').textContent = answer.detail || `the strategy was not saved (${response.status})`;
    }
  } finally {
    $('strategy-save').disabled = false;
  }
}

function openEditor(name, config) {
  editing = name;
  clearFieldErrors();
  $('strategies-result').textContent = '';
  $('strategy-editor-title').textContent = name === null ? 'New strategy' : `Edit ${name}`;
  fill(config);
  field('name').readOnly = name !== null;  // a strategy keeps its name (its signals and trades carry it)
  $('strategy-editor').hidden = false;
  field('name').focus();
}

async function setEnabled(name, enabled) {
  const response = await api(`/api/scanners/${encodeURIComponent(name)}/enabled`, {method: 'PUT', body: {enabled}});
  const answer = await response.json();
  $('strategies-result').textContent = response.ok ? `${name} ${enabled ? 'enabled' : 'disabled'}`
    : (answer.detail || `not changed (${response.status})`);
  refreshStrategies();
}

async function refreshStrategies() {
  const response = await api('/api/scanners');
  if (!response.ok) return;
  const scanners = await response.json();
  $('strategy-new').hidden = role === 'viewer';
  $('strategies-rows').replaceChildren(...scanners.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.strategy = s.name;
    const c = s.config;
    tr.append(cell(s.name), cell(c.type), cell(c.instrument), cell((c.symbols || []).join(', ')), cell(c.timeframe),
              cell(c.direction), cell(c.mode), cell(String(s.version), 'num'), cell(etTime(s.updated_at)),
              cell(s.enabled ? 'enabled' : 'disabled', s.enabled ? 'enabled' : 'disabled'));
    const actions = document.createElement('td');
    if (role !== 'viewer') {
      const edit = document.createElement('button');
      edit.type = 'button'; edit.className = 'ghost edit'; edit.textContent = 'Edit';
      edit.addEventListener('click', () => openEditor(s.name, c));
      const toggle = document.createElement('button');
      toggle.type = 'button'; toggle.className = 'ghost toggle'; toggle.textContent = s.enabled ? 'Disable' : 'Enable';
      toggle.addEventListener('click', () => setEnabled(s.name, !s.enabled));
      actions.append(edit, ' ', toggle);
    }
    tr.append(actions);
    return tr;
  }));
}

buildForm();
$('strategy-new').addEventListener('click', () => openEditor(null, TEMPLATE));
$('strategy-cancel').addEventListener('click', () => { $('strategy-editor').hidden = true; });
$('strategy-check').addEventListener('click', () => submitStrategy(true));
$('strategy-form').addEventListener('submit', (event) => { event.preventDefault(); submitStrategy(false); });
window.addEventListener('hashchange', () => { if (location.hash === '#strategies') refreshStrategies(); });

// The universal settings page: every version of the settings (GET /api/settings), newest first, with when each
// takes effect and whether it is in force, scheduled or superseded; the newest version (or the defaults, before the
// first) in one field per setting, which an admin changes and publishes with a reason and an optional effective
// instant (PUT /api/settings): the same SettingsChanged event `tradestream settings change` publishes. Every problem
// the API names (`settings.capital`, `settings.extra_half_days[0]`, `effective_at`, ...) is shown beside its field.
// Others see the fields read-only. Uses $, api, cell and etTime of app.js.
'use strict';

const SETTING_FIELDS = [
  // [setting path, label, kind]; kind: text, time (ET "HH:MM"), dates (comma-separated), choice:<a|b>
  ['capital', 'Capital', 'text'],
  ['exchange', 'Exchange (holiday calendar)', 'choice:NYSE'],
  ['pre_market_open', 'Pre-market opens (ET)', 'time'],
  ['regular_open', 'Regular session opens (ET)', 'time'],
  ['regular_close', 'Regular session closes (ET)', 'time'],
  ['post_market_close', 'Post-market closes (ET)', 'time'],
  ['early_close', 'Half-day close (ET)', 'time'],
  ['early_post_market_close', 'Half-day post-market close (ET)', 'time'],
  ['extra_closed_dates', 'Extra closed dates (YYYY-MM-DD, comma-separated)', 'dates'],
  ['extra_half_days', 'Extra half-days (YYYY-MM-DD, comma-separated)', 'dates'],
  ['option_category_split.mode', 'Option split: mode', 'choice:count|percent'],
  ['option_category_split.itm_strikes', 'In-the-money strikes (count)', 'text'],
  ['option_category_split.otm_strikes', 'Out-of-the-money strikes (count)', 'text'],
  ['option_category_split.deep_strikes', 'Deep strikes (count)', 'text'],
  ['option_category_split.itm_pct', 'In-the-money % (percent)', 'text'],
  ['option_category_split.otm_pct', 'Out-of-the-money % (percent)', 'text'],
  ['option_category_split.deep_pct', 'Deep % (percent)', 'text'],
];
const SPLIT_KEYS = {count: ['itm_strikes', 'otm_strikes', 'deep_strikes'], percent: ['itm_pct', 'otm_pct', 'deep_pct']};

function settingId(path) { return `st-${path.replaceAll('.', '-')}`; }

function settingInput(path, label, kind, value, editable) {
  const wrapper = document.createElement('label');
  wrapper.className = `field${kind === 'dates' ? ' wide' : ''}`;
  let input;
  if (kind.startsWith('choice:')) {
    input = document.createElement('select');
    for (const option of kind.slice(7).split('|')) input.append(new Option(option, option));
  } else {
    input = document.createElement('input');
  }
  input.id = settingId(path);
  input.value = value === undefined || value === null ? '' : (Array.isArray(value) ? value.join(', ') : String(value));
  input.disabled = !editable;
  const error = document.createElement('span');
  error.className = 'field-error';
  error.id = `${settingId(path)}-error`;
  wrapper.append(label, input, error);
  return wrapper;
}

function valueAt(settings, path) {
  return path.split('.').reduce((node, key) => (node === undefined || node === null ? undefined : node[key]), settings);
}

function showSplitFields() {
  const mode = $(settingId('option_category_split.mode')).value;
  for (const key of [...SPLIT_KEYS.count, ...SPLIT_KEYS.percent]) {
    $(settingId(`option_category_split.${key}`)).closest('label').hidden = !SPLIT_KEYS[mode].includes(key);
  }
}

function readSettingsForm() {
  const settings = {option_category_split: {}};
  for (const [path, , kind] of SETTING_FIELDS) {
    const input = $(settingId(path));
    if (input.closest('label').hidden) continue;
    const text = input.value.trim();
    let value = text;
    if (kind === 'dates') value = text ? text.split(',').map((day) => day.trim()).filter(Boolean) : [];
    else if (/_strikes$/.test(path) && /^\d+$/.test(text)) value = Number(text);
    const [head, tail] = path.split('.');
    if (tail) settings[head][tail] = value; else settings[head] = value;
  }
  return settings;
}

function clearSettingsErrors() {
  for (const error of document.querySelectorAll('#settings-form .field-error')) error.textContent = '';
  for (const input of document.querySelectorAll('#settings-form [aria-invalid]')) input.removeAttribute('aria-invalid');
  $('settings-error').textContent = '';
  $('settings-result').textContent = '';
}

function showSettingsErrors(errors) {
  for (const error of errors) {
    if (error.field === 'reason' || error.field === 'effective_at') {
      const id = error.field === 'reason' ? 'settings-reason' : 'settings-effective';
      $(`${id}-error`).textContent += error.message + '\n';
      $(id).setAttribute('aria-invalid', 'true');
      continue;
    }
    // The setting named, or the nearest one holding it (extra_half_days[0]: extra_half_days).
    let path = error.field.replace(/^settings\.?/, '');
    let target = null;
    while (path && !(target = $(`${settingId(path)}-error`))) path = path.replace(/(\.[^.]*|\[\d+\][^.[]*)$/, '');
    if (!target) { $('settings-error').textContent += `${error.field}: ${error.message}\n`; continue; }
    target.textContent += (error.field === `settings.${path}` ? '' : `${error.field.replace(/^settings\./, '')}: `) +
      error.message + '\n';
    $(settingId(path)).setAttribute('aria-invalid', 'true');
  }
}

function renderVersions(versions) {
  $('settings-versions').replaceChildren(...versions.map((v) => {
    const tr = document.createElement('tr');
    tr.dataset.version = v.version;
    const s = v.settings;
    const hours = `${s.pre_market_open} / ${s.regular_open}–${s.regular_close} / ${s.post_market_close}`;
    const days = [s.extra_closed_dates.length ? `closed ${s.extra_closed_dates.join(', ')}` : '',
      s.extra_half_days.length ? `half ${s.extra_half_days.join(', ')}` : ''].filter(Boolean).join('; ');
    tr.append(cell(String(v.version), 'num'), cell(etTime(v.effective_at)),
              cell(v.state, `version-state ${v.state === 'in force' ? 'up' : v.state === 'scheduled' ? 'lagging' : 'muted'}`),
              cell(v.made_ns ? nsTime(v.made_ns) : ''), cell(v.operator), cell(v.reason), cell(s.capital, 'num'),
              cell(hours), cell(days));
    return tr;
  }));
}

async function refreshSettings() {
  const response = await api('/api/settings');
  const body = await response.json();
  if (!response.ok) {
    $('settings-source').textContent = body.detail || `the settings could not be read (${response.status})`;
    return;
  }
  renderVersions(body.versions);
  const newest = body.versions[0];
  const inForce = body.versions.find((v) => v.state === 'in force');
  $('settings-source').textContent = newest
    ? `Version ${inForce ? inForce.version : 'none'} is in force; the fields show version ${newest.version}` +
      ` (${newest.state}), in force from ${etTime(newest.effective_at)} ET.`
    : 'No version published yet: the fields show the defaults, to adapt before publishing the first version.';
  const settings = newest ? newest.settings : body.template;
  $('settings-fields').replaceChildren(...SETTING_FIELDS.map(([path, label, kind]) => (
    settingInput(path, label, kind, valueAt(settings, path), body.may_edit))));
  $(settingId('option_category_split.mode')).addEventListener('change', showSplitFields);
  showSplitFields();
  $('settings-edit').hidden = !body.may_edit;
  $('settings-viewonly').hidden = body.may_edit;
  clearSettingsErrors();
}

$('settings-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearSettingsErrors();
  const reason = $('settings-reason').value.trim();
  if (!reason) { showSettingsErrors([{field: 'reason', message: 'required: say why the settings change'}]); return; }
  const effective = $('settings-effective').value.trim();
  const body = {reason, settings: readSettingsForm(), effective_at: effective || null};
  $('settings-save').disabled = true;
  try {
    const response = await api('/api/settings', {method: 'PUT', body});
    const answer = await response.json();
    if (response.status === 202) {
      await refreshSettings();
      $('settings-reason').value = '';
      $('settings-effective').value = '';
      $('settings-result').textContent = `Version ${answer.version} published by ${answer.operator}, ` +
        `${answer.state === 'in force' ? 'in force' : 'takes effect'} from ${etTime(answer.effective_at)} ET: ${answer.reason}`;
    } else if (answer.errors) {
      showSettingsErrors(answer.errors);
    } else {
      $('settings-error').textContent = answer.detail || `the settings were not published (${response.status})`;
    }
  } finally {
    $('settings-save').disabled = false;
  }
});

window.addEventListener('hashchange', () => { if (location.hash === '#settings') refreshSettings(); });

// "Why did this happen" on the trades page: a click on a running trade (or a trade's or a signal's id in the form)
// shows what fired it, from GET /api/trades/{id}/why or /api/signals/{id}/why: the rule and the value of each of
// its terms, the bars and indicators it read, the risk decision and the command that replays its day. Only the
// caller's own trades and signals answer (another's is a 404, shown as not found). Times in New York time.
'use strict';

function whyTable(headings, rows) {
  const table = document.createElement('table');
  const head = document.createElement('tr');
  for (const text of headings) {
    const th = document.createElement('th');
    th.textContent = text;
    head.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const values of rows) {
    const tr = document.createElement('tr');
    tr.append(...values.map((v) => cell(v === null || v === undefined ? '' : String(v))));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  return table;
}

// A price or value from the API's decimal string, exactly and without the grid's trailing zeros (decimal.js); any
// other text (a check's "None") as it is.
function figure(text) {
  if (text === null || text === undefined) return '';
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(String(text)) ? decimalText(String(text)) : String(text);
}

function whyLine(label, text, id) {
  const p = document.createElement('p');
  const strong = document.createElement('strong');
  strong.textContent = `${label}: `;
  const value = document.createElement(id === 'why-command' || id === 'why-rule' ? 'code' : 'span');
  value.textContent = text;
  if (id) value.id = id;
  p.append(strong, value);
  return p;
}

function renderWhy(why) {
  const parts = [];
  const s = why.signal;
  if (why.trade) {
    const t = why.trade;
    parts.push(whyLine('Trade', `${t.trade_id} (${t.account_id}, ${t.strategy}, ${t.symbol} ${t.direction}, ${t.status})`));
  }
  if (s) {
    parts.push(whyLine('Signal', `${s.action} ${s.side} ${s.symbol} at ${figure(s.price)} on ` +
                       `${etTime(s.ts_event)} ET, strategy ${s.strategy}`, 'why-signal'));
    parts.push(whyLine('Rule that fired', s.reason, 'why-rule'));
    const values = whyTable(['term', 'value when it fired'], Object.entries(s.rule_values || {}));
    values.id = 'why-values';
    parts.push(values);
  } else {
    parts.push(whyLine('Signal', 'not stored (the order intent of this trade is not in the database)'));
  }
  if (why.inputs && why.inputs.bars.length) {
    const inputs = whyTable(['symbol', 'timeframe', 'bar (ET)', 'open', 'high', 'low', 'close', 'volume', 'ATR',
                             'Donchian upper', 'Donchian lower', 'swing high', 'swing low'],
      why.inputs.bars.map((b) => [b.symbol, b.timeframe, `${nsTime(b.start_ns)} to ${nsTime(b.end_ns).slice(11)}`,
                                  figure(b.open), figure(b.high), figure(b.low), figure(b.close), b.volume, b.atr,
                                  b.dc_upper, b.dc_lower, b.swing_high, b.swing_low]));
    inputs.id = 'why-inputs';
    parts.push(whyLine('Inputs', 'the newest bar of each timeframe that had ended when the rule fired'), inputs);
  }
  const decision = why.risk_decision;
  if (decision) {
    parts.push(whyLine('Risk decision', `${decision.outcome}, ${decision.quantity} of ${decision.requested_quantity ?? decision.quantity}`));
    if (decision.checks.length) {
      parts.push(whyTable(['check', 'value', 'limit', 'outcome', 'detail'],
        decision.checks.map((c) => [c.name, figure(c.value), figure(c.limit), c.outcome, c.detail])));
    }
  }
  if (why.replay) {
    parts.push(whyLine('Replay', why.replay.command, 'why-command'));
    const note = document.createElement('p');
    note.className = 'muted small';
    note.textContent = `Re-runs ${why.replay.from} to ${why.replay.to} on the recorded input and compares every ` +
      'output with the record; --config and --account take the files the strategy runner was given.';
    parts.push(note);
  }
  $('why-body').replaceChildren(...parts);
}

async function showWhy(kind, id) {
  $('why-kind').value = kind;
  $('why-id').value = id;
  $('why-body').replaceChildren(whyLine('Looking up', id));
  const answer = await api(`/api/${kind}/${encodeURIComponent(id)}/why`);
  if (!answer.ok) {
    const what = kind === 'trades' ? 'trade' : 'signal';
    $('why-body').replaceChildren(whyLine('Not found', answer.status === 404 ? `no ${what} ${id} of yours` :
                                          `the API answered ${answer.status}`, 'why-error'));
    return;
  }
  renderWhy(await answer.json());
}

$('trades-rows').addEventListener('click', (event) => {
  if (event.target.closest('button, a, input, select')) return;  // the row's own controls keep their clicks
  const row = event.target.closest('tr[data-trade]');
  if (row) showWhy('trades', row.dataset.trade);
});

$('why-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('why-id').value.trim();
  if (id) showWhy($('why-kind').value, id);
});

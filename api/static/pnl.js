// The P&L page: the caller's realised P&L of the trades closed on the dates (GET /api/pnl), by day with the
// equity curve (the running net P&L, drawn with the vendored Lightweight Charts), by strategy and in total, with
// the charges. Each refused parameter is shown beside its field. Uses $, api, cell and signed of app.js.
'use strict';

let pnlChart = null;

// An amount to the cent from its exact decimal string, halves away from zero (decimal.js; a float's toFixed showed
// "1.005" as 1.00).
function money(text) { return centsText(text); }

function drawCurve(days) {
  if (pnlChart) { pnlChart.remove(); pnlChart = null; }
  if (!days.length) return;
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  const LC = LightweightCharts;
  // attributionLogo off: see charts.js (the Charts page credits TradingView).
  pnlChart = LC.createChart($('pnl-curve'), {autoSize: true,
    layout: {background: {color: read('--panel')}, textColor: read('--text'), attributionLogo: false},
    grid: {vertLines: {color: read('--border')}, horzLines: {color: read('--border')}}});
  const curve = pnlChart.addSeries(LC.BaselineSeries, {baseValue: {type: 'price', price: 0},
    topLineColor: read('--up'), bottomLineColor: read('--down'), title: 'net P&L'});
  curve.setData(days.map((d) => ({time: d.day, value: Number(d.cumulative_net_pnl)})));
  pnlChart.timeScale().fitContent();
}

$('pnl-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const name of ['from', 'to', 'account', 'strategy']) $(`pnl-${name}-error`).textContent = '';
  $('pnl-error').textContent = '';
  const query = new URLSearchParams({from: $('pnl-from').value.trim(), to: $('pnl-to').value.trim()});
  for (const name of ['account', 'strategy']) {
    const value = $(`pnl-${name}`).value.trim();
    if (value) query.set(name, value);
  }
  const response = await api('/api/pnl?' + query);
  const body = await response.json();
  if (!response.ok) {
    for (const error of body.errors || body.extra || [{field: '', message: body.detail}]) {
      ($(`pnl-${error.field || error.key}-error`) || $('pnl-error')).textContent = error.message;
    }
    return;
  }
  $('pnl-days').replaceChildren(...body.by_day.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.day = d.day;
    tr.append(cell(d.day), cell(String(d.trades), 'num'), cell(money(d.pnl), 'num'), cell(money(d.charges), 'num'),
              cell(money(d.net_pnl), 'num ' + signed(d.net_pnl)),
              cell(money(d.cumulative_net_pnl), 'num ' + signed(d.cumulative_net_pnl)));
    return tr;
  }));
  $('pnl-strategies').replaceChildren(...body.by_strategy.map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.strategy = s.strategy;
    tr.append(cell(s.strategy), cell(String(s.trades), 'num'), cell(String(s.wins), 'num'),
              cell(String(s.losses), 'num'), cell(money(s.pnl), 'num'), cell(money(s.charges), 'num'),
              cell(money(s.net_pnl), 'num ' + signed(s.net_pnl)));
    return tr;
  }));
  const t = body.total;
  $('pnl-total').textContent = `${t.trades} trade(s) closed from ${body.from} to ${body.to}: net ${money(t.net_pnl)} ` +
    `(gross ${money(t.pnl)}, charges ${money(t.charges)}; ${t.wins} won, ${t.losses} lost)`;
  drawCurve(body.by_day);
});

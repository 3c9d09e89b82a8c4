// The charts page: a symbol's candlesticks with the indicators the API computes (GET /api/bars), and the caller's
// signals and trades as markers, drawn with TradingView Lightweight Charts (vendored under /vendor: the dashboard
// works offline). The chart's times are New York wall times: each UTC time is shifted by its ET offset, the way
// the library's documentation recommends for a time zone of one's own. Uses $, api and etTime of app.js.
'use strict';

const ET_PARTS = new Intl.DateTimeFormat('en-US', {timeZone: 'America/New_York', hour12: false, year: 'numeric',
  month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric'});
let chart = null;

// Seconds to show for a UTC time in nanoseconds: its New York wall time, written as if it were UTC.
function etSeconds(ns) {
  const seconds = Math.floor(ns / 1e9);
  const parts = Object.fromEntries(ET_PARTS.formatToParts(new Date(seconds * 1000)).map((p) => [p.type, p.value]));
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second) / 1000;
}

function colours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return {bg: read('--panel'), text: read('--text'), grid: read('--border'), up: read('--up'), down: read('--down'),
          accent: read('--accent'), warn: read('--warn'), muted: read('--muted')};
}

function line(values, times) {
  return values.map((value, i) => (value === null ? {time: times[i]} : {time: times[i], value}));
}

// The bar (its shown time) holding a time in nanoseconds; null when it is outside the bars.
function barAt(ns, bars, times) {
  let found = null;
  for (let i = 0; i < bars.length && bars[i].start_ns <= ns; i++) found = times[i];
  return ns < bars[bars.length - 1].end_ns ? found : null;
}

function markers(body, times) {
  const c = colours();
  const list = [];
  for (const s of body.signals) {
    const time = barAt(s.ts_event_ns, body.bars, times);
    if (time === null) continue;
    const buy = s.side === 'BUY';
    list.push({time, position: buy ? 'belowBar' : 'aboveBar', color: buy ? c.up : c.down,
               shape: buy ? 'arrowUp' : 'arrowDown', text: `${s.strategy} ${s.action.toLowerCase()}`});
  }
  for (const t of body.trades) {
    const entry = barAt(t.opened_ns, body.bars, times);
    if (entry !== null) {
      const text = `entry ${decimalText(t.entry_price)}`;
      list.push({time: entry, position: 'inBar', color: c.accent, shape: 'circle', text});
    }
    const exit = t.closed_ns ? barAt(t.closed_ns, body.bars, times) : null;
    if (exit !== null) {
      list.push({time: exit, position: 'inBar', color: c.warn, shape: 'circle', text: `exit ${decimalText(t.exit_price)}`});
    }
  }
  return list.sort((a, b) => a.time - b.time);
}

function draw(body) {
  if (chart) chart.remove();
  const c = colours();
  const LC = LightweightCharts;
  // attributionLogo: the library's logo brings a <style> element of its own, which the pages' Content-Security-Policy
  // refuses; the page credits TradingView with a link under the chart instead, as the library's licence notice asks.
  chart = LC.createChart($('chart'), {autoSize: true,
    layout: {background: {color: c.bg}, textColor: c.text, attributionLogo: false},
    grid: {vertLines: {color: c.grid}, horzLines: {color: c.grid}},
    timeScale: {timeVisible: true, secondsVisible: false}});
  const times = body.bars.map((bar) => etSeconds(bar.start_ns));
  const candles = chart.addSeries(LC.CandlestickSeries, {upColor: c.up, downColor: c.down, borderVisible: false,
    wickUpColor: c.up, wickDownColor: c.down});
  candles.setData(body.bars.map((bar, i) => ({time: times[i], open: Number(bar.open), high: Number(bar.high),
    low: Number(bar.low), close: Number(bar.close)})));
  const overlay = {lastValueVisible: false, priceLineVisible: false, lineWidth: 1};
  const ind = body.indicators;
  chart.addSeries(LC.LineSeries, {...overlay, color: c.accent, title: `Donchian ${body.parameters.donchian}`})
    .setData(line(ind.dc_upper, times));
  chart.addSeries(LC.LineSeries, {...overlay, color: c.accent}).setData(line(ind.dc_lower, times));
  chart.addSeries(LC.LineSeries, {...overlay, color: c.warn, lineType: 1, lineStyle: 2, title: 'swing'})
    .setData(line(ind.swing_high, times));
  chart.addSeries(LC.LineSeries, {...overlay, color: c.warn, lineType: 1, lineStyle: 2})
    .setData(line(ind.swing_low, times));
  chart.addSeries(LC.LineSeries, {...overlay, color: c.muted, lineType: 1, lineStyle: 1, title: 'pivot'})
    .setData(line(ind.session_pivot, times));
  chart.addSeries(LC.LineSeries, {color: c.text, lineWidth: 1, title: `ATR ${body.parameters.atr}`}, 1)
    .setData(line(ind.atr, times));
  if (chart.panes().length > 1) chart.panes()[1].setHeight(110);
  LC.createSeriesMarkers(candles, markers(body, times));
  chart.timeScale().fitContent();
}

$('chart-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const names = ['symbol', 'timeframe', 'limit', 'donchian', 'atr', 'swing'];
  for (const name of names) $(`chart-${name}-error`).textContent = '';
  $('chart-error').textContent = '';
  const query = new URLSearchParams();
  for (const name of names) query.set(name, $(`chart-${name}`).value.trim());
  if (!query.get('symbol')) { $('chart-symbol-error').textContent = 'required: the symbol to chart'; return; }
  const response = await api('/api/bars?' + query);
  const body = await response.json();
  if (!response.ok) {
    for (const problem of body.extra || body.errors || []) {
      const name = problem.key || problem.field;
      ($(`chart-${name}-error`) || $('chart-error')).textContent = problem.message;
    }
    if (!body.extra && !body.errors) $('chart-error').textContent = body.detail || `no chart (${response.status})`;
    return;
  }
  if (!body.bars.length) {
    if (chart) { chart.remove(); chart = null; }
    $('chart-summary').textContent = `no ${body.timeframe} bars of ${body.symbol} are stored`;
    return;
  }
  draw(body);
  const first = body.bars[0].start_ns / 1e6;
  const last = body.bars[body.bars.length - 1].start_ns / 1e6;
  $('chart-summary').textContent = `${body.bars.length} bars of ${body.symbol} ${body.timeframe}, ` +
    `${etTime(new Date(first).toISOString())} to ${etTime(new Date(last).toISOString())} ET; ` +
    `${body.signals.length} signal(s), ${body.trades.length} trade(s) of yours`;
});

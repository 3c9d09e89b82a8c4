// The overview's feed card, latency table and signals, kept current by the live updates: the feeds' state (GET
// /api/feeds: primary, fail-over, single or down; the serving feed, the last fail-over or hand-back, each feed's last
// report) fetched again when a `feed` message arrives (at most once a second), each latency window (`latency`
// messages, LatencyMeasured) merged into the table as it is measured, beside what GET /api/metrics/latency answers,
// and each signal of the caller's strategies (`signal` messages, SignalGenerated) shown as it is published, beside
// the newest ones GET /api/signals answered. Uses $, api, cell and nsTime of app.js, price of live.js.
'use strict';

const MODE_TEXT = {primary: 'on its primary feed', 'fail-over': 'failed over to its secondary feed',
  single: 'on a single feed', down: 'no feed serving'};
const latencyRows = new Map();  // feed|symbol|hop -> {feed, symbol, hop, end_ms, p50_ms, p95_ms, p99_ms, count}
const feedRefresh = {pending: null, last: 0};

async function refreshFeeds() {
  feedRefresh.last = Date.now();
  const response = await api('/api/feeds');
  if (!response.ok) return;
  const body = await response.json();
  $('feed-mode').textContent = body.mode;
  $('feed-mode').className = `badge feed-${body.mode}`;
  $('feed-active').textContent = body.active_feed ? `${MODE_TEXT[body.mode]}: ${body.active_feed}` : MODE_TEXT.down;
  const s = body.last_switch;
  $('feed-switch').textContent = s ? `last ${s.event} at ${nsTime(s.ts_ns)} ET to ${s.feed}: ${s.detail}` : '';
  $('feeds').replaceChildren(...body.feeds.map((f) => {
    const tr = document.createElement('tr');
    tr.dataset.feed = f.feed;
    const state = !f.connected ? 'disconnected' : !f.fresh ? 'silent' : f.active ? 'serving' : 'standby';
    tr.append(cell(f.feed), cell(f.role || 'alone'), cell(state, `feed-state ${state === 'serving' ? 'up' :
      state === 'standby' ? 'lagging' : 'down'}`), cell(f.messages_per_second.toFixed(0), 'num'),
              cell(f.last_latency_ms === null ? '' : f.last_latency_ms.toFixed(1), 'num'),
              cell(`${f.age_s.toFixed(1)} s ago`), cell(f.detail || f.event));
    return tr;
  }));
}

function onFeedStatus() {
  if (feedRefresh.pending) return;
  const wait = Math.max(0, 1000 - (Date.now() - feedRefresh.last));
  feedRefresh.pending = setTimeout(() => { feedRefresh.pending = null; refreshFeeds(); }, wait);
}

function mergeLatency(row) {
  const key = `${row.feed}|${row.symbol}|${row.hop}`;
  const known = latencyRows.get(key);
  if (!known || row.end_ms >= known.end_ms) latencyRows.set(key, {...row, changed: Boolean(known)});
}

function renderLatency() {
  const rows = [...latencyRows.values()].sort((a, b) => `${a.feed}${a.symbol}${a.hop}`.localeCompare(
    `${b.feed}${b.symbol}${b.hop}`));
  $('latency').replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.latency = `${r.feed}|${r.symbol}|${r.hop}`;
    if (r.changed) { tr.className = 'flash'; r.changed = false; }
    tr.append(cell(r.feed), cell(r.symbol), cell(r.hop), cell(r.p50_ms.toFixed(1), 'num p50'),
              cell(r.p95_ms.toFixed(1), 'num p95'), cell(r.p99_ms.toFixed(1), 'num p99'));
    return tr;
  }));
}

// The rows GET /api/metrics/latency answers (windows of the last 10 minutes, as the sink stored them).
function showLatency(rows) {
  for (const r of rows) {
    mergeLatency({feed: r.feed, symbol: r.symbol, hop: r.hop, end_ms: Date.parse(r.window_end), p50_ms: r.p50_ms,
                  p95_ms: r.p95_ms, p99_ms: r.p99_ms, count: r.count});
  }
  renderLatency();
}

// A LatencyMeasured pushed by /api/live: figures in nanoseconds, the hop as the enum's symbol.
function onLatency(m) {
  mergeLatency({feed: m.feed, symbol: m.symbol, hop: String(m.hop).toLowerCase(), end_ms: Number(m.window_end) / 1e6,
                p50_ms: Number(m.p50_ns) / 1e6, p95_ms: Number(m.p95_ns) / 1e6, p99_ms: Number(m.p99_ns) / 1e6,
                count: Number(m.count)});
  renderLatency();
}

// Signals: the newest MAX_SIGNALS_SHOWN of the caller's strategies, one row each (a signal's id names one decision:
// the API's answer and the websocket's message of the same signal are one row).
const MAX_SIGNALS_SHOWN = 20;
const signalRows = new Map();  // signal_id -> {signal_id, strategy, symbol, action, side, price, reason, ms, changed}

function mergeSignal(row) {
  if (signalRows.has(row.signal_id)) return;
  signalRows.set(row.signal_id, row);
  for (const old of newestSignals().slice(MAX_SIGNALS_SHOWN)) signalRows.delete(old.signal_id);
}

function newestSignals() {
  return [...signalRows.values()].sort((a, b) => b.ms - a.ms || a.signal_id.localeCompare(b.signal_id));
}

function renderSignals() {
  $('signals').replaceChildren(...newestSignals().map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.signal = s.signal_id;
    if (s.changed) { tr.className = 'flash'; s.changed = false; }
    tr.append(cell(nsTime(s.ms * 1e6)), cell(s.strategy), cell(s.symbol), cell(s.action), cell(s.side, s.side),
              cell(price(s.price), 'num'), cell(s.reason));
    return tr;
  }));
}

// The rows GET /api/signals answers: the instant in ET with its offset (ISO-8601, to the microsecond).
function showSignals(rows) {
  for (const s of rows) {
    mergeSignal({signal_id: s.signal_id, strategy: s.strategy, symbol: s.symbol, action: s.action, side: s.side,
                 price: s.price, reason: s.reason, ms: Date.parse(s.ts.replace(/\.\d+/, '')), changed: false});
  }
  renderSignals();
}

// A SignalGenerated pushed by /api/live: the instant in nanoseconds UTC.
function onSignal(s) {
  mergeSignal({signal_id: s.signal_id, strategy: s.strategy, symbol: s.symbol, action: s.action, side: s.side,
               price: s.price, reason: s.reason, ms: Number(s.ts_event) / 1e6, changed: true});
  renderSignals();
}

function clearSignals() {
  signalRows.clear();
  renderSignals();
}

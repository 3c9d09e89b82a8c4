// Live updates (the websocket /api/live) and the trades page: running trades and orders, first as the API
// answers them, then changed by each update. The websocket carries the session cookie (same origin) and brings
// only the caller's own records (and the feed status and bars). Times in New York time; amounts are decimal
// strings, shown as they are, and the unrealised P&L is worked out from the last bar's close of the symbol, exactly
// (in 10^-8 units, decimal.js) and shown to the cent, halves away from zero.
// An order's row is its newest status event and its fills (a fill is a FillExecuted, not a status event): what
// they add up to is kept per order (units, value and charges in exact 10^-8 units, decimal.js), seeded by
// GET /api/orders and grown by each fill the websocket brings, so a filled market order shows its units, its
// exact average price and Success without a reload.
'use strict';

const live = {socket: null, retry: null, backoffMs: 1000, stopped: true};
const openTrades = new Map();   // trade_id -> the trade's newest version
const orders = new Map();       // client_order_id -> the order's newest event
const orderFills = new Map();   // client_order_id -> {quantity, value, charges (BigInt 10^-8 units), execs}
const lastPrice = new Map();    // symbol -> {price, end}
const multipliers = new Map();  // trade_id -> contract multiplier (BigInt, from its fills)
const MAX_ORDERS_SHOWN = 100;

function setLiveState(state, text) {
  $('live-state').textContent = text;
  $('live-state').className = `badge ${state}`;
}

function startLive() {
  live.stopped = false;
  connectLive();
  loadTrades();
}

function stopLive() {
  live.stopped = true;
  clearTimeout(live.retry);
  if (live.socket) live.socket.close(1000, 'logged out');
  live.socket = null;
  setLiveState('offline', 'offline');
  // Nothing of this user's stays for the next one to log in on this page.
  for (const known of [openTrades, orders, orderFills, lastPrice, multipliers]) known.clear();
  renderTrades();
  renderOrders();
}

function connectLive() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/api/live`);
  live.socket = socket;
  setLiveState('connecting', 'connecting…');
  socket.addEventListener('message', (event) => onUpdate(JSON.parse(event.data)));
  socket.addEventListener('close', (event) => {
    if (live.socket !== socket) return;
    live.socket = null;
    if (live.stopped) return;
    if (event.code === 4401) { showLogin(); return; }
    setLiveState('offline', 'offline, reconnecting');
    live.retry = setTimeout(() => { connectLive(); loadTrades(); refreshSignals(); }, live.backoffMs);
    live.backoffMs = Math.min(live.backoffMs * 2, 30000);
  });
  socket.addEventListener('open', () => { live.backoffMs = 1000; });
}

function onUpdate(message) {
  const data = message.data;
  switch (message.type) {
    case 'live':
      setLiveState(message.following ? 'live' : 'connecting', message.following ? 'live' : 'connecting…');
      break;
    case 'signal': if (typeof onSignal === 'function') onSignal(data); break;  // overview.js
    case 'trade':
      upsertTrade(data);
      if (typeof onAccountTrade === 'function') onAccountTrade(data);   // app.js: the accounts card
      break;
    case 'order': upsertOrder(data); break;
    case 'fill':
      multipliers.set(data.trade_id, BigInt(data.multiplier || 1));
      applyFill(data);
      renderTrades();
      break;
    case 'risk': if (typeof onRiskDecision === 'function') onRiskDecision(data); break;   // app.js
    case 'bar': {
      const known = lastPrice.get(data.symbol);
      if (!known || data.end >= known.end) lastPrice.set(data.symbol, {price: data.close, end: data.end});
      renderTrades();
      break;
    }
    case 'kill_switch': refreshAccounts(); break;
    case 'feed': if (typeof onFeedStatus === 'function') onFeedStatus(data); break;  // overview.js
    case 'latency': if (typeof onLatency === 'function') onLatency(data); break;
    default: break;
  }
}

async function loadTrades() {
  const [tradesAnswer, ordersAnswer] = await Promise.all([api('/api/trades/open'),
    api(`/api/orders?limit=${MAX_ORDERS_SHOWN}`)]);
  if (tradesAnswer.ok) {
    for (const trade of await tradesAnswer.json()) {
      if (trade.last_price !== null && !lastPrice.has(trade.symbol)) {
        lastPrice.set(trade.symbol, {price: trade.last_price, end: 0});
      }
      multipliers.set(trade.trade_id, BigInt(trade.multiplier));
      upsertTrade({...trade, ts_event: trade.ts_event_ns}, false);
    }
    renderTrades();
  }
  if (ordersAnswer.ok) {
    for (const order of await ordersAnswer.json()) {
      seedFills(order);
      upsertOrder({...order, ts_event: order.ts_event_ns}, false);
    }
    renderOrders();
  }
}

function upsertTrade(trade, render = true) {
  const known = openTrades.get(trade.trade_id);
  if (known && known.version >= trade.version) return;
  if (trade.status === 'Closed') openTrades.delete(trade.trade_id);
  else openTrades.set(trade.trade_id, {...trade, changed: render});
  if (render) renderTrades();
}

function upsertOrder(order, render = true) {
  const known = orders.get(order.client_order_id);
  if (known && known.sequence >= order.sequence) return;
  orders.set(order.client_order_id, {...order, changed: render});
  if (orders.size > MAX_ORDERS_SHOWN) {
    const oldest = [...orders.values()].sort((a, b) => a.ts_event - b.ts_event)[0];
    orders.delete(oldest.client_order_id);
    orderFills.delete(oldest.client_order_id);
  }
  if (render) renderOrders();
}

// What the API says an order's fills add up to, unless the websocket already brought more of them.
function seedFills(order) {
  const held = orderFills.get(order.client_order_id);
  if (held && held.quantity > order.fill_quantity) return;
  orderFills.set(order.client_order_id, {quantity: order.fill_quantity, value: toUnits(order.fill_value),
    charges: toUnits(order.charges), execs: held ? held.execs : new Set()});
}

// A FillExecuted: added to its order's fills once. Its filled_quantity is the order's units filled after it, so
// a fill already in the API's sum (filled_quantity not above what is held) is not counted again.
function applyFill(fill) {
  const held = orderFills.get(fill.client_order_id) || {quantity: 0, value: 0n, charges: 0n, execs: new Set()};
  if (held.execs.has(fill.exec_id) || fill.filled_quantity <= held.quantity) return;
  held.execs.add(fill.exec_id);
  held.quantity += fill.quantity;
  held.value += toUnits(fill.price) * BigInt(fill.quantity);
  held.charges += toUnits(fill.commission) + toUnits(fill.regulatory_fees);
  orderFills.set(fill.client_order_id, held);
  while (orderFills.size > 4 * MAX_ORDERS_SHOWN) {   // fills of orders never shown: the oldest go first
    const stray = [...orderFills.keys()].find((id) => !orders.has(id));
    if (stray === undefined) break;
    orderFills.delete(stray);
  }
  const order = orders.get(fill.client_order_id);
  if (order) {
    order.changed = true;
    renderOrders();
  }
}

// The order's status now, in the platform's words (as processors/orders/status.py): a final status stays; else
// its fills make it Success (all its units) or Pending (some); else its newest event's status.
function orderStatus(eventStatus, quantity, filled) {
  if (['Success', 'Failed', 'Cancelled'].includes(eventStatus)) return eventStatus;
  if (filled > 0) return filled >= quantity ? 'Success' : 'Pending';
  return eventStatus || '';
}

// The trade's unrealised P&L at its symbol's last price in exact 10^-8 units (BigInt), as processors/pnl.py
// works it out: long (last - average entry) x open units x multiplier, a short the reverse; null if unpriced.
function unrealised(trade) {
  const last = lastPrice.get(trade.symbol);
  const open = trade.entry_qty - trade.exit_qty;
  if (!last || trade.entry_price === null || trade.entry_price === undefined || open <= 0) return null;
  const units = (toUnits(last.price) - toUnits(trade.entry_price)) * BigInt(open)
    * (multipliers.get(trade.trade_id) || 1n);
  return trade.direction === 'short' ? -units : units;
}

function price(text) { return decimalText(text); }   // decimal.js: exact, trailing zeros dropped

function renderTrades() {
  const rows = [...openTrades.values()].sort((a, b) => (b.opened_ns || 0) - (a.opened_ns || 0));
  $('trades-rows').replaceChildren(...rows.map((t) => {
    const tr = document.createElement('tr');
    tr.dataset.trade = t.trade_id;
    if (t.changed) { tr.className = 'flash'; t.changed = false; }
    const pnl = unrealised(t);
    const shown = pnl === null ? '' : unitsCents(pnl);
    const last = lastPrice.get(t.symbol);
    tr.append(cell(t.opened_ns ? nsTime(t.opened_ns) : ''), cell(t.account_id), cell(t.strategy), cell(t.symbol),
              cell(t.direction), cell(String(t.entry_qty - t.exit_qty), 'num'), cell(price(t.entry_price), 'num'),
              cell(price(t.stop_price), 'num'), cell(price(t.target_price), 'num'),
              cell(last ? price(last.price) : '', 'num'),
              cell(shown, 'num pnl ' + signed(shown)),
              cell(t.status, 'status'));
    return tr;
  }));
  $('trades-summary').textContent = `${rows.length} running or waiting trade(s)`;
}

function renderOrders() {
  const rows = [...orders.values()].sort((a, b) => b.ts_event - a.ts_event);
  $('orders-rows').replaceChildren(...rows.map((o) => {
    const tr = document.createElement('tr');
    tr.dataset.order = o.client_order_id;
    if (o.changed) { tr.className = 'flash'; o.changed = false; }
    const fills = orderFills.get(o.client_order_id) || {quantity: 0, value: 0n, charges: 0n};
    const filled = Math.max(fills.quantity, o.filled_quantity);
    const status = orderStatus(o.status, o.quantity, fills.quantity);
    const average = fills.quantity ? trimZeros(fractionText(fills.value, GRID * BigInt(fills.quantity))) : '';
    tr.append(cell(nsTime(o.ts_event)), cell(o.account_id), cell(o.symbol), cell(o.side, o.side), cell(o.order_type),
              cell(String(o.quantity), 'num'), cell(String(filled), 'num filled'), cell(average, 'num average'),
              cell(fills.quantity ? moneyText(fills.charges) : '', 'num charges'),
              cell(price(o.limit_price), 'num'), cell(price(o.stop_price), 'num'), cell(o.event),
              cell(status + (o.broker_status ? ` (${o.broker_status})` : ''), 'status'), cell(o.reason || ''));
    return tr;
  }));
}

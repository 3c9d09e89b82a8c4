// Trades page: manual actions on one of your running trades (close, move the stop or the target, fewer or more
// units: more is an add-on entry the desk sizes and may resize or refuse).
// Each is sent to POST /api/trades/{id}/{close|stop|target|quantity}; the desk decides it as it decides a
// strategy's intent, and the trade's change (or the refusal, under "Why did this happen") follows live.
'use strict';

const TRADE_ACTION_FIELDS = {close: null, stop: 'price', target: 'price', quantity: 'quantity'};

function tradeActionKindChanged() {
  const figure = TRADE_ACTION_FIELDS[$('action-kind').value];
  $('action-figure').hidden = figure === null;
  $('action-figure').placeholder = figure === 'quantity' ? 'new open quantity' : 'new price';
}

async function sendTradeAction(event) {
  event.preventDefault();
  const kind = $('action-kind').value;
  const tradeId = $('action-trade').value.trim();
  const status = $('action-status');
  for (const id of ['action-trade', 'action-figure', 'action-reason']) $(id).removeAttribute('aria-invalid');
  if (!tradeId) {
    status.textContent = 'trade: give the id of one of your running trades';
    $('action-trade').setAttribute('aria-invalid', 'true');
    return;
  }
  const body = {reason: $('action-reason').value};
  const figure = TRADE_ACTION_FIELDS[kind];
  if (figure === 'price') body.price = $('action-figure').value.trim();
  if (figure === 'quantity') body.quantity = Number($('action-figure').value);
  if (kind === 'close' && !window.confirm(`Close every open unit of trade ${tradeId}?`)) return;
  const response = await api(`/api/trades/${encodeURIComponent(tradeId)}/${kind}`, {method: 'POST', body});
  const answer = await response.json().catch(() => ({}));
  if (response.status === 202) {
    status.textContent = `sent (${answer.action_id}): the desk decides it; the trade's change shows above`;
    return;
  }
  const errors = answer.errors || [];
  for (const error of errors) {
    const input = {price: 'action-figure', quantity: 'action-figure', reason: 'action-reason'}[error.field];
    if (input) $(input).setAttribute('aria-invalid', 'true');
  }
  status.textContent = errors.length ? errors.map((e) => `${e.field}: ${e.message}`).join('; ')
    : `${response.status}: ${answer.detail || 'refused'}`;
}

document.addEventListener('DOMContentLoaded', () => {
  if (!$('action-form')) return;
  $('action-kind').addEventListener('change', tradeActionKindChanged);
  $('action-form').addEventListener('submit', sendTradeAction);
  tradeActionKindChanged();
});

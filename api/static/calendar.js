// The calendar page: NYSE trading days with their session hours in New York time, half days marked, and the
// weekdays the exchange is closed (GET /api/calendar). Uses $, api and cell of app.js.
'use strict';

const WEEKDAY = new Intl.DateTimeFormat('en-US', {timeZone: 'UTC', weekday: 'short'});

function isoDay(date) { return date.toISOString().slice(0, 10); }

$('calendar-from').value = isoDay(new Date());
$('calendar-to').value = isoDay(new Date(Date.now() + 60 * 86400000));

$('calendar-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  for (const id of ['calendar-from-error', 'calendar-to-error', 'calendar-error']) $(id).textContent = '';
  const query = new URLSearchParams({from: $('calendar-from').value.trim(), to: $('calendar-to').value.trim()});
  const response = await api('/api/calendar?' + query);
  const body = await response.json();
  if (!response.ok) {
    for (const error of body.errors || [{field: '', message: body.detail}]) {
      ($(`calendar-${error.field}-error`) || $('calendar-error')).textContent = error.message;
    }
    return;
  }
  $('calendar-days').replaceChildren(...body.days.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.date = d.date;
    const day = `${WEEKDAY.format(new Date(d.date + 'T00:00:00Z'))} ${d.date}`;
    tr.append(cell(day), cell(`${d.pre_open}–${d.open}`), cell(`${d.open}–${d.close}`),
              cell(`${d.close}–${d.post_close}`),
              cell(d.early_close ? 'half day' : '', d.early_close ? 'lagging' : ''));
    return tr;
  }));
  $('calendar-closed').textContent = body.closed.length
    ? `Closed: ${body.closed.join(', ')}` : 'No weekday without trading in the range';
});

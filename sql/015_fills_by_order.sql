-- The fills of an order: the orders route (api/trades.py) adds up each listed order's fills (quantity, value,
-- charges) by its client order id; without this index each order's fills were a scan of the table.
create index if not exists fills_order on fills (client_order_id);

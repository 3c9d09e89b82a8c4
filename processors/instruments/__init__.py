"""Instrument logic with no I/O and no clock: tick sizes, option contracts and chains, futures months,
expiries, rolls and continuous series.

    dates.py     business days, the n-th weekday of a month (third Fridays), shifting over holidays
    ticks.py     rounding a price to a tick; equity, option and futures tick sizes; `FuturesSpec`
    options.py   `OptionContract` (OCC symbol), `OptionChain`, expiry and strike selection
    futures.py   month codes and contract symbols, last trading days, roll schedules, continuous series

Dates are `datetime.date` parameters (never read from a clock); holidays are a set of dates the caller
takes from the exchange calendar; prices are `decimal.Decimal`.
"""

"""The audit replay's pure side: what a replay is compared on, and how the comparison is written down.

    compare.py   each output stage's recorded events against the replayed ones, matched by natural id
                 (a decision's `decision_id`, a bar's symbol, timeframe and start), field by field
    report.py    the comparison as CSV (one row per difference) and as a readable HTML page

Reading the topics and re-running the chain is `streams.audit_replay`'s job; the command is
`tradestream audit replay` (tradestream/commands/audit_replay.py).
"""

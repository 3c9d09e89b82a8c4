"""An audit replay's comparison written down: `differences.csv` (one row per difference, both values), a
readable `report.html` (per stage: counts compared and each difference), and the summary lines the command
prints. Text only: the command writes the files."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape

from processors.audit.compare import StageComparison

CSV_COLUMNS = ("stage", "key", "kind", "field", "recorded", "replayed")


def differences_csv(stages: Sequence[StageComparison]) -> str:
    """Every difference of every stage, in stage order, with the recorded and the replayed value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stage in stages:
        for d in stage.differences:
            writer.writerow((d.stage, d.key, d.kind, d.field, d.recorded, d.replayed))
    return out.getvalue()


def summary_lines(stages: Sequence[StageComparison]) -> list[str]:
    """One line per stage (recorded, replayed, matched, differences), then the total."""
    width = max((len(s.stage) for s in stages), default=5)
    lines = [f"{s.stage:<{width}}  recorded {s.recorded:>7,}  replayed {s.replayed:>7,}  matched {s.matched:>7,}  "
             f"differences {len(s.differences):>5,}" for s in stages]
    total = sum(len(s.differences) for s in stages)
    lines.append(f"{total:,} difference(s)" + ("" if total else ": the replay reproduces every recorded output"))
    return lines


def report_html(stages: Sequence[StageComparison], title: str, facts: Sequence[tuple[str, str]]) -> str:
    """The report as one self-contained page: `facts` (range, source, strategies, accounts...) on top, a
    table of counts per stage, then each stage's differences."""
    total = sum(len(s.differences) for s in stages)
    parts = [f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}"
             "td.n{text-align:right}.ok{color:#060}.bad{color:#a00}</style></head><body>",
             f"<h1>{escape(title)}</h1>", "<table>"]
    parts += [f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in facts]
    parts.append("</table>")
    verdict = ("<p class=\"ok\">No difference: every recorded output is reproduced.</p>" if total == 0 else
               f"<p class=\"bad\">{total:,} difference(s).</p>")
    parts += [verdict, "<h2>Stages</h2><table><tr><th>stage</th><th>recorded</th><th>replayed</th>"
              "<th>matched</th><th>differences</th></tr>"]
    for s in stages:
        style = "ok" if not s.differences else "bad"
        parts.append(f"<tr><td><a href=\"#{escape(s.stage)}\">{escape(s.stage)}</a></td><td class=\"n\">"
                     f"{s.recorded:,}</td><td class=\"n\">{s.replayed:,}</td><td class=\"n\">{s.matched:,}</td>"
                     f"<td class=\"n {style}\">{len(s.differences):,}</td></tr>")
    parts.append("</table>")
    for s in stages:
        if not s.differences:
            continue
        parts.append(f"<h2 id=\"{escape(s.stage)}\">{escape(s.stage)}</h2><table><tr><th>key</th><th>kind</th>"
                     "<th>field</th><th>recorded</th><th>replayed</th></tr>")
        parts += [f"<tr><td>{escape(d.key)}</td><td>{escape(d.kind)}</td><td>{escape(d.field)}</td>"
                  f"<td>{escape(d.recorded)}</td><td>{escape(d.replayed)}</td></tr>" for d in s.differences]
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)

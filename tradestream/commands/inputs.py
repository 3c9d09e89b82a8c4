"""The commands' inputs: argparse types for a readable file and a timeframe, CSV rows under
trimmed headers, strategy and account files, and the file's name added to an error raised while reading it.

Errors about the content (a bad row, a bad strategy) are `TradestreamError`s that the CLI reports
in one place (`tradestream.cli.main`); `naming(path)` adds the file they came from as a note, which
the CLI prints under the message.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from schemas.errors import TradestreamError

if TYPE_CHECKING:
    from processors.risk import Account
    from processors.scanner import ScannerConfig


def readable_file(text: str) -> str:
    """argparse type: the path of a file that can be opened for reading; a usage error otherwise."""
    try:
        with open(text, "rb"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text!r}: {exc.strerror or exc}") from None
    return text


def timeframe(text: str) -> str:
    """argparse type: a bar timeframe (Nm, Nh or 1d), as `Timeframe` writes it."""
    from processors.bars import Timeframe

    try:
        return Timeframe.parse(text).text
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextmanager
def csv_rows(path: str) -> Iterator[tuple[list[str], Iterator[dict[str, str]]]]:
    """(header, rows) of a CSV file, read as the block iterates the rows; header names are stripped
    of surrounding spaces. A file that is not UTF-8 text or not CSV raises CsvFormatError, and any
    TradestreamError raised in the block gets the note `in <path>`."""
    from processors.csvio import CsvFormatError

    with open(path, newline="") as handle, naming(path):
        reader = csv.DictReader(handle)
        try:
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            yield header, reader
        except UnicodeDecodeError as exc:
            raise CsvFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except csv.Error as exc:
            raise CsvFormatError(f"line {reader.line_num}: {exc}") from None


def load_strategy(path: str) -> ScannerConfig:
    """A strategy (scanner) file: JSON if it ends in .json, YAML otherwise; ScannerConfigError listing
    every invalid field, or naming the syntax error, with the note `in <path>`."""
    import yaml

    from processors.scanner import FieldError, ScannerConfig, ScannerConfigError

    text = Path(path).read_text()
    with naming(path):
        try:
            data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            kind = "JSON" if path.endswith(".json") else "YAML"
            raise ScannerConfigError([FieldError("config", f"not valid {kind}: {exc}")]) from None
        return ScannerConfig.from_mapping(data)


def load_account(path: str) -> Account:
    """An account file (processors.risk.account_file): JSON if it ends in .json, YAML otherwise;
    AccountFileError naming every problem, with the note `in <path>`."""
    import yaml

    from processors.risk.account_file import AccountFileError, read_account

    text = Path(path).read_text()
    with naming(path):
        try:
            data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            kind = "JSON" if path.endswith(".json") else "YAML"
            raise AccountFileError([("account", f"not valid {kind}: {exc}")]) from None
        return read_account(data)


@contextmanager
def naming(path: str) -> Iterator[None]:
    """Re-raise a TradestreamError raised in the block with the note `in <path>`."""
    try:
        yield
    except TradestreamError as exc:
        exc.add_note(f"in {path}")
        raise

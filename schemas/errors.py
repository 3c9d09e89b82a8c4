"""The exceptions tradestream raises, one tree users can catch.

    TradestreamError            base: catch this to handle anything of ours
    ├── ConfigError             a setting is missing or wrong: stop start-up, fix the named variable
    ├── StackError              a local service cannot start or answer: fix the named prerequisite
    ├── SchemaError             an event does not match its Avro schema or the registry refused it
    │   └── DecodeError         bytes on a topic are not a valid event: dead-letter them, keep going
    │       └── UnexpectedRecordError  a valid event of a type its topic does not carry: dead-letter it
    ├── DataError               an event is implausible (NaN, non-positive price): dead-letter it
    ├── StateError              a stage's stored state is inconsistent: the stage stops (going on would
    │                           count or drop prints silently)
    ├── RegistryError           the schema registry answered with an error: see its code and message
    ├── ArchiveError            the compliance archive's bucket refused or lost a write or a read: stop;
    │                           the archiver resumes from what the bucket holds
    │
    │   The domain errors about what a user wrote are also ValueErrors (`except ValueError` still
    │   catches them); each names what to fix, and the same input fails the same way again:
    ├── RuleError               processors.rules: a rule text cannot be used; fix it at the position
    │   ├── RuleSyntaxError     it does not lex or parse
    │   └── RuleTypeError       it parses but is ill-typed or names an unknown function or symbol
    ├── ScannerConfigError      processors.scanner: a scanner configuration, every invalid field listed
    ├── CsvFormatError          processors.csvio: a CSV row does not parse; the line and column named
    ├── IntentError             processors.orders.intents: a signal cannot become an order (no option
    │                           chain, no contract); record it, send nothing
    ├── ChargesError            processors.charges: a charge cannot be computed (bad quantity or price)
    │   └── FeeScheduleError    the fee schedule has no row for a fee and trade date, or does not parse
    ├── PnlError                processors.pnl: fills that do not make a trade (exits beyond the entries)
    ├── RiskConfigError         processors.risk: an account, a limit or a margin level is invalid (the
    │                           field is named in `.field`)
    ├── SettingsError           processors.settings: universal settings, or a change of them (back-dated, out
    │                           of sequence), every invalid field listed (`.errors`)
    ├── PaperBrokerError        processors.paper: market data, a fill-model setting or a snapshot the paper
    │                           broker cannot use (`.field`); a bad order is a rejection event, not this
    └── TradeError              processors.trades: an event or setting the trade manager cannot apply
                                (`.field`); refused whole, the manager's state unchanged
"""

from __future__ import annotations


class TradestreamError(Exception):
    """Base of every error tradestream raises on purpose."""


class ConfigError(TradestreamError):
    """A setting is missing or invalid. Stop start-up; the message names the setting."""


class StackError(TradestreamError):
    """A local service could not be started or does not answer. The message names what to install or free."""


class SchemaError(TradestreamError):
    """An event does not fit its schema, or a schema was refused. Do not retry without a fix."""


class DecodeError(SchemaError):
    """Bytes read from a topic are not a decodable event. Dead-letter the record and continue."""


class UnexpectedRecordError(DecodeError):
    """A valid event of another type than its topic carries (a forged or misrouted record). Dead-letter it."""


class DataError(TradestreamError):
    """An event decodes but is implausible (NaN, non-positive price, late). Dead-letter it and continue."""


class StateError(TradestreamError):
    """A stage's stored state is inconsistent (a part it refers to is missing). The stage stops: going on
    would silently count or drop prints."""


class RegistryError(TradestreamError):
    """The schema registry answered with an error code; `error_code` follows Confluent's numbering."""

    def __init__(self, message: str, error_code: int, http_status: int) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.http_status = http_status


class ArchiveError(TradestreamError):
    """The compliance archive's bucket refused or lost a write or read the archive needs, or holds something
    the archiver did not write. Stop: the archiver resumes from what the bucket holds when started again."""

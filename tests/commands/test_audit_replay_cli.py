"""`tradestream audit replay`'s arguments: each bad one is refused with exit status 2 and a message naming it,
never a traceback, before anything is read from Kafka; and which strategies each replay runner takes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from processors.scanner import ScannerConfig
from schemas.errors import ConfigError
from streams.audit_replay import runner_groups
from tradestream.cli import main
from tradestream.commands.audit_replay import DAY_NS, bound
from tradestream.commands.inputs import load_account

ROOT = Path(__file__).resolve().parents[2]
STRATEGY = ROOT / "examples/strategies/correlation.yaml"   # trades in account paper-1
ACCOUNT = ROOT / "examples/accounts/paper.yaml"            # paper-1


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        raise SystemExit(main(["audit", "replay", *argv]))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_days_are_whole_utc_days_and_instants_are_exact() -> None:
    day, is_day = bound("2026-11-23")
    assert is_day and day == 1_795_392_000 * 10**9 and day % DAY_NS == 0
    assert bound("2026-11-23T14:30:00Z") == (day + 14 * 3_600 * 10**9 + 30 * 60 * 10**9, False)
    assert bound("1795392000000000001") == (day + 1, False)


@pytest.mark.parametrize(("argv", "named"), [
    (["--from", "2026-11-24", "--to", "2026-11-23", "--out", "x"], "--to is before --from"),
    (["--from", "2026-11-23T15:00:00Z", "--to", "2026-11-23T15:00:00Z", "--out", "x"], "the range is empty"),
    (["--from", "yesterday", "--to", "2026-11-23", "--out", "x"], "argument --from"),
    (["--from", "2026-11-23", "--to", "2026-11-23", "--out", "x", "--source", "s3"], "argument --source"),
    (["--from", "2026-11-23", "--to", "2026-11-23", "--out", "x", "--accept-partial-range"],
     "--accept-partial-range is for --source archive"),
    (["--from", "2026-11-23", "--to", "2026-11-23"], "--out"),
    (["--from", "2026-11-23", "--to", "2026-11-23", "--out", "x", "--config", "/no/such.yaml"], "/no/such.yaml"),
    (["--from", "2026-11-23", "--to", "2026-11-23", "--out", "x", "--account", str(ACCOUNT)], "paper-1"),
])
def test_bad_arguments_exit_2_naming_what_is_wrong(argv: list[str], named: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert named in refused([a.replace("x", str(tmp_path / "out")) if a == "x" else a for a in argv], capsys)
    assert not (tmp_path / "out").exists()


def test_a_strategy_file_that_does_not_load_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**yaml.safe_load(STRATEGY.read_text()), "exit_rules": ["price(SPY) <"]}))
    assert "Error" in refused(["--from", "2026-11-23", "--to", "2026-11-23", "--out", str(tmp_path / "o"),
                               "--config", str(bad)], capsys)


def test_each_account_replays_its_own_strategies_and_the_others_run_without_one() -> None:
    data = yaml.safe_load(STRATEGY.read_text())
    trading = ScannerConfig.from_mapping(data)
    alone = ScannerConfig.from_mapping({k: v for k, v in data.items() if k not in ("risk", "trade", "charges")}
                                       | {"name": "signals-only"})
    account = load_account(str(ACCOUNT))
    assert [([c.name for c in group], a and a.account_id) for group, a in runner_groups([alone, trading], [account])] \
        == [([trading.name], "paper-1"), (["signals-only"], None)]
    with pytest.raises(ConfigError, match="two strategies named"):
        runner_groups([trading, trading], [])
    with pytest.raises(ConfigError, match="two account files"):
        runner_groups([trading], [account, account])


def test_a_kafka_that_does_not_answer_exits_2_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")
    err = refused(["--from", "2026-11-23", "--to", "2026-11-23", "--out", str(tmp_path / "o")], capsys)
    assert "Kafka at 127.0.0.1:1 did not answer" in err
    assert not (tmp_path / "o").exists()

from __future__ import annotations

from decimal import Decimal

from processors.model import Bar
from schemas.codec import AvroCodec
from streams.codec import ConfluentAvroCodec


def test_faust_codec_writes_the_confluent_wire_format(registry_stub) -> None:
    avro = AvroCodec(registry_stub)
    codec = ConfluentAvroCodec(avro, "ts.bars")
    bar = Bar(symbol="SPY", timeframe="5m", session="regular", start=1, end=2, open=Decimal("1"),
              high=Decimal("2"), low=Decimal("0.5"), close=Decimal("1.5"), volume=10, vwap=Decimal("1.2"), trades=2)
    data = codec.dumps(bar)
    assert data[0] == 0 and registry_stub.subjects == {"ts.bars-value": [1]}
    assert codec.loads(data) == bar
    assert avro.decode(data) == bar

"""A Faust codec over the project's Confluent Avro codec, for the topics stages write to.

Stages send typed events (`await topic.send(key=symbol, value=bar)`) and this codec writes them in
the Confluent wire format under the topic's subject. Stages read their input as raw bytes and decode
inside the agent instead (see streams.app), so an undecodable record is dead-lettered, not lost.
"""

from __future__ import annotations

from typing import Any

from faust.serializers.codecs import Codec

from schemas.codec import AvroCodec


class ConfluentAvroCodec(Codec):
    def __init__(self, avro: AvroCodec, topic: str, **kwargs: Any) -> None:
        self.avro = avro
        self.topic = topic
        super().__init__(avro=avro, topic=topic, **kwargs)

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, (bytes, bytearray)):  # already encoded (e.g. a dead letter's original bytes)
            return bytes(obj)
        return self.avro.encode(self.topic, obj)

    def _loads(self, s: bytes) -> Any:
        return self.avro.decode(s)

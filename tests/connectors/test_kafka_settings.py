"""The Kafka section: every client's security settings from one place; secrets never in its repr."""

from __future__ import annotations

import pytest

from connectors.kafka.settings import KafkaSettings
from schemas.errors import ConfigError
from tradestream.config import Settings


def kafka(**variables: str) -> KafkaSettings:
    return Settings.from_env({"TRADESTREAM_HOME": "/tmp/ts-home", "POSTGRES_PASSWORD": "x", **variables}).kafka()


def test_plaintext_by_default_for_the_loopback_stack() -> None:
    settings = kafka()
    assert settings.client_config() == {"bootstrap.servers": "127.0.0.1:9092"}
    assert settings.registry_config() == {"url": "http://127.0.0.1:8081"}
    assert settings.ssl_context() is None


def test_sasl_scram_over_tls_reaches_every_librdkafka_client_and_stays_out_of_repr() -> None:
    settings = kafka(KAFKA_SECURITY_PROTOCOL="sasl_ssl", KAFKA_SASL_MECHANISM="scram-sha-256",
                     KAFKA_SASL_USERNAME="worker", KAFKA_SASL_PASSWORD="s3cr3t-pass",
                     SCHEMA_REGISTRY_USER_INFO="reader:r3g-pass")
    assert settings.client_config(**{"group.id": "g"}) == {
        "bootstrap.servers": "127.0.0.1:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "worker", "sasl.password": "s3cr3t-pass", "group.id": "g"}
    assert settings.registry_config()["basic.auth.user.info"] == "reader:r3g-pass"
    assert settings.ssl_context() is not None
    assert "s3cr3t-pass" not in repr(settings) and "r3g-pass" not in repr(settings)


@pytest.mark.parametrize(("variables", "named"), [
    ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_SASL_USERNAME": "u",
      "KAFKA_SASL_PASSWORD": "p"}, "KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTIFICATE_LOCATION": "/c.pem"}, "KAFKA_SSL_KEY_LOCATION"),
    ({"SCHEMA_REGISTRY_USER_INFO": "no-colon"}, "SCHEMA_REGISTRY_USER_INFO"),
])
def test_an_incomplete_security_setting_stops_start_up_naming_it(variables: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        kafka(**variables)

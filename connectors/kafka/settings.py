"""What every process needs to reach Kafka and the schema registry, as one typed section.

The CLI builds it from the environment (`tradestream.config.Settings.kafka()`) and hands it to each
component; no component reads an environment variable of its own. Every client is made from it:
librdkafka's (`client_config`), Faust's aiokafka (`ssl_context` and the SASL fields, in `streams.app`) and the registry's
(`registry_config`), so a deployment that turns on SASL/SCRAM or mutual TLS on the broker and basic
authentication on the registry configures every process with the same variables. Secrets (the SASL
password, the registry's user info) are never part of `repr` and never logged.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import ConfigError
from schemas.topics import spec

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")


@dataclass(frozen=True, slots=True, kw_only=True)
class KafkaSettings:
    bootstrap: str
    """Bootstrap servers, `host:port[,host:port…]` (KAFKA_BOOTSTRAP)."""
    registry_url: str
    """Schema registry base URL (SCHEMA_REGISTRY_URL)."""
    partitions: int = 6
    """Partitions of the keyed event topics (KAFKA_PARTITIONS)."""
    topic_prefix: str = "ts."
    """Namespace of every topic name (TOPIC_PREFIX); tests and benchmarks use their own."""
    security_protocol: str = "PLAINTEXT"
    """PLAINTEXT (loopback development), SSL (mutual TLS with a client certificate), SASL_PLAINTEXT or
    SASL_SSL (KAFKA_SECURITY_PROTOCOL)."""
    sasl_mechanism: str = "SCRAM-SHA-512"
    """SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN (KAFKA_SASL_MECHANISM)."""
    sasl_username: str = ""
    """KAFKA_SASL_USERNAME."""
    sasl_password: str = field(default="", repr=False)
    """KAFKA_SASL_PASSWORD (secret)."""
    ssl_ca_location: str = ""
    """CA bundle that signed the broker's certificate (KAFKA_SSL_CA_LOCATION); empty: the system's."""
    ssl_certificate_location: str = ""
    """Client certificate for mutual TLS (KAFKA_SSL_CERTIFICATE_LOCATION)."""
    ssl_key_location: str = ""
    """Client private key for mutual TLS (KAFKA_SSL_KEY_LOCATION)."""
    registry_user_info: str = field(default="", repr=False)
    """`user:password` for the registry's basic authentication (SCHEMA_REGISTRY_USER_INFO, secret)."""

    def __post_init__(self) -> None:
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol!r} must be one of "
                              f"{', '.join(SECURITY_PROTOCOLS)}")
        if self.sasl:
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise ConfigError(f"KAFKA_SASL_MECHANISM={self.sasl_mechanism!r} must be one of "
                                  f"{', '.join(SASL_MECHANISMS)}")
            if not self.sasl_username or not self.sasl_password:
                raise ConfigError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME and "
                                  "KAFKA_SASL_PASSWORD")
        if self.security_protocol == "SSL" and bool(self.ssl_certificate_location) != bool(self.ssl_key_location):
            raise ConfigError("mutual TLS needs both KAFKA_SSL_CERTIFICATE_LOCATION and KAFKA_SSL_KEY_LOCATION")
        if self.registry_user_info and ":" not in self.registry_user_info:
            raise ConfigError("SCHEMA_REGISTRY_USER_INFO must be user:password")

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def topic(self, name: str) -> str:
        """The full name of catalogue topic `name` (e.g. `ticks.trades` -> `ts.ticks.trades`)."""
        return spec(name).full_name(self.topic_prefix)

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings (producers, consumers, admin clients) with the connection's security."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap}
        if self.security_protocol != "PLAINTEXT":
            config["security.protocol"] = self.security_protocol
        if self.sasl:
            config.update({"sasl.mechanism": self.sasl_mechanism, "sasl.username": self.sasl_username,
                           "sasl.password": self.sasl_password})
        if self.tls:
            for key, value in (("ssl.ca.location", self.ssl_ca_location),
                               ("ssl.certificate.location", self.ssl_certificate_location),
                               ("ssl.key.location", self.ssl_key_location)):
                if value:
                    config[key] = value
        config.update(overrides)
        return config

    def registry_config(self) -> dict[str, Any]:
        """confluent-kafka's SchemaRegistryClient settings."""
        config: dict[str, Any] = {"url": self.registry_url}
        if self.registry_user_info:
            config["basic.auth.user.info"] = self.registry_user_info
        return config

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of the connection for Python clients (Faust's aiokafka); None without TLS."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ssl_ca_location or None)
        if self.ssl_certificate_location:
            context.load_cert_chain(self.ssl_certificate_location, self.ssl_key_location)
        return context

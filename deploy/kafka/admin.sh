#!/usr/bin/env bash
# Runs one of the image's Kafka tools signed in as the broker's SCRAM user (SCRAM_BROKER_USER,
# SCRAM_BROKER_PASSWORD), on the broker's compose-network listener, e.g.
#   docker compose exec kafka bash /opt/tradestream/admin.sh kafka-topics.sh --list
# It adds `--bootstrap-server localhost:9092 --command-config FILE`, FILE being a client configuration
# written to a private temporary file, so the password is never on a command line.
# TRADESTREAM_KAFKA_HOME replaces /opt/kafka and ADMIN_BOOTSTRAP the address, for tests.
set -euo pipefail

(($# > 0)) || { echo "usage: admin.sh TOOL.sh [ARGUMENTS...]" >&2; exit 2; }
tool=$1
shift
kafka_home=${TRADESTREAM_KAFKA_HOME:-/opt/kafka}
umask 077
client_config=$(mktemp)
trap 'rm -f "$client_config"' EXIT
cat > "$client_config" <<CONFIG
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${SCRAM_BROKER_USER:?}" password="${SCRAM_BROKER_PASSWORD:?}";
CONFIG
"$kafka_home/bin/$tool" --bootstrap-server "${ADMIN_BOOTSTRAP:-localhost:9092}" --command-config "$client_config" "$@"

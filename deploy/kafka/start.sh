#!/usr/bin/env bash
# The kafka service's command in docker-compose.yml (apache/kafka, KRaft, one combined node).
#
# 1. Gives every SASL listener of KAFKA_LISTENER_SECURITY_PROTOCOL_MAP its JAAS line (the broker's own
#    SCRAM user, which it presents on the inter-broker listener).
# 2. The first time only (an empty log directory): formats the storage with the SCRAM users, the broker's
#    and the application's. In KRaft the credentials live in the metadata log, and a broker whose every
#    client listener wants SCRAM would refuse the client that tried to create the first user; nor can the
#    controller listener use SCRAM (KAFKA-15513). `kafka-storage format --add-scram` (KIP-900) writes them
#    into the log's bootstrap checkpoint before the broker starts.
# 3. Hands over to the image's own start (/etc/kafka/docker/run): it writes server.properties from the
#    KAFKA_* variables and formats the storage too, which on a formatted directory fails with "already
#    formatted", the failure its launch script accepts (every restart of the container takes that path),
#    and then starts the broker.
#
# The credentials come from variables that do not start with KAFKA_, because the image turns every KAFKA_*
# variable into a line of server.properties:
#   SCRAM_BROKER_USER, SCRAM_BROKER_PASSWORD   the broker's user (inter-broker listener, healthcheck, admin)
#   SCRAM_APP_USER, SCRAM_APP_PASSWORD         the application services' and the schema registry's user
# A password is only read when the storage is formatted: on a volume that already holds data, change it
# with kafka-configs (see the comment at the kafka service in docker-compose.yml).
#
# TRADESTREAM_KAFKA_HOME and TRADESTREAM_KAFKA_RUN replace /opt/kafka and /etc/kafka/docker/run, so that
# tests/integration/test_kafka_sasl.py runs this very script against the Kafka jars from Maven Central.
set -euo pipefail

kafka_home=${TRADESTREAM_KAFKA_HOME:-/opt/kafka}
image_run=${TRADESTREAM_KAFKA_RUN:-/etc/kafka/docker/run}
mechanism=SCRAM-SHA-512
jaas_module=org.apache.kafka.common.security.scram.ScramLoginModule

fail() {
  echo "deploy/kafka/start.sh: $*" >&2
  exit 1
}

# A user name travels in SCRAM messages and in `--add-scram name=...`; a password sits between double
# quotes in a JAAS line and in a comma-separated `--add-scram` list, so neither may hold those characters.
check_user() {
  [[ -n ${!1:-} ]] || fail "$1 is not set"
  [[ ${!1} =~ ^[A-Za-z0-9._-]+$ ]] || fail "$1 may hold only letters, digits, '.', '_' and '-'"
}
forbidden_in_password='[[:space:][:cntrl:]"'"'"',\]'
check_password() {
  [[ -n ${!1:-} ]] || fail "$1 is not set"
  [[ ! ${!1} =~ $forbidden_in_password ]] ||
    fail "$1 must not hold spaces, quotes, commas or backslashes (e.g. use: openssl rand -hex 32)"
}
check_user SCRAM_BROKER_USER
check_password SCRAM_BROKER_PASSWORD
check_user SCRAM_APP_USER
check_password SCRAM_APP_PASSWORD
[[ $SCRAM_BROKER_USER != "$SCRAM_APP_USER" ]] || fail "SCRAM_BROKER_USER and SCRAM_APP_USER must differ"
: "${CLUSTER_ID:?CLUSTER_ID is not set (the image formats the storage with it)}"
: "${KAFKA_LOG_DIRS:?KAFKA_LOG_DIRS is not set (the storage to format)}"
: "${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:?KAFKA_LISTENER_SECURITY_PROTOCOL_MAP is not set}"

# 1. listener.name.<listener>.scram-sha-512.sasl.jaas.config for every SASL listener, written as the image
# expects it: upper case, '_' for '.', '___' for '-'.
jaas="$jaas_module required username=\"$SCRAM_BROKER_USER\" password=\"$SCRAM_BROKER_PASSWORD\";"
sasl_listeners=0
IFS=, read -ra entries <<< "$KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"
for entry in "${entries[@]}"; do
  listener=${entry%%:*}
  protocol=${entry#*:}
  [[ $protocol == SASL_* ]] || continue
  [[ $listener =~ ^[A-Z0-9]+$ ]] || fail "SASL listener name '$listener' must be upper-case letters and digits"
  export "KAFKA_LISTENER_NAME_${listener}_${mechanism//-/___}_SASL_JAAS_CONFIG=$jaas"
  sasl_listeners=$((sasl_listeners + 1))
done
((sasl_listeners > 0)) || fail "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP names no SASL listener"

# server.properties as the image writes it from the environment (kafka.docker.KafkaDockerWrapper: strip
# KAFKA_, lower case, '_' -> '.', '___' -> '-', '__' -> '_'; the JVM and logging variables are not
# properties).
server_properties() {
  local name key
  local not_properties=" KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS KAFKA_OPTS KAFKA_JMX_OPTS \
KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS \
KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_JMX_HOSTNAME "
  for name in $(compgen -e); do
    [[ $name == KAFKA_* && $not_properties != *" $name "* ]] || continue
    key=${name#KAFKA_}
    key=${key,,}
    key=${key//_/.}
    key=${key//.../-}
    key=${key//../_}
    printf '%s=%s\n' "$key" "${!name}"
  done
}

# 2. The SCRAM users, when the storage is formatted for the first time.
first_log_dir=${KAFKA_LOG_DIRS%%,*}
if [[ -e $first_log_dir/meta.properties ]]; then
  echo "===> $first_log_dir is formatted already: its SCRAM users stay as they are"
else
  echo "===> Formatting $first_log_dir with the SCRAM users $SCRAM_BROKER_USER and $SCRAM_APP_USER"
  (
    umask 077  # the configuration holds the broker's password
    format_config=$(mktemp)
    trap 'rm -f "$format_config"' EXIT
    server_properties > "$format_config"
    "$kafka_home/bin/kafka-storage.sh" format --cluster-id "$CLUSTER_ID" --config "$format_config" \
      --add-scram "$mechanism=[name=$SCRAM_BROKER_USER,password=$SCRAM_BROKER_PASSWORD]" \
      --add-scram "$mechanism=[name=$SCRAM_APP_USER,password=$SCRAM_APP_PASSWORD]"
  )
fi

# 3. The image's own start.
exec "$image_run" "$@"

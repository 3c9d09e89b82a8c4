#!/usr/bin/env bash
# The schema-registry service's command in docker-compose.yml (confluentinc/cp-schema-registry): writes the
# users file of HTTP basic authentication (read through jaas.conf beside this script) from
# REGISTRY_BASIC_AUTH_USER and REGISTRY_BASIC_AUTH_PASSWORD, readable by the registry's user alone, then
# hands over to the image's own start. The variables do not start with SCHEMA_REGISTRY_, because the image
# turns every SCHEMA_REGISTRY_* variable into a line of schema-registry.properties.
# The one user gets the (first) role that SCHEMA_REGISTRY_AUTHENTICATION_ROLES admits.
# REGISTRY_BASIC_AUTH_USERS_FILE and TRADESTREAM_REGISTRY_RUN replace the users file's path and the image's
# /etc/confluent/docker/run, for a check outside the image.
set -euo pipefail

users_file=${REGISTRY_BASIC_AUTH_USERS_FILE:-/etc/schema-registry/basic-auth-users.properties}
roles=${SCHEMA_REGISTRY_AUTHENTICATION_ROLES:?SCHEMA_REGISTRY_AUTHENTICATION_ROLES is not set}
role=${roles%%,*}

fail() {
  echo "deploy/schema-registry/start.sh: $*" >&2
  exit 1
}

# The user and password end up in a `user: password,role` properties line and in the `user:password` of
# SCHEMA_REGISTRY_USER_INFO, so neither may hold the separators.
[[ -n ${REGISTRY_BASIC_AUTH_USER:-} ]] || fail "REGISTRY_BASIC_AUTH_USER is not set"
[[ $REGISTRY_BASIC_AUTH_USER =~ ^[A-Za-z0-9._-]+$ ]] ||
  fail "REGISTRY_BASIC_AUTH_USER may hold only letters, digits, '.', '_' and '-'"
[[ -n ${REGISTRY_BASIC_AUTH_PASSWORD:-} ]] || fail "REGISTRY_BASIC_AUTH_PASSWORD is not set"
forbidden_in_password='[[:space:][:cntrl:]"'"'"',\]'
[[ ! $REGISTRY_BASIC_AUTH_PASSWORD =~ $forbidden_in_password ]] ||
  fail "REGISTRY_BASIC_AUTH_PASSWORD must not hold spaces, quotes, commas or backslashes (e.g. use: openssl rand -hex 32)"
# Jetty reads a password that starts with one of these as a hash, not as the password itself.
[[ ! $REGISTRY_BASIC_AUTH_PASSWORD =~ ^(OBF|MD5|CRYPT): ]] ||
  fail "REGISTRY_BASIC_AUTH_PASSWORD must not start with OBF:, MD5: or CRYPT:"

(
  umask 077
  printf '%s: %s,%s\n' "$REGISTRY_BASIC_AUTH_USER" "$REGISTRY_BASIC_AUTH_PASSWORD" "$role" > "$users_file"
)

exec "${TRADESTREAM_REGISTRY_RUN:-/etc/confluent/docker/run}" "$@"

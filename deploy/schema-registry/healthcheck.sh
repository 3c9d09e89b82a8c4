#!/usr/bin/env bash
# The schema-registry service's healthcheck: the registry lists its subjects to its own basic-auth user
# (REGISTRY_BASIC_AUTH_USER, REGISTRY_BASIC_AUTH_PASSWORD). curl reads the credentials from its standard
# input, so the password is never on a command line. HEALTHCHECK_URL replaces the address, for a check
# outside the image.
set -euo pipefail

printf 'user = "%s:%s"\n' "${REGISTRY_BASIC_AUTH_USER:?}" "${REGISTRY_BASIC_AUTH_PASSWORD:?}" |
  curl --fail --silent --show-error --max-time 4 --config - --output /dev/null \
    "${HEALTHCHECK_URL:-http://localhost:8081/subjects}"

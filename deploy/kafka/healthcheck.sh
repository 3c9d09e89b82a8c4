#!/usr/bin/env bash
# The kafka service's healthcheck: the broker answers a client signed in as the broker's SCRAM user on its
# compose-network listener (admin.sh beside this script writes the client's configuration).
set -euo pipefail

bash "$(dirname "$0")/admin.sh" kafka-broker-api-versions.sh > /dev/null

#!/usr/bin/env bash
# Installs the system packages the local stack needs, only those missing, from Debian's packages.
# Java 17 runs the Kafka broker, Maven fetches its jars from Maven Central, PostgreSQL is the database.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
# kcat: a standard Kafka client used to check the broker from outside Python (`kcat -L`).
command -v kcat >/dev/null 2>&1 || missing+=(kcat)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts a system cluster on port 5432 after installing; the project runs its own on $POSTGRES_PORT.

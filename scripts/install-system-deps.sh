#!/usr/bin/env bash
# Installs the system packages the local stack needs, only those missing, from Debian's packages.
# Java 17 runs the Kafka broker, Maven fetches its jars from Maven Central, PostgreSQL is the database,
# Go builds the S3 server (versitygw, `go install` by tradestream/stack/s3.py on the first `stack up`).
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# Any Go from 1.21 on: it fetches the Go release versitygw's go.mod asks for (GOTOOLCHAIN=auto).
command -v go >/dev/null 2>&1 || missing+=(golang-go)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
# kcat: a standard Kafka client used to check the broker from outside Python (`kcat -L`).
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
# The dashboard's browser tests (tests/browser): Debian's chromium and chromium-driver come from one source
# package, so the driver always matches the browser; Selenium uses them without downloading anything.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)

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

# The project's own services (feed, worker, sink, API, set-up) for docker-compose.
# An exact Python release on an exact Debian release (tests/test_docker_compose.py refuses floating tags).
FROM python:3.11.16-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY tradestream ./tradestream
COPY streams ./streams
COPY processors ./processors
COPY api ./api
COPY schemas ./schemas
COPY connectors ./connectors
COPY sql ./sql
RUN pip install -e . && useradd --create-home --uid 10001 tradestream && mkdir /data && chown tradestream /data
USER tradestream
ENTRYPOINT ["tradestream"]

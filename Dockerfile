# Scout's runtime image: the bot, the engine and the store, nothing for tests, benchmarks
# or Spark. Dependencies come from requirements.lock (exact versions and sha256 hashes,
# from requirements.txt by pip-compile --generate-hashes), so a rebuild installs the
# same bytes or fails. One image runs every process: compose.yaml picks the command.
FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

FROM python:3.11-slim
# libgomp1: the OpenMP runtime nmslib and implicit link against
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/scout scout \
    && mkdir -p /app/data && chown scout:scout /app/data
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    SCOUT_DATA_DIR=/app/data \
    PORT=3000
WORKDIR /app
COPY --from=deps /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations/ migrations/
COPY models/ models/
COPY engine/ engine/
COPY bot/ bot/
USER scout
EXPOSE 3000
CMD ["python", "-m", "bot", "serve"]

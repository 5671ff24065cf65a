# The bot as a container: exactly the locked, hashed dependencies, run by an unprivileged user,
# with everything it keeps (the SQLite database and its backups) in the /data volume.
#   docker compose up -d        (see compose.yaml and the README, "Run it")
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, in their own layer: a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY messages ./messages
COPY scheduler ./scheduler
# The build backend comes from the lock too, so nothing unhashed is fetched here.
RUN pip install --no-deps --no-build-isolation . && rm -rf build *.egg-info

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin stepup \
    && mkdir /data && chown stepup:stepup /data && chmod 0700 /data
USER stepup
WORKDIR /data
VOLUME /data
# Relative paths in the settings (DATABASE_PATH=stepup.db, backups/...) land in the volume;
# compose.yaml mounts the server's bot/campaigns at /data/bot/campaigns, so CAMPAIGN_FILE means
# the same file as for `make run`.
ENV DATABASE_PATH=/data/stepup.db

CMD ["stepup-bot", "run"]

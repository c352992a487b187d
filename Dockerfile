# reposter: the API, the worker and the admin commands in one image. Configure it with REPOSTER_*
# variables (compose.yaml and docs/deploy.md show a whole deployment):
#   docker build -t reposter .
#   docker run --rm --env-file .env reposter migrate      # once per release, before the rest
#   docker run -d --env-file .env -p 8000:8000 reposter   # the API (`serve`, the default command)
#   docker run -d --env-file .env reposter worker         # one or more workers
# (add --init, as compose.yaml's init: true, so a SIGTERM sent while Python starts is not lost)
#
# BASE_IMAGE is any Debian-like image with python3 (3.11 or newer) and its venv module: the
# default is the official slim image; bench/image.sh builds on a Debian base made with debootstrap
# (no registry reachable) and passes BUILD_PACKAGES with python3-dev, which that base lacks.
ARG BASE_IMAGE=python:3.11-slim

# The build stage makes a virtualenv with reposter and its dependencies; gcc is only needed here,
# for the rule matcher's C extension (app/query/_native.c).
FROM ${BASE_IMAGE} AS build
ARG BUILD_PACKAGES="gcc libc6-dev"
RUN apt-get update && apt-get install -y --no-install-recommends ${BUILD_PACKAGES} \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/reposter
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
# app/ carries the migrations (`reposter migrate` needs no alembic.ini) and the dashboard's
# templates and static files (package-data in pyproject.toml): all of it goes into the install.
COPY app ./app
# The optional `pip_ca` secret is a CA bundle for an index reached through a TLS-inspecting proxy
# (bench/image.sh passes the host's); it is mounted for this step only and stays out of the image.
# The extension is optional in setup.py (the index falls back to Python), so the import check
# makes a build without it fail here instead of shipping a slower image; the checks run from /
# so that they import the installed package, not /src/app.
RUN --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
    && /opt/reposter/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && cd / \
    && /opt/reposter/bin/python -c "import app.query._native" \
    && /opt/reposter/bin/python -c "import app, pathlib; p = pathlib.Path(app.__file__).parent; \
assert (p / 'web/templates/signin').is_dir() and (p / 'static/web/htmx').is_dir(), 'templates missing'"

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/reposter/bin:$PATH REPOSTER_HOST=0.0.0.0
# A fixed numeric uid, so volume permissions and runAsNonRoot checks know whom to expect. Its home
# is the working directory (writable: `serve --with-worker` on SQLite keeps ./reposter.db there).
RUN useradd --uid 10001 --user-group --home-dir /srv/reposter --create-home --shell /usr/sbin/nologin reposter
COPY --from=build /opt/reposter /opt/reposter
WORKDIR /srv/reposter
USER 10001:10001
EXPOSE 8000
# SIGTERM is what both long-running commands handle: uvicorn drains its connections, a worker lets
# work in hand finish for REPOSTER_SHUTDOWN_GRACE_SECONDS and gives back its leases at once. The
# orchestrator's stop timeout must be longer than that grace (compose.yaml: stop_grace_period).
STOPSIGNAL SIGTERM
# No HEALTHCHECK here: the image runs three roles and only `serve` answers HTTP (a worker would be
# marked unhealthy for ever). compose.yaml checks the API on /readyz; see docs/deploy.md.
ENTRYPOINT ["reposter"]
CMD ["serve"]

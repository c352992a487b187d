#!/usr/bin/env bash
# Run compose.yaml for real where no registry is reachable: podman-compose (Debian's), the image
# bench/image.sh built, and a PostgreSQL image built from Debian's packages (bench/postgres/).
# It starts the database and the migration, then the API and the two workers, checks the health
# checks and /readyz, restarts each worker in turn with SIGTERM (a rolling restart), and tears the
# whole thing down again (KEEP=1 leaves it running).
#
#   bench/image.sh build && bench/compose.sh
#
# Settings: WORK_DIR, BASE_IMAGE, IMAGE as in bench/image.sh; PUBLISH_PORT (18081).
# podman-compose 1.0.3 (bookworm) differs from `docker compose` in ways this script works around:
# it does not wait for depends_on conditions (so the database and the migration are started and
# awaited first), it
# ignores stop_grace_period (so stops pass -t 30) and the top-level `name` (so -p reposter), and
# podman runs no periodic health checks without systemd (so they are run here by hand).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK_DIR=${WORK_DIR:-/var/tmp/reposter-image}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian-base:bookworm}
IMAGE=${IMAGE:-localhost/reposter:latest}
PG_IMAGE=localhost/postgres:15-debian
PUBLISH_PORT=${PUBLISH_PORT:-18081}
PROJECT=reposter
DIR=$WORK_DIR/compose

say() { printf '\n== %s [%s]\n' "$*" "$(date -u +%H:%M:%S)"; }
fail() { printf 'compose.sh: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { printf '%.1fs' "$(echo "$(now) - $1" | bc)"; }
compose() { (cd "$DIR" && podman-compose -p "$PROJECT" "$@" >>"$DIR/compose.log" 2>&1); }
state() { podman inspect -f '{{.State.Status}} exit={{.State.ExitCode}} restarts={{.RestartCount}}' "$1"; }

setup() {
    command -v podman-compose >/dev/null || fail "podman-compose missing: apt-get install -y podman-compose"
    podman image exists "$IMAGE" || fail "no $IMAGE: run bench/image.sh build first"
    [ -f "$WORK_DIR/containers.conf" ] && export CONTAINERS_CONF=$WORK_DIR/containers.conf
    if ! podman image exists "$PG_IMAGE"; then
        say "build $PG_IMAGE (Debian's postgresql-15 on $BASE_IMAGE)"
        podman build --format docker -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$PG_IMAGE" "$ROOT/bench/postgres" >/dev/null
    fi
    # a project folder of its own: the .env written here holds a fresh password and key
    rm -rf "$DIR" && mkdir -p "$DIR" && cp "$ROOT/compose.yaml" "$DIR/"
    local password key
    password=$(python3 -c "import secrets; print(secrets.token_hex(16))")
    key=$(podman run --rm "$IMAGE" keygen)
    cat >"$DIR/.env" <<ENV
POSTGRES_PASSWORD=$password
REPOSTER_DATABASE_URL=postgresql://reposter:$password@db:5432/reposter
REPOSTER_ENCRYPTION_KEY=$key
POSTGRES_IMAGE=$PG_IMAGE
REPOSTER_IMAGE=$IMAGE
REPOSTER_PUBLISH_PORT=$PUBLISH_PORT
ENV
}

up() {
    local start t
    say "up: db + migrate, then api + 2 workers"
    start=$(now)
    compose up -d db
    for _ in $(seq 60); do podman healthcheck run "${PROJECT}_db_1" >/dev/null 2>&1 && break; sleep 1; done
    echo "db healthy after $(since "$start") (first start: initdb)"
    # `up` starts a service's dependencies too (podman-compose has no --no-deps): the db's second
    # start fails on the name in use, which leaves the running one alone
    compose up -d migrate
    [ "$(podman wait "${PROJECT}_migrate_1")" = 0 ] || { podman logs "${PROJECT}_migrate_1" | tail; fail "migrate failed"; }
    echo "migrate exited 0 after $(since "$start") in all"
    podman logs "${PROJECT}_migrate_1" 2>&1 | tail -1
    compose up -d api worker
    t=$(now)
    for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$PUBLISH_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
    echo "/readyz through the published port: $(curl -sS "http://127.0.0.1:$PUBLISH_PORT/readyz") ($(since "$t") after up)"
    echo "/healthz: $(curl -sS "http://127.0.0.1:$PUBLISH_PORT/healthz"); /signin: HTTP $(curl -s -o /dev/null \
        -w '%{http_code}' "http://127.0.0.1:$PUBLISH_PORT/signin")"
    for c in db api; do
        if ! podman healthcheck run "${PROJECT}_${c}_1" >/dev/null; then
            fail "health check $c failed: $(podman inspect -f '{{json .Config.Healthcheck}}' "${PROJECT}_${c}_1")"
        fi
        echo "health check $c: healthy"
    done
    sleep 3  # a few scheduler ticks
    for c in migrate_1 api_1 worker_1 worker_2; do echo "${PROJECT}_$c: $(state "${PROJECT}_$c")"; done
    echo "workers: $(podman logs "${PROJECT}_worker_1" 2>&1 | grep -o '"worker_id": "[^"]*"') and" \
         "$(podman logs "${PROJECT}_worker_2" 2>&1 | grep -o '"worker_id": "[^"]*"')"
}

# one worker at a time: SIGTERM, wait for its exit, start it again; the other keeps working
rolling_restart() {
    local c start
    say "rolling restart of the workers (SIGTERM, stop timeout 30 s as stop_grace_period)"
    for c in "${PROJECT}_worker_1" "${PROJECT}_worker_2"; do
        start=$(now)
        podman stop -t 30 "$c" >/dev/null
        echo "$c: stopped in $(since "$start"), $(state "$c")"
        podman logs "$c" 2>&1 | grep -E 'shutdown: leases released|worker stopped' | tail -2
        podman start "$c" >/dev/null
        for _ in $(seq 30); do [ "$(podman logs "$c" 2>&1 | grep -c 'worker started')" -ge 2 ] && break; sleep 0.5; done
        echo "$c: started again after $(since "$start") in all, $(state "$c")"
    done
}

down() {
    say "down"
    local start
    start=$(now)
    # podman-compose's down stops with podman's default 10 s; the api and workers stop well within it
    compose down -v
    echo "down in $(since "$start")"
    # podman-compose 1.0.3 leaves the project's network behind
    podman network rm "${PROJECT}_default" >/dev/null 2>&1 || true
}

setup
up
rolling_restart
[ "${KEEP:-0}" = 1 ] && { echo "left running (KEEP=1): cd $DIR && podman-compose -p $PROJECT down -v"; exit 0; }
down

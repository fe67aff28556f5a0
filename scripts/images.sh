#!/usr/bin/env bash
# Builds the container images the cluster tests need, from Debian itself: no image registry is
# reachable here. Installs Debian's docker.io and debootstrap when missing and starts dockerd
# (without systemd) when it is not running, the way servers.sh does for the servers.
#   scripts/images.sh          # install/start Docker, build what is missing, write .run/images.env
#   scripts/images.sh stop     # stop the dockerd this script started
# Images are tagged by a hash of what they are built from, so a second run only checks (seconds).
# .run/images.env holds WORKQ_TEST_RABBITMQ_IMAGE for the tests.
set -euo pipefail

_img_log() { echo "[images] $*" >&2; }
_img_die() { echo "[images] ERROR: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.run"
ENV_FILE="$RUN_DIR/images.env"
TIMEOUT="${WORKQ_SERVERS_TIMEOUT:-120}"
SUITE=bookworm

_img_docker_up() { docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }

_img_install() {
  [[ $(id -u) -eq 0 ]] || _img_die "must run as root to install: $*"
  export DEBIAN_FRONTEND=noninteractive
  _img_log "apt-get install $*"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_img_start_docker() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  ((${#missing[@]} == 0)) || _img_install "${missing[@]}"
  _img_docker_up && return 0
  mkdir -p "$RUN_DIR"
  _img_log "starting dockerd (log: .run/dockerd.log)"
  nohup dockerd >"$RUN_DIR/dockerd.log" 2>&1 &
  echo $! >"$RUN_DIR/dockerd.pid"
  local deadline=$((SECONDS + TIMEOUT))
  until _img_docker_up; do
    ((SECONDS < deadline)) || _img_die "dockerd did not answer within ${TIMEOUT}s (see .run/dockerd.log)"
    sleep 0.5
  done
}

_img_has() { docker image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror this machine's apt uses: the base image and its containers install from it too.
_img_mirror() {
  local mirror
  mirror="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  [[ -n "$mirror" ]] || mirror="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)"
  [[ -n "$mirror" ]] || _img_die "no Debian mirror found in /etc/apt"
  echo "$mirror"
}

# A minimal Debian, made by debootstrap and imported as an image (about a minute).
_img_base() {
  local mirror tag dir
  mirror="$(_img_mirror)"
  tag="workq-test/debian:$SUITE-$(printf '%s\n' "$SUITE" "$mirror" minbase | sha256sum | cut -c1-12)"
  if ! _img_has "$tag"; then
    dir="$(mktemp -d)"
    _img_log "debootstrap $SUITE into $dir"
    debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" >"$RUN_DIR/debootstrap.log" 2>&1 \
      || { rm -rf "$dir"; _img_die "debootstrap failed (see .run/debootstrap.log)"; }
    tar -C "$dir" -c . | docker import - "$tag" >/dev/null
    rm -rf "$dir"
  fi
  echo "$tag"
}

# An image from a context under tests/images, tagged by the hash of its files and of its base.
_img_build() {
  local name="$1" base="$2" context="$ROOT/tests/images/$1" hash tag
  hash="$( (echo "$base"; cd "$context" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-12)"
  tag="workq-test/$name:$hash"
  if ! _img_has "$tag"; then
    _img_log "building $tag"
    docker build -q --build-arg "BASE=$base" -t "$tag" "$context" >"$RUN_DIR/image-$name.log" 2>&1 \
      || _img_die "docker build of $name failed (see .run/image-$name.log)"
  fi
  echo "$tag"
}

case "${1:-start}" in
  start)
    mkdir -p "$RUN_DIR"
    _img_start_docker
    # Containers and networks a killed test run left behind (the tests remove their own).
    docker ps -aq --filter name=workq-rabbitmq- | xargs -r docker rm -f >/dev/null
    docker network ls -q --filter name=workq-rabbitmq- | xargs -r docker network rm >/dev/null
    base="$(_img_base)"
    rabbitmq="$(_img_build rabbitmq "$base")"
    printf "WORKQ_TEST_RABBITMQ_IMAGE='%s'\n" "$rabbitmq" >"$ENV_FILE"
    _img_log "ready: $rabbitmq"
    ;;
  stop)
    if [[ -f "$RUN_DIR/dockerd.pid" ]]; then
      kill "$(cat "$RUN_DIR/dockerd.pid")" 2>/dev/null || true
      rm -f "$RUN_DIR/dockerd.pid"
    fi
    ;;
  *) _img_die "usage: $0 [start|stop]" ;;
esac

#!/usr/bin/env bash
# Sets up a fresh Debian machine for the pipeline, idempotently:
# Java 17, Maven and openssl (for the local Kafka broker), Chromium (the web view's
# browser tests drive Debian's chromium through Playwright), Redis (Celery and
# RQ in `feynman bench compare`), a virtualenv with the project, its dev tools
# and the bench extra, and the Kafka jars in the cache.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v java >/dev/null 2>&1 || apt_packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || apt_packages+=(maven)
[[ -x /usr/bin/chromium ]] || apt_packages+=(chromium)
# openssl: the certificates of `feynman broker start --secure` (and its test).
command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)
# Redis: the broker of Celery and RQ in `feynman bench compare`.
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_packages+=(python3-venv)
if ((${#apt_packages[@]})); then
    echo "setup: installing ${apt_packages[*]}"
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${apt_packages[@]}"
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "setup: Python >= 3.11 is required, found $(python3 --version)" >&2
    exit 1
}
[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,bench]'
.venv/bin/feynman broker install

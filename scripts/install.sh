#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (Python 3.11 + pip + apt):
# a virtual environment at .venv with the pinned stack, Debian's PostgreSQL server for the tests
# that run against a real server, and Debian's chromium for the browser test of the UI.
# Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL server (Debian package) for the PostgreSQL tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "WARNING: PostgreSQL could not be installed; its tests will skip and say why"
  else
    echo "WARNING: PostgreSQL server not found and apt-get unavailable; its tests will skip"
  fi
fi

# Debian's chromium + its driver, for the browser test of the Dagster UI (nothing is downloaded at run time).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver (Debian packages) for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "WARNING: chromium could not be installed; the browser test will skip and say why"
  else
    echo "WARNING: chromium not found and apt-get unavailable; the browser test will skip"
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
.venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import torch, torch_geometric, dagster, sqlalchemy; print('environment ready: torch', torch.__version__, '| dagster', dagster.__version__)"

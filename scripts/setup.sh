#!/usr/bin/env bash
# Install what the project needs, idempotently: Debian packages (CJK fonts for charts; with --dev also
# LibreOffice and poppler for the rendering tests), a virtualenv in .venv with the project, and (--dev)
# make sure the local PostgreSQL and MariaDB servers the integration tests use are running.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1

apt_packages=(fonts-noto-cjk fonts-wqy-zenhei)
[[ $DEV == 1 ]] && apt_packages+=(libreoffice-writer-nogui poppler-utils)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if (( ${#missing[@]} )); then
  SUDO=""
  [[ $(id -u) != 0 ]] && SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [[ $DEV == 1 ]]; then
  .venv/bin/python -m pip install -q -e ".[dev,dask]"
else
  .venv/bin/python -m pip install -q -e .
fi

if [[ $DEV == 1 ]]; then
  # the integration tests talk to real servers on 127.0.0.1 (PostgreSQL 5432, MariaDB 3306)
  if ! (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    echo "setup: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  if ! (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null && [[ -x /usr/sbin/mariadbd ]]; then
    echo "setup: starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  fi
  for i in $(seq 1 30); do
    (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null && (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null && break
    sleep 1
  done
fi
echo "setup: ready (.venv)"

#!/usr/bin/env bash
# Installs Debian's Chromium (and fonts for it) when missing: the dashboard's browser
# tests drive it through Playwright, which cannot download its own browsers here.
# Idempotent; needs root only when something must be installed.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "[chromium] ERROR: must run as root to install chromium" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
echo "[chromium] apt-get update"
apt-get update -qq
echo "[chromium] apt-get install chromium"
apt-get install -y -qq --no-install-recommends chromium fonts-liberation fonts-dejavu-core >/dev/null
/usr/bin/chromium --version 2>/dev/null | grep -m1 -i chromium

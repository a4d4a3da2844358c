#!/usr/bin/env bash
# Installs what the live chart page and its browser test need:
#   - the charting library (npm, into sinks/websocket/web/node_modules, git-ignored; served as a static file)
#   - Debian's chromium, for the headless page test, when it is missing.
# Safe to run again. Usage: scripts/setup-web.sh [--no-browser]
set -euo pipefail
cd "$(dirname "$0")/.."

web=sinks/websocket/web
lib="$web/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js"
if [[ ! -f "$lib" ]]; then
  command -v npm >/dev/null || { echo "setup-web: npm is needed (apt-get install npm)" >&2; exit 1; }
  npm install --prefix "$web" --no-package-lock --no-audit --no-fund --omit=dev
fi
[[ -f "$lib" ]] || { echo "setup-web: $lib missing after npm install" >&2; exit 1; }
echo "setup-web: charting library at $lib"

if [[ "${1:-}" != "--no-browser" ]]; then
  if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
      echo "setup-web: chromium missing; install Debian's chromium package (as root: apt-get install chromium)" >&2
      exit 1
    fi
  fi
  echo "setup-web: browser $(command -v chromium || command -v chromium-browser)"
fi

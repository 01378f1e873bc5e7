#!/usr/bin/env bash
# Install what the browser test needs: Debian's chromium and its chromedriver (never a browser
# download). Idempotent: does nothing when both are there. Needs root (or sudo) to install.
#
#   scripts/browser-deps.sh            # install when missing
#   scripts/browser-deps.sh --check    # exit 1 when missing, install nothing
set -euo pipefail

packages=(chromium chromium-driver)
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)

if [ ${#missing[@]} -eq 0 ]; then
    echo "browser-deps: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and chromedriver are installed"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "browser-deps: missing ${missing[*]}" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "browser-deps: run as root to install ${packages[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "browser-deps: installed $(/usr/bin/chromium --version 2>/dev/null)"

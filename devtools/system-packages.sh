#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests, nginx to run the compose
# proxy's configuration in front of a service (tests/e2e/test_slow_clients.py), docker-compose to
# validate the compose file offline. Installed when missing (as root, or with sudo).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages the tests need: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

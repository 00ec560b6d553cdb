#!/usr/bin/env bash
# From a fresh clone to a passing `npm test`, in one command (`npm run setup-and-test`, also what CI's .ci/run runs):
# the Debian packages the tests drive for real when they are missing (chromium: the browser demo tests;
# redis-server: the shared-lock tests, which start their own servers on 127.0.0.1), then npm ci and npm test.
# The tests start everything else they need themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup-and-test: install ${missing[*]} with your system's package manager (the tests need them), then run it again" >&2
    exit 1
  fi
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
npm ci --no-audit --no-fund
npm test

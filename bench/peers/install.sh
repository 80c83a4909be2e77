#!/usr/bin/env bash
# Installs the peers the benchmark runs beside the ledger (the event stores of W1 and W3,
# PostGraphile for W4), from the public registries, at the versions pinned here (package.json
# and package-lock.json for npm, requirements.txt for PyPI), into DIR (default:
# target/bench-peers of the workspace):
#   DIR/node   npm packages (message-db, Emmett, PostGraphile, pg) and the Node drivers
#   DIR/venv   a Python venv with eventsourcing and psycopg
# Idempotent: an installation that matches the pinned versions is kept. Prints the versions
# installed, one "package version" a line, after a line "versions:".
#
#   bench/peers/install.sh [DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${1:-$here/../../target/bench-peers}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "install.sh: $1 not found; the peers need $2" >&2
    exit 1
  fi
}
need node "Node.js 20 or later with npm"
need npm "npm (comes with Node.js)"
need python3 "Python 3.11 or later with the venv module (Debian: apt-get install python3-venv)"
need psql "the PostgreSQL client (psql), which message-db's install script runs"

# npm: install from the lock file unless the same lock file is installed already.
mkdir -p "$dir/node"
if ! cmp -s "$here/package-lock.json" "$dir/node/package-lock.json" \
  || [ ! -d "$dir/node/node_modules" ]; then
  echo "installing npm packages into $dir/node" >&2
  cp "$here/package.json" "$here/package-lock.json" "$dir/node/"
  (cd "$dir/node" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
# The drivers run from beside node_modules, so that their imports resolve there.
cp "$here"/*.mjs "$dir/node/"

# PyPI: a venv with the pinned requirements unless it has them already.
if ! cmp -s "$here/requirements.txt" "$dir/venv/requirements.txt" \
  || [ ! -x "$dir/venv/bin/python" ]; then
  echo "installing Python packages into $dir/venv" >&2
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" >&2
  cp "$here/requirements.txt" "$dir/venv/requirements.txt"
fi

echo "versions:"
echo "node $(node --version)"
for package in @eventide/message-db @event-driven-io/emmett @event-driven-io/emmett-postgresql \
  postgraphile graphql pg; do
  version="$(node -p "require('$dir/node/node_modules/$package/package.json').version")"
  echo "$package $version"
done
echo "python $("$dir/venv/bin/python" -c 'import platform; print(platform.python_version())')"
for package in eventsourcing psycopg psycopg-pool; do
  version="$("$dir/venv/bin/python" -c "import importlib.metadata as m; print(m.version('$package'))")"
  echo "$package $version"
done
echo "dir $dir"

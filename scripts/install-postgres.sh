#!/bin/sh
# PostgreSQL, from Debian's own packages, for the tests that share state through a database
# (tests/postgres_server.py makes a throwaway cluster with `initdb` and starts it with `pg_ctl`).
# Debian keeps those two off the PATH, under /usr/lib/postgresql/VERSION/bin. Does nothing when
# they are there or on the PATH. The package also makes and starts a cluster of its own (port
# 5432); the tests do not use it.
set -eu

have_server_binaries() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        return 0
    fi
    for bin in /usr/lib/postgresql/*/bin; do
        if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then
            return 0
        fi
    done
    return 1
}

if have_server_binaries; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-postgres: no initdb/pg_ctl and no apt-get; install the PostgreSQL server" \
        "(version 13 or later) by hand and put its bin folder on the PATH" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
# Non-interactive: on a fresh machine the tzdata it pulls in would otherwise ask for a zone.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
if ! have_server_binaries; then
    echo "install-postgres: installed Debian's postgresql but found no initdb/pg_ctl under" \
        "/usr/lib/postgresql/*/bin; check \`dpkg -L postgresql\`" >&2
    exit 1
fi

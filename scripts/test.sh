#!/usr/bin/env bash
# Runs every test of the workspace against real services: SQLite, PostgreSQL, MariaDB, Redis,
# Python FastAuth for the compatibility test, aiosmtpd for the mail tests, and
# oidc-provider-mock for the OAuth tests. Starts what is not running and installs what is
# missing, so it works on a fresh machine.
#
# Services, as the tests expect them (override with the variables):
#   FASTAUTH_TEST_POSTGRES  postgres://postgres@127.0.0.1:5432/test
#   FASTAUTH_TEST_MYSQL     mysql://root@127.0.0.1:3306/test
#   FASTAUTH_TEST_REDIS     redis://127.0.0.1:6379
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*"; }

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {
    local what=$1 check=$2
    for _ in $(seq 1 60); do
        if eval "$check" >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    echo "error: $what did not become ready within 60 s" >&2
    return 1
}

start_postgres() {
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        return 0
    fi
    if ! command -v pg_ctlcluster >/dev/null 2>&1; then
        log "installing PostgreSQL"
        apt_install postgresql
    fi
    log "starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for PostgreSQL "pg_isready -q -h 127.0.0.1 -p 5432"
    # Trust on loopback and a `test` database, as the tests expect.
    if ! psql -h 127.0.0.1 -U postgres -d test -c 'SELECT 1' >/dev/null 2>&1; then
        su postgres -c "psql -c \"ALTER USER postgres PASSWORD NULL\"" >/dev/null || true
        su postgres -c "createdb test" || true
    fi
}

start_mariadb() {
    if mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
        log "installing MariaDB"
        apt_install mariadb-server
    fi
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB "mysqladmin -h 127.0.0.1 -uroot ping"
    mysql -h 127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test' || true
}

start_redis() {
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        log "installing Redis"
        apt_install redis-server
    fi
    log "starting Redis"
    # Nothing on disk: the tests' keys all expire, and a restart may lose them.
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping"
}

setup_reference_python() {
    local venv=.venv/reference
    local stamp=$venv/.requirements
    if [ -x "$venv/bin/python" ] && cmp -s scripts/requirements-reference.txt "$stamp"; then
        return 0
    fi
    log "installing Python FastAuth into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-reference.txt
    cp scripts/requirements-reference.txt "$stamp"
}

setup_mail_python() {
    local venv=.venv/mail
    local stamp=$venv/.requirements
    if [ -x "$venv/bin/python" ] && cmp -s scripts/requirements-mail.txt "$stamp"; then
        return 0
    fi
    log "installing aiosmtpd into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-mail.txt
    cp scripts/requirements-mail.txt "$stamp"
}

setup_oidc_python() {
    local venv=.venv/oidc
    local stamp=$venv/.requirements
    if [ -x "$venv/bin/python" ] && cmp -s scripts/requirements-oidc.txt "$stamp"; then
        return 0
    fi
    log "installing oidc-provider-mock into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-oidc.txt
    cp scripts/requirements-oidc.txt "$stamp"
}

start_postgres
start_mariadb
start_redis
setup_reference_python
setup_mail_python
setup_oidc_python

export FASTAUTH_TEST_POSTGRES=${FASTAUTH_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
export FASTAUTH_TEST_MYSQL=${FASTAUTH_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}
export FASTAUTH_TEST_REDIS=${FASTAUTH_TEST_REDIS:-redis://127.0.0.1:6379}
export FASTAUTH_REFERENCE_PYTHON=${FASTAUTH_REFERENCE_PYTHON:-$PWD/.venv/reference/bin/python}
export FASTAUTH_MAIL_PYTHON=${FASTAUTH_MAIL_PYTHON:-$PWD/.venv/mail/bin/python}
export FASTAUTH_OIDC_PYTHON=${FASTAUTH_OIDC_PYTHON:-$PWD/.venv/oidc/bin/python}

log "cargo test --workspace"
cargo test --workspace "$@"

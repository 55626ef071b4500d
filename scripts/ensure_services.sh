#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1, starting them when they do not
# (the commands are in DEVELOPERS.md). Exits non-zero with a clear message when it cannot.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

wait_for() {  # wait_for <check-fn> <seconds>
    local i
    for ((i = 0; i < $2 * 4; i++)); do "$1" && return 0; sleep 0.25; done
    return 1
}

if ! pg_up; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432 - starting it" >&2
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /etc/postgresql ]; then
        echo "ERROR: PostgreSQL is not installed here (no pg_ctlcluster / /etc/postgresql)." >&2
        echo "       Install PostgreSQL or set DATABASE_URL to a reachable server." >&2
        exit 1
    fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    if ! wait_for pg_up 30; then
        echo "ERROR: PostgreSQL did not come up within 30 s; see /var/log/postgresql/." >&2
        exit 1
    fi
fi

if ! redis_up; then
    echo "Redis is not answering on 127.0.0.1:6379 - starting it" >&2
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "ERROR: redis-server is not installed here. Install Redis or set REDIS_URL." >&2
        exit 1
    fi
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    if ! wait_for redis_up 20; then
        echo "ERROR: Redis did not come up within 20 s; see /var/log/redis/ci.log." >&2
        exit 1
    fi
fi
echo "services: PostgreSQL and Redis are answering"

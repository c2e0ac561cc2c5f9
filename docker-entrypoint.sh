#!/bin/sh
# Start sdgscore: bring the database schema up to date, then serve with gunicorn on $PORT.
# Used as the container's entrypoint, and by CI outside Docker (no Docker engine there).
set -eu

# `docker run IMAGE worker`: a background task worker (rescoring jobs); the web container migrates.
if [ "${1:-}" = "worker" ]; then
    shift
    exec python manage.py db_worker "$@"
fi

python manage.py migrate --noinput

# The image collects static files at build time; a bare checkout (CI) does it here.
if [ ! -f "${STATIC_ROOT:-staticfiles}/staticfiles.json" ]; then
    python manage.py collectstatic --noinput --verbosity 0
fi

exec gunicorn sdgscore.wsgi:application \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --access-logfile - \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    "$@"

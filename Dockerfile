# sdgscore: gunicorn serving Django, static files by whitenoise, as a non-root user.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    DATABASE_URL=sqlite:////app/data/db.sqlite3

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app \
    && mkdir /app/data \
    && chown app:app /app/data

# A font with Japanese and Latin for the share cards (og:image, projects/web/share_card.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-ipafont-gothic=00303-23 \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=app:app . .
# Collected at build time with a throw-away key: collectstatic reads no secret.
RUN SECRET_KEY=collectstatic-only-not-a-secret-long-enough-for-the-startup-check python manage.py collectstatic --noinput \
    && chmod +x docker-entrypoint.sh

USER 10001:10001
EXPOSE 8000
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["./docker-entrypoint.sh"]

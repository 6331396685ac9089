# The server image: Daphne (web and the web client), Celery (worker, beat) and the management
# commands.

# The web client, built with Node.js into frontend/dist (only the build is kept).
FROM node:20-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/data
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/base.lock requirements/base.lock
RUN pip install -r requirements/base.lock
COPY . .
COPY --from=frontend /frontend/dist frontend/dist
# Placeholder keys, so that no generated key is left in an image layer; never used to encrypt.
RUN export SECRET_KEY=build MASTER_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    && python manage.py compilemessages -v 0 \
    && python manage.py collectstatic --no-input -v 0
RUN useradd --system --uid 1000 --home /app app && mkdir -p /data && chown app /data
USER app
EXPOSE 8000
CMD ["python", "-m", "coordination.server", "-b", "0.0.0.0", "-p", "8000", "asgi:application"]

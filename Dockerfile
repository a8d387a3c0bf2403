# syntax=docker/dockerfile:1
# Build stage: a virtualenv with secdigest installed from a wheel (migrations and
# templates travel inside the package).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN /opt/venv/bin/pip install .

# Runtime stage: no compiler, no sources, a non-root user.
FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --create-home --home-dir /srv/secdigest secdigest \
    && mkdir -p /srv/secdigest/var && chown secdigest:secdigest /srv/secdigest/var
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SECDIGEST_DATABASE_URL=sqlite:////srv/secdigest/var/secdigest.db
WORKDIR /srv/secdigest
USER secdigest
VOLUME ["/srv/secdigest/var"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# Two server processes (uvicorn workers): reads are cached per process and shared through
# Redis when SECDIGEST_BROKER_URL (or SECDIGEST_CACHE_URL) names one.
CMD ["secdigest", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]

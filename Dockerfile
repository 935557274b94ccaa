# syndicator: feeds and email digests of a portal's bulletins.
#   docker build -t syndicator .
#   docker run -p 8080:8080 syndicator           # the embedded demo
# Operators point it at real databases and SMTP with SYNDICATOR_* variables or a
# config file mounted at /etc/syndicator/config.yaml (docs/operations.md), and set
# SEED_DEMO=0.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/syndicator
WORKDIR /src
# Dependencies first, in their own layer: code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c 'import tomllib; d = tomllib.load(open("pyproject.toml", "rb")); \
print("\n".join(d["project"]["dependencies"]))' > requirements.txt \
 && /opt/syndicator/bin/pip install -r requirements.txt
COPY syndicator ./syndicator
COPY templates ./templates
RUN /opt/syndicator/bin/pip install --no-deps . \
 && /opt/syndicator/bin/python -m compileall -q /opt/syndicator/lib

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin syndicator \
 && mkdir -p /data && chown syndicator:syndicator /data
COPY --from=builder /opt/syndicator /opt/syndicator
COPY docker/entrypoint.sh /usr/local/bin/syndicator-entrypoint
COPY docker/config.yaml /etc/syndicator/config.yaml
# Paths and URLs live in the config file, so that a mounted file or a _FILE secret can
# replace them; only the listen address is fixed here (a container listens everywhere).
ENV PATH=/opt/syndicator/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SEED_DEMO=1 \
    SYNDICATOR_CONFIG=/etc/syndicator/config.yaml \
    SYNDICATOR_HTTP__HOST=0.0.0.0 \
    SYNDICATOR_HTTP__PORT=8080
USER syndicator
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=6s --start-period=30s --retries=3 \
  CMD ["syndicator", "healthcheck", "--timeout", "5"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/syndicator-entrypoint"]

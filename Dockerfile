# The service image: a build stage makes /opt/venv, the final stage carries only that venv, the
# rule pack, the default config and the seed fixtures, and runs as an unprivileged user.
#
#   docker build -t sanctions-monitor .
#   docker run -v monitor-data:/data -p 8080:8080 sanctions-monitor
#
# BASE is any image with python3 that can make a venv (python:3.11-slim, or a local Debian base
# as `make image-check` builds). PIP_CERT is optional: a CA bundle path for pip, for networks
# that intercept TLS (mount the file into the build, e.g. buildah's --volume).
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG PIP_CERT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when it changes.
# A current pip first: an older one (Debian's 23.0) misreads extras such as lxml[html_clean]
# and leaves out what trafilatura needs.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir pip==26.3 \
 && python3 -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["postgres"]))' > /tmp/requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# Then the package itself, not editable, which changes often and installs in seconds. The
# context is only what .dockerignore lets in: pyproject.toml, README.md and the package, and the
# rule pack, config and seeds, which go to /app for the final stage in one layer. pip and
# setuptools leave the venv: nothing needs them at run time.
COPY . ./
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps '.[postgres]' \
 && /opt/venv/bin/pip check \
 && /opt/venv/bin/python -m pip uninstall --yes --quiet pip setuptools \
 && mkdir /app \
 && cp -R rules config seeds /app/


FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    MONITOR_DATABASE_URL=sqlite:////data/monitor.db \
    MONITOR_SERVER__HOST=0.0.0.0

RUN groupadd --gid 10001 monitor \
 && useradd --uid 10001 --gid monitor --no-log-init --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin monitor \
 && mkdir -p /data \
 && chown monitor:monitor /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# config/monitor.yaml is found relative to the working directory; its paths are relative to it.
WORKDIR /app

# After the chown: a new named volume starts with /data's owner.
VOLUME ["/data"]
USER 10001:10001
# /healthz, /readyz and /metrics (server.port, MONITOR_SERVER__PORT).
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["monitor", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]

# The service image. Hardening (multi-stage, non-root, healthcheck) comes with the operations work.
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install --no-cache-dir .
COPY rules ./rules
COPY config ./config
COPY seeds ./seeds

ENV MONITOR_DATABASE_URL=sqlite:////data/monitor.db
VOLUME ["/data"]
ENTRYPOINT ["monitor"]
CMD ["run"]

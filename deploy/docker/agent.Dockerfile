# syntax=docker/dockerfile:1
# The kfed agent image: kfed-core and kfed-agent only. No cloud SDK: the agent talks to its own
# cluster's API server and to the hub, nothing else. Build from the repository root:
#   docker build -f deploy/docker/agent.Dockerfile -t ghcr.io/kfed/kfed-agent:0.1.0 .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/kfed
WORKDIR /src
COPY constraints.txt ./
COPY protos/ protos/
COPY agent/ agent/
RUN /opt/kfed/bin/pip install -c constraints.txt ./protos ./agent

FROM python:3.11-slim
RUN groupadd --system --gid 10001 kfed \
    && useradd --system --uid 10001 --gid kfed --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin kfed
COPY --from=build /opt/kfed /opt/kfed
ENV PATH=/opt/kfed/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
ENTRYPOINT ["kfed-agent"]
CMD ["--config", "/etc/kfed/agent"]

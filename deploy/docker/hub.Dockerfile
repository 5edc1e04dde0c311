# syntax=docker/dockerfile:1
# The kfed hub image: kfed-core, kfed-hub (the `kfed` CLI) and the provider plugins (local, gcp,
# aws, openstack). Build from the repository root:
#   docker build -f deploy/docker/hub.Dockerfile -t ghcr.io/kfed/kfed-hub:0.1.0 .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/kfed
WORKDIR /src
COPY constraints.txt ./
COPY protos/ protos/
COPY hub/ hub/
COPY plugins/local/ plugins/local/
COPY plugins/gcp/ plugins/gcp/
COPY plugins/aws/ plugins/aws/
COPY plugins/openstack/ plugins/openstack/
# Regular (not editable) installs, pinned by the repository's constraints.
RUN /opt/kfed/bin/pip install -c constraints.txt \
        ./protos ./hub ./plugins/local ./plugins/gcp ./plugins/aws ./plugins/openstack

FROM python:3.11-slim
RUN groupadd --system --gid 10001 kfed \
    && useradd --system --uid 10001 --gid kfed --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin kfed \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/kfed
COPY --from=build /opt/kfed /opt/kfed
ENV PATH=/opt/kfed/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KFED_HUB_DATA_DIR=/var/lib/kfed/hub \
    KFED_CONFIG=/var/lib/kfed/hub/admin.kfedconfig
USER 10001:10001
EXPOSE 7443 7444
ENTRYPOINT ["kfed"]
CMD ["hub", "serve", "--api-addr", "0.0.0.0:7443", "--sync-addr", "0.0.0.0:7444"]

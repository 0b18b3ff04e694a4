# nginx for the compose test, from the same Debian base as gdlab's image: the test machines reach
# no registry, so docker/compose.yaml's nginx:1.27-alpine cannot be pulled there.
# tests/container/compose-test.override.yaml swaps it in; wget is there because compose.yaml's
# nginx health check uses it (as the alpine image has it).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx wget \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/*
STOPSIGNAL SIGQUIT
CMD ["/usr/sbin/nginx", "-g", "daemon off;"]

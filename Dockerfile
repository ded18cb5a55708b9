# leasesync: HA-aware DHCP lease agent speaking ISC Kea's control channel.
#   docker build -t leasesync .
#   docker run -d -p 8000:8000 -v /etc/leasesync:/etc/leasesync:ro -v leasesync-data:/var/lib/leasesync leasesync
# The configuration must set "http-host": "0.0.0.0" for the published port to reach the service.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="leasesync" \
      org.opencontainers.image.description="HA-aware DHCP lease agent speaking ISC Kea's control channel" \
      org.opencontainers.image.licenses="MPL-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels leasesync \
 && useradd --system --uid 10001 --home-dir /var/lib/leasesync --shell /usr/sbin/nologin leasesync \
 && mkdir -p /etc/leasesync /var/lib/leasesync \
 && chown leasesync:leasesync /var/lib/leasesync
# app/store/migrate.py looks for migrations/ beside the app package; pyproject ships only app/
COPY migrations /usr/local/lib/python3.11/site-packages/migrations
USER leasesync
WORKDIR /var/lib/leasesync
VOLUME ["/var/lib/leasesync"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["leasesync"]
CMD ["serve", "-c", "/etc/leasesync/leasesync.json"]

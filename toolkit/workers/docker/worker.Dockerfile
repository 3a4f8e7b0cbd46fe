# The Headrace worker image: this version of Headrace with its extractors and cloud backends.
# Built by `headrace worker build-image` (headrace/workers/docker/build.py), which fills the
# context: requirements.txt (the wheel's dependencies with the worker's extras), constraints.txt
# (the repository's), wheel/headrace-*.whl and pip-ca.crt (a TLS proxy's CA bundle, or empty).
# BASE is a Debian bookworm minbase root filesystem imported on the engine: nothing is pulled.
ARG BASE=headrace-base:bookworm
FROM ${BASE}
ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/headrace \
    PATH=/opt/headrace/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# psql: the postgres extractor reads large tables as parallel ranges with libpq's C COPY loop
# (extractors/postgres/psql.py); without it, one psycopg stream per table
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && psql --version
# the dependencies first, in their own layer: a new wheel of the same dependencies reuses it
COPY requirements.txt constraints.txt pip-ca.crt /build/
RUN python3 -m venv /opt/headrace \
 && if [ -s /build/pip-ca.crt ]; then export PIP_CERT=/build/pip-ca.crt; fi \
 && pip install -r /build/requirements.txt -c /build/constraints.txt \
 && rm -f /build/pip-ca.crt
COPY wheel/ /build/wheel/
RUN pip install --no-deps /build/wheel/*.whl \
 && rm -rf /build \
 && headrace --version
WORKDIR /tmp
ENTRYPOINT ["headrace"]
CMD ["--help"]

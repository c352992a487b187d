# reposter: the API and a worker in one image. Configure with REPOSTER_* variables:
#   docker run -e REPOSTER_DATABASE_URL=postgresql://... -e REPOSTER_ENCRYPTION_KEY=... reposter
# Run `reposter migrate` once, then `reposter serve` and one or more `reposter worker`.
# The first stage builds a wheel with the rule matcher's C extension (gcc is only needed there).
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
# The migrations are in app/migrations and ship in the wheel: `reposter migrate` needs no alembic.ini.
COPY app ./app
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 REPOSTER_HOST=0.0.0.0
WORKDIR /srv/reposter
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -r /wheels && useradd --system reposter
USER reposter
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["reposter", "serve"]

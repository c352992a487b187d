# reposter: the API and a worker in one image. Configure with REPOSTER_* variables:
#   docker run -e REPOSTER_DATABASE_URL=postgresql://... -e REPOSTER_ENCRYPTION_KEY=... reposter
# Run `reposter migrate` once, then `reposter serve` and one or more `reposter worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 REPOSTER_HOST=0.0.0.0
WORKDIR /srv/reposter
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system reposter
USER reposter
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["reposter", "serve"]

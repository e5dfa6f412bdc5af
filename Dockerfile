# The Conduit API image (used by compose.yaml for the app and its migration step).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core core
COPY adapters adapters
COPY entrypoints entrypoints
COPY migrations migrations
RUN pip install . && useradd --system --uid 10001 conduit
USER conduit
EXPOSE 8000
CMD ["conduit", "serve", "--host", "0.0.0.0", "--port", "8000"]

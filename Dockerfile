# The Conduit API image (used by compose.yaml for the app and its migration step).
# Installs exactly what uv.lock lists (`uv sync --locked`), without the dev group.
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH
WORKDIR /app
# Dependencies first (a layer that changes only with the lock), then the project itself.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY README.md alembic.ini ./
COPY core core
COPY adapters adapters
COPY entrypoints entrypoints
COPY migrations migrations
RUN uv sync --locked --no-dev --no-editable && useradd --system --uid 10001 conduit
USER conduit
EXPOSE 8000
CMD ["conduit", "serve", "--host", "0.0.0.0", "--port", "8000"]

# 客服助手 — the desk as a container: slim Python, a non-root user, the CJK font for report charts,
# a health check on the desk's own /healthz. Configure it with DESK_* environment variables (see README).
FROM python:3.11-slim

# gcc builds the matcher's optional C extension; fonts-noto-cjk draws Chinese in report charts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 desk
WORKDIR /app
COPY pyproject.toml setup.py README.md alembic.ini config.toml bot.py ./
COPY app app
COPY console console
COPY crm_store crm_store
COPY desk desk
COPY handlers handlers
COPY knowledge knowledge
COPY reports reports
COPY webconsole webconsole
RUN pip install --no-cache-dir ".[semantic]" && apt-get purge -y gcc libc6-dev && apt-get autoremove -y \
    && mkdir -p /app/data && chown desk:desk /app/data

USER desk
ENV DESK_WEB__HOST=0.0.0.0 \
    DESK_WEB__PORT=8080 \
    PYTHONUNBUFFERED=1
EXPOSE 8080
VOLUME ["/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
CMD ["python", "bot.py"]

# Production webhook for self-hosting: gunicorn with request verification on,
# exactly as `make serve` runs it. Put it behind a reverse proxy that terminates
# TLS on 443 with a trusted certificate, and set SKILL_ID:
#   docker build -t back-pain-guide .
#   docker run -e SKILL_ID=amzn1.ask.skill.<id> -p 127.0.0.1:8080:8080 back-pain-guide
FROM python:3.12.15-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Only what the server runs; owned by root, so the server cannot change its own code.
COPY webhook/ ./webhook/
COPY skill/ ./skill/

RUN groupadd --system --gid 10001 skill \
 && useradd --system --uid 10001 --gid skill --no-create-home --shell /usr/sbin/nologin skill
USER 10001:10001

ENV HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8080')}/health\", timeout=2).status == 200 else 1)"]

CMD ["gunicorn", "-c", "webhook/gunicorn.conf.py", "webhook.app:production_app()"]

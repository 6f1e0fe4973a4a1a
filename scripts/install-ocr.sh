#!/bin/sh
# Tesseract, from Debian's own packages, for reading scanned PDF pages (ingest/reading/ocr.py):
# the English model comes in tesseract-ocr-eng, so nothing is downloaded at run time.
# Does nothing when `tesseract` is already on the PATH.
set -eu
if command -v tesseract >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-ocr: no tesseract and no apt-get; install Tesseract OCR (with its English" \
        "language data) by hand, or set BOARDPAPERS_OCR=false to skip scanned pages" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng

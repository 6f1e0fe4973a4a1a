#!/bin/sh
# Headless Chromium for the browser tests (tests/test_widget_browser.py), from Debian's own
# package: Playwright drives it via executable_path, so `playwright install` (which downloads
# browsers from a CDN) is never needed. Does nothing when /usr/bin/chromium already exists.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no /usr/bin/chromium and no apt-get; install Chromium by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium

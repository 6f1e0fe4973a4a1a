"""The service's log format: uvicorn's text (the default), or one JSON object per line for a
log collector (`BOARDPAPERS_LOG_FORMAT=json`).

Both cover uvicorn's loggers, the app's own (`service`, `ingest`) and the access lines
`requests.RequestObserver` writes (uvicorn's own access log is off: it has no duration). A JSON
line holds `time` (UTC, ISO 8601), `level`, `logger`, `pid` (which worker), `message`, any
fields the record carries (an access line's `method`, `path`, `route`, `status`,
`duration_ms`, `client`) and, after a failure, `exception`. Other libraries log warnings
and errors only.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from service.observability.requests import ACCESS_LOGGER

LogFormat = Literal["text", "json"]

# Attributes every LogRecord has; anything else on a record was passed as `extra`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        line.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the format; uvicorn applies it in each worker."""
    if log_format == "json":
        formatters: dict[str, Any] = {
            "server": {"()": f"{__name__}.JsonFormatter"},
            "app": {"()": f"{__name__}.JsonFormatter"},
        }
    else:
        formatters = {
            "server": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(message)s",
            },
            "app": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s %(name)s: %(message)s",
            },
        }
    handlers = {
        name: {"class": "logging.StreamHandler", "formatter": name, "stream": "ext://sys.stderr"}
        for name in formatters
    }

    def logger(handler: str) -> dict[str, Any]:
        return {"handlers": [handler], "level": "INFO", "propagate": False}

    return {
        "version": 1,
        "disable_existing_loggers": False,  # the app's modules made their loggers on import
        "formatters": formatters,
        "handlers": handlers,
        "loggers": {
            "uvicorn": logger("server"),
            "uvicorn.error": {"level": "INFO"},  # propagates to "uvicorn"
            ACCESS_LOGGER: logger("server"),
            "service": logger("app"),
            "ingest": logger("app"),
        },
        "root": {"handlers": ["app"], "level": "WARNING"},
    }

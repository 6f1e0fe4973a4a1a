"""`boardpapers` (and any other server) run for real as a subprocess, for the benches and the
tests that time or check the command as an officer runs it: the command beside this Python, an
environment without the developer's BOARDPAPERS_ settings, a free loopback port, and a server
started and waited for until its health URL answers, stopped when done.

It lives in the installed package, not under bench/ or tests/, so that both can import it
however pytest or a bench is started. Nothing in the service itself uses it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServerNotReady(RuntimeError):
    """The server exited, or did not answer its health URL in time; says what it logged."""


def boardpapers_command() -> list[str]:
    """The installed `boardpapers` command beside this Python, else `python -m service.cli`."""
    script = Path(sys.executable).parent / "boardpapers"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "service.cli"]


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without any BOARDPAPERS_ setting (a developer's service URL or data
    folder would change what runs), offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOARDPAPERS_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.update(extra)
    return env


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    command: list[str],
    health_url: str,
    log_path: Path,
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[float]:
    """`command` running, its output in `log_path`, once `health_url` answers 200; yields the
    seconds that took. Raises ServerNotReady when it exits first or `timeout` seconds pass.
    Afterwards it is terminated (killed if it does not stop within 15 s)."""
    import httpx

    name = Path(command[0]).name
    with log_path.open("w") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if process.poll() is not None:
                    raise ServerNotReady(f"{name} exited:\n{log_path.read_text()}")
                if time.perf_counter() - start > timeout:
                    raise ServerNotReady(
                        f"{name} did not answer {health_url} within {timeout:.0f} s:\n"
                        + log_path.read_text()
                    )
                try:
                    if httpx.get(health_url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            yield time.perf_counter() - start
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def boardpapers_serving(
    data_dir: Path,
    log_path: Path,
    *,
    timeout: float,
    cwd: Path | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[tuple[str, float]]:
    """`boardpapers serve` over `data_dir` on a free loopback port, in a clean environment
    plus `settings` (BOARDPAPERS_… variables), until it answers `/healthz`; yields its URL and
    the seconds it took to get there."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*boardpapers_command(), "--data-dir", str(data_dir), "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with running_server(
        command,
        f"{url}/healthz",
        log_path,
        timeout=timeout,
        env=clean_environment(**(settings or {})),
        cwd=cwd,
    ) as seconds:
        yield url, seconds

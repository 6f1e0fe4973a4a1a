"""Cold `boardpapers ask`: each run a new process, in process and through a running service.

Times `--runs` runs of the real command (`boardpapers ask "…"`, a subprocess each), first
answering in process (it loads the index and the embedding model itself), then with
`BOARDPAPERS_SERVICE_URL` naming a `boardpapers serve` this starts on a free loopback port
(started once and warmed up; its start-up is timed apart). Prints each mode's command, the
wall-clock p50 and max, and the CPU seconds the command used (p50): on a shared machine the
wall clock waits for a core, the CPU time does not. Prints figures, never passes or fails on
them.

Both modes run over a copy of the data folder, which is left as it was (`ask` saves the
glossary it learns and the service keeps its conversations in its data folder).

    python -m bench.cli_cold_start --data-dir DIR [--runs 5] [--question "…"] [--json]
"""

from __future__ import annotations

import argparse
import resource
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.latency import log, print_json_or_header, run_header
from service.cli.subprocess_server import (
    ServerNotReady,
    boardpapers_command,
    boardpapers_serving,
    clean_environment,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Who chairs the Health and Wellbeing Board?"
SERVE_START_TIMEOUT = 300.0  # seconds: importing torch and warming up on a busy 2-core machine


@dataclass
class Runs:
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)  # the settings that matter, as shown
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    def shown(self) -> str:
        settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        return (settings + " " if settings else "") + shlex.join(self.command)

    def figures(self) -> dict[str, Any]:
        return {
            "command": self.shown(),
            "runs": len(self.wall),
            "p50_s": round(statistics.median(self.wall), 2),
            "max_s": round(max(self.wall), 2),
            "cpu_p50_s": round(statistics.median(self.cpu), 2),
            "each_s": [round(seconds, 2) for seconds in self.wall],
        }


def time_runs(runs: Runs, count: int, env: dict[str, str], cwd: Path) -> Runs:
    """`count` cold runs of the command: wall seconds, and CPU seconds (user + system) of the
    process and its children."""
    for n in range(1, count + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(runs.command, env=env, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{runs.shown()} failed ({done.returncode}):\n{done.stderr}")
        runs.wall.append(wall)
        runs.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        runs.outputs.append(done.stdout)
        log(f"  run {n}: {wall:.2f} s")
    return runs


@contextmanager
def serving(data_dir: Path, log_path: Path) -> Iterator[tuple[str, float]]:
    """`boardpapers serve` over `data_dir` on a free loopback port, until it answers
    `/healthz`; yields its URL and the seconds it took to get there."""
    try:
        with boardpapers_serving(data_dir, log_path, timeout=SERVE_START_TIMEOUT) as served:
            yield served
    except ServerNotReady as exc:
        raise SystemExit(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cli_cold_start",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir", type=Path, default=PROJECT_ROOT / "data", help="an ingested data folder"
    )
    parser.add_argument("--runs", type=int, default=5, help="cold runs per mode")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    if not (args.data_dir / "manifest.sqlite3").is_file():
        raise SystemExit(f"{args.data_dir} holds no index: `boardpapers ingest corpus/` first, "
                         "or pass --data-dir.")  # fmt: skip

    header = run_header()
    with tempfile.TemporaryDirectory(prefix="cold-start-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        shutil.copytree(args.data_dir, data_dir, ignore=shutil.ignore_patterns("*.lock"))
        ask = ["ask", args.question]

        log(f"in process: {args.runs} cold runs…")
        in_process = Runs([*boardpapers_command(), "--data-dir", str(data_dir), *ask])
        time_runs(in_process, args.runs, clean_environment(), work)

        log("starting boardpapers serve…")
        with serving(data_dir, work / "serve.log") as (url, serve_start):
            log(f"  answering at {url} after {serve_start:.1f} s; {args.runs} cold runs…")
            env = {"BOARDPAPERS_SERVICE_URL": url}
            via_service = Runs([*boardpapers_command(), *ask], env)
            time_runs(via_service, args.runs, clean_environment(**env), work)

    # One answer throughout, both ways (code edited during a run would show here).
    outputs = {
        "in_process_distinct": len(set(in_process.outputs)),
        "service_distinct": len(set(via_service.outputs)),
        "same_both_ways": set(in_process.outputs) == set(via_service.outputs),
    }
    figures = {
        **header,
        "question": args.question,
        "in_process": in_process.figures(),
        "service": {**via_service.figures(), "serve_start_s": round(serve_start, 1)},
        "outputs": outputs,
    }
    if print_json_or_header(figures, header, as_json=args.json):
        return 0
    print(f"`boardpapers ask {shlex.quote(args.question)}`, {args.runs} cold runs a mode\n")
    print("| mode | p50 s | max s | CPU p50 s | each run s |\n|---|---|---|---|---|")
    for name, row in (("in process", figures["in_process"]), ("via service", figures["service"])):
        each = ", ".join(f"{s:.2f}" for s in row["each_s"])
        print(f"| {name} | {row['p50_s']} | {row['max_s']} | {row['cpu_p50_s']} | {each} |")
    print(f"\nin process:  {in_process.shown()}")
    print(f"via service: {via_service.shown()}")
    print(f"  (`boardpapers serve` answered /healthz {serve_start:.1f} s after it started)")
    print(f"outputs: {outputs['in_process_distinct']} distinct in process, "
          f"{outputs['service_distinct']} via service; the same both ways: "
          f"{'yes' if outputs['same_both_ways'] else 'NO'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Runs every benchmark one after the other (each alone on the machine), as `make bench` does.

Each benchmark prints its figures and, as its last line, one JSON object; this runner passes the
output through, then prints a summary table and, as its own last line, a JSON object holding all of
them. ``--quick`` passes on to each benchmark (smaller sizes, a smoke run). Exits non-zero only when a
benchmark fails to run, not when a target is missed: missed targets are findings, reported.

    python bench/run_all.py [--quick] [--only signup_burst,roster_csv,...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BENCHMARKS = ("signup_burst", "roster_csv", "certificate_job", "notifications", "report_import")
TIMEOUT = 1800  # seconds per benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(BENCHMARKS))
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    results: dict[str, dict[str, object]] = {}
    failed = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        command = [sys.executable, str(BENCH / f"{name}.py")] + (["--quick"] if args.quick else [])
        lines: list[str] = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
            assert process.stdout is not None
            for line in process.stdout:
                print(line, end="", flush=True)
                lines.append(line)
            try:
                process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
        try:
            results[name] = json.loads(lines[-1]) if process.returncode == 0 and lines else {}
        except json.JSONDecodeError:
            results[name] = {}
        if not results[name]:
            failed.append(name)
        print(f"--- {name}: {time.monotonic() - started:.0f} s", flush=True)

    print("\n=== summary ===")
    for name, result in results.items():
        targets = result.get("targets", {})
        met = ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in targets.items()) if targets else "FAILED"
        print(f"{name:16} {met}")
    print(json.dumps({"benchmarks": results, "failed": failed}, default=str), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

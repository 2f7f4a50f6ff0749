"""Async HTTP load generator (aiohttp), run in its own process by the benchmarks.

Sends exactly ``--total`` requests with at most ``--concurrency`` in flight to one loopback URL, and
gives up after ``--timeout`` seconds in all. Prints one JSON line: elapsed seconds, throughput,
latencies (ms) percentiles, status counts and the response bodies' statuses (for sign-ups).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp


def payload(kind: str, prefix: str, n: int) -> dict[str, Any]:
    if kind == "signup":
        return {"email": f"{prefix}{n}@hospital.example", "given_name": "Zoë", "family_name": f"Łukasiewicz-{n}",
                "rate": "free", "consent": True}
    raise ValueError(kind)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5 - 1e-9)))
    return ordered[rank - 1]


async def run(url: str, total: int, concurrency: int, kind: str, timeout: float, prefix: str) -> dict[str, Any]:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to send load to {host}: loopback only")
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    next_index = 0
    deadline = time.monotonic() + timeout
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    request_timeout = aiohttp.ClientTimeout(total=max(1.0, timeout))

    async with aiohttp.ClientSession(connector=connector, timeout=request_timeout) as session:
        async def worker() -> None:
            nonlocal next_index
            while next_index < total and time.monotonic() < deadline:
                n = next_index
                next_index += 1
                started = time.perf_counter()
                try:
                    async with session.post(url, json=payload(kind, prefix, n)) as response:
                        body = await response.read()
                        latencies.append((time.perf_counter() - started) * 1000)
                        statuses[str(response.status)] += 1
                        if response.status < 300:
                            outcomes[json.loads(body).get("status", "?")] += 1
                        elif len(errors) < 5:
                            errors.append(body[:300].decode("utf-8", "replace"))
                except (TimeoutError, aiohttp.ClientError) as exc:
                    statuses[type(exc).__name__] += 1
                    if len(errors) < 5:
                        errors.append(repr(exc))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started

    done = sum(statuses.values())
    return {
        "requests": done, "elapsed_s": round(elapsed, 3), "throughput_rps": round(done / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1), "p90_ms": round(percentile(latencies, 0.90), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1), "max_ms": round(max(latencies, default=float("nan")), 1),
        "statuses": dict(statuses), "outcomes": dict(outcomes), "errors": errors,
        "timed_out": done < total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--total", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--kind", default="signup")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    if args.total > 100_000 or args.concurrency > 1000:
        sys.exit("bounded: at most 100,000 requests and 1,000 in flight")
    result = asyncio.run(run(args.url, args.total, args.concurrency, args.kind, args.timeout, args.prefix))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""LiteLLM callback overhead: what integrations/litellm/procurement_callback.py adds to a call.

1. A stub of our API in a process of its own (ours is another machine in production): it
   takes usage batches (HTTP 200) and answers allowances (allowed), so the callback's sender
   thread delivers as it would to us, without our server's CPU on these two cores.
2. ``litellm.completion`` and ``litellm.acompletion`` with a mock response (no network),
   timed call by call in alternating blocks without and with the callback installed (the
   difference of the blocks' medians: on a loaded host it is within the noise), and the
   time inside the callback's success event for each call (on litellm's logging thread for
   a sync call, on the event loop for an async one: what it takes from the proxy per call;
   delivery runs on the callback's own thread).
3. Its pre-call hook (``async_pre_call_hook``): on a key asked in the last 5 s (the cached
   answer — every call but one per key per 5 s) and on a miss (one GET to the stub).

What a call pays = the success event + the cached pre-call hook. Writes
``bench/results/litellm.json``. The goal (issue 22): < 1 ms per call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest import ROOT, load_average, log

RESULTS = ROOT / "bench" / "results"
MODULE = ROOT / "integrations" / "litellm" / "procurement_callback.py"

STUB = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Stub(BaseHTTPRequestHandler):
    def _answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer({"allowed": True, "reason": None})

    def do_POST(self):
        records = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["records"]
        self._answer({"accepted": len(records), "duplicates": 0, "unpriced": 0, "conflicts": [], "rejected": []})

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench litellm", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer calls")
    parser.add_argument("--calls", type=int, default=None, help="calls per block (default 400)")
    parser.add_argument("--rounds", type=int, default=None, help="block pairs (default 7)")
    args = parser.parse_args(argv)
    args.calls = args.calls or (100 if args.quick else 400)
    args.rounds = args.rounds or (3 if args.quick else 7)
    return args


def load_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("procurement_callback", MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["procurement_callback"] = module
    spec.loader.exec_module(module)
    return module


def us(seconds: float) -> float:
    return round(seconds * 1e6, 1)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline: the bundled cost map
    import litellm
    from litellm import ModelResponse, Usage
    from litellm.proxy._types import UserAPIKeyAuth

    module = load_module()
    stub = subprocess.Popen([sys.executable, "-c", STUB], stdout=subprocess.PIPE, text=True)
    load_start = load_average()
    try:
        url = f"http://127.0.0.1:{stub.stdout.readline().strip()}"
        spool = tempfile.mkdtemp(prefix="bench-litellm-")
        callback = module.ProcurementCallback(url=url, token="bench", spool_dir=spool)
        usage = Usage(
            prompt_tokens=1000,
            completion_tokens=50,
            total_tokens=1050,
            prompt_tokens_details={"cached_tokens": 300},
            completion_tokens_details={"reasoning_tokens": 20},
        )
        response = ModelResponse(
            model="gpt-4o", choices=[{"message": {"role": "assistant", "content": "好"}}], usage=usage
        )
        metadata = {"user_api_key_metadata": {"procurement_key_id": "ak_bench"}}
        messages = [{"role": "user", "content": "你好"}]

        def sync_block(n: int) -> list[float]:
            times = []
            for _ in range(n):
                started = time.perf_counter()
                litellm.completion(model="gpt-4o", messages=messages, mock_response=response, metadata=metadata)
                times.append(time.perf_counter() - started)
            return times

        async def async_block(n: int) -> list[float]:
            times = []
            for _ in range(n):
                started = time.perf_counter()
                await litellm.acompletion(model="gpt-4o", messages=messages, mock_response=response, metadata=metadata)
                times.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)  # let the logging tasks of the block run before the next
            return times

        # The time inside the callback's success event, call by call (what it costs the thread
        # or event loop that runs it), wall and CPU.
        inside: list[tuple[float, float]] = []
        add = callback._add

        def timed_add(*a):
            wall, cpu = time.perf_counter(), time.thread_time()
            add(*a)
            inside.append((time.perf_counter() - wall, time.thread_time() - cpu))

        callback._add = timed_add

        def installed(on: bool) -> None:
            if on:
                litellm.callbacks = [callback]
            else:
                litellm.callbacks = []
                litellm.logging_callback_manager.remove_callback_from_all_lists(callback)

        log(f"warm-up; then {args.rounds} rounds of {args.calls} calls without / with the callback")
        rounds = {"sync": [], "async": []}

        async def series(kind: str) -> None:
            installed(False)
            await async_block(50) if kind == "async" else sync_block(50)
            for i in range(args.rounds):
                pair = {}
                # alternate which goes first, so a drift of the host's load favours neither
                for on in (i % 2 == 0, i % 2 != 0):
                    installed(on)
                    times = sync_block(args.calls) if kind == "sync" else await async_block(args.calls)
                    pair["with" if on else "without"] = statistics.median(times)
                rounds[kind].append(pair)
            installed(False)

        asyncio.run(series("sync"))
        asyncio.run(series("async"))  # one event loop for every async call, as in the proxy
        delivered = callback.wait_idle(timeout=30)

        log("pre-call hook: cached answer, and a miss (one GET to the stub)")
        key = UserAPIKeyAuth(api_key="sk-bench", metadata={"procurement_key_id": "ak_bench"})
        data = {"model": "gpt-4o", "messages": messages}

        async def hook_times(n: int, *, miss: bool) -> list[float]:
            times = []
            for _ in range(n):
                if miss:
                    callback._allowance.clear()
                started = time.perf_counter()
                await callback.async_pre_call_hook(key, None, data, "completion")
                times.append(time.perf_counter() - started)
            return times

        asyncio.run(hook_times(20, miss=True))
        cached = asyncio.run(hook_times(args.calls * 2, miss=False))
        missed = asyncio.run(hook_times(args.calls // 2, miss=True))
        callback.close()
    finally:
        stub.terminate()
        stub.wait()

    def added(kind: str) -> dict:
        diffs = [r["with"] - r["without"] for r in rounds[kind]]
        return {
            "median_call_without_us": us(statistics.median(r["without"] for r in rounds[kind])),
            "median_call_with_us": us(statistics.median(r["with"] for r in rounds[kind])),
            "added_us_median_of_rounds": us(statistics.median(diffs)),
            "added_us_rounds": [us(d) for d in diffs],
        }

    result = {
        "benchmark": "litellm",
        "timestamp": datetime.now(UTC).isoformat(),
        "litellm": litellm.__version__ if hasattr(litellm, "__version__") else "",
        "parameters": {"calls_per_block": args.calls, "rounds": args.rounds},
        "completion": added("sync"),
        "acompletion": added("async"),
        "success_event_us": {
            "calls": len(inside),
            "wall_median": us(statistics.median(w for w, _c in inside)),
            "wall_p99": us(sorted(w for w, _c in inside)[int(len(inside) * 0.99) - 1]),
            "cpu_median": us(statistics.median(c for _w, c in inside)),
        },
        "pre_call_hook_cached_us": {
            "median": us(statistics.median(cached)),
            "p99": us(sorted(cached)[int(len(cached) * 0.99) - 1]),
        },
        "pre_call_hook_miss_us": {"median": us(statistics.median(missed))},
        "delivered": delivered,
        "spooled_files": len(list(Path(spool).glob("*.json"))),
        "load_average": {"start": load_start, "end": load_average()},
    }
    # What a call pays: the success event (run on litellm's logging thread for a sync call, on
    # the proxy's event loop for an async one) and the pre-call hook with the cached answer.
    per_call = result["success_event_us"]["wall_median"] + result["pre_call_hook_cached_us"]["median"]
    result["added_per_call_us"] = round(per_call, 1)
    result["meets_goal"] = per_call < 1000
    print()
    for kind in ("completion", "acompletion"):
        r = result[kind]
        print(
            f"litellm.{kind:<12} median {r['median_call_without_us']:>8.0f} µs without, "
            f"{r['median_call_with_us']:>8.0f} µs with: {r['added_us_median_of_rounds']:+.0f} µs "
            f"(rounds {', '.join(f'{d:+.0f}' for d in r['added_us_rounds'])})"
        )
    inner = result["success_event_us"]
    print(
        f"success event             {inner['wall_median']:.0f} µs median (p99 {inner['wall_p99']:.0f}, "
        f"CPU {inner['cpu_median']:.0f}) over {inner['calls']:,} calls"
    )
    print(
        f"pre-call hook             cached {result['pre_call_hook_cached_us']['median']:.0f} µs median "
        f"(p99 {result['pre_call_hook_cached_us']['p99']:.0f}), miss {result['pre_call_hook_miss_us']['median']:.0f} µs"
    )
    print(f"added per call            {per_call:.0f} µs = success event + cached pre-call hook (goal < 1,000 µs)")
    print(f"every record delivered    {delivered}")
    name = "litellm-quick.json" if args.quick else "litellm.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["meets_goal"] and delivered else 1

"""``python -m bench [NAME] [options]`` — run one benchmark, or all of them.

python -m bench                       # every benchmark with its defaults (make bench)
python -m bench ingest --quick        # a small smoke run
python -m bench ingest --prefill 10000000
python -m bench alerts --quick        # allowance latency (5 s) and anomaly precision/recall
python -m bench close --quick         # month close (bills from rollups) and bill PDFs
python -m bench portal --quick        # portal overview and usage page server time over the rollups
python -m bench portal --records 10000000
python -m bench presales --quick      # the proposal PDF (报价方案) of a 3-option proposal
python -m bench gateways --quick      # sync_gateway_logs over new-api logs vs. the ingestion API's rate
python -m bench litellm --quick       # what the LiteLLM callback adds to a call
"""

from __future__ import annotations

import sys

from bench import alerts, close, gateways, ingest, litellm, portal, presales

BENCHMARKS = {
    "ingest": ingest.main,
    "alerts": alerts.main,
    "close": close.main,
    "portal": portal.main,
    "presales": presales.main,
    "gateways": gateways.main,
    "litellm": litellm.main,
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in {"-h", "--help"}:
        print(__doc__.strip())
        print("\nbenchmarks: " + ", ".join(BENCHMARKS))
        return 0
    if argv and not argv[0].startswith("-"):
        name, rest = argv[0], argv[1:]
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        return BENCHMARKS[name](rest)
    status = 0
    for run in BENCHMARKS.values():
        status = run(argv) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

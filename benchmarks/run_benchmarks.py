"""Run every method on families of AION problems and record the outcome as JSON.

    python benchmarks/run_benchmarks.py --quick   # a few seeds per family, about a minute
    python benchmarks/run_benchmarks.py           # full mode: 100 seeds per family

Each problem is a ``idlib.families.FamilySpec`` and a seed. Every method starts from the same
θ_0 and is judged by the success rule of ``idlib.benchmark`` (reaching the lowest loss found on
the problem by any method or by extra Levenberg–Marquardt restarts). Steepest descent and Adam
take seconds per problem, so in full mode they run on the first ``--expensive-seeds`` seeds of
each family only; the JSON records which seeds each method saw. Timing runs in this script,
never in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from idlib.benchmark import EXPENSIVE_METHODS, benchmark_families, run_families, summarise
from idlib.outputs import REPOSITORY_ROOT, write_text_atomic


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds per family and 1 for SD and Adam")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per family (default: 100, quick: 3)")
    parser.add_argument("--expensive-seeds", type=int, default=None,
                        help="seeds per family for steepest descent and Adam (default: 20, quick: 1)")
    parser.add_argument("--restarts", type=int, default=3, help="extra Levenberg–Marquardt restarts per problem for the best loss")
    parser.add_argument("--output", default=None, help="JSON file to write (default: benchmarks/results/families[_quick].json)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, so timings do not fight over cores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    seeds = arguments.seeds
    if seeds is None:
        seeds = 3 if arguments.quick else 100
    expensive_seeds = arguments.expensive_seeds
    if expensive_seeds is None:
        expensive_seeds = 1 if arguments.quick else 20
    if seeds < 1 or expensive_seeds < 0 or arguments.restarts < 0 or arguments.threads < 1:
        print(f"invalid counts: seeds={seeds}, expensive seeds={expensive_seeds}, restarts={arguments.restarts}, "
              f"threads={arguments.threads}; seeds and threads must be at least 1", file=sys.stderr)
        return 2
    default_name = "families_quick.json" if arguments.quick else "families.json"
    output = Path(arguments.output) if arguments.output else REPOSITORY_ROOT / "benchmarks" / "results" / default_name
    torch.set_num_threads(arguments.threads)

    families = benchmark_families()
    started = time.perf_counter()
    results = run_families(families, seeds, expensive_seeds, restarts=arguments.restarts, progress=True)

    record = {
        "generated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "quick" if arguments.quick else "full",
        "seeds": seeds,
        "expensive_methods": list(EXPENSIVE_METHODS),
        "expensive_seeds": expensive_seeds,
        "restarts": arguments.restarts,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or "unknown",
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "not measured (no GPU)",
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
        "families": [spec.label() for spec in families],
        "summary": summarise(results),
        "results": results,
    }
    write_text_atomic(output, json.dumps(record, indent=1, allow_nan=True) + "\n")
    print(f"wrote {output} ({len(results)} problems, {record['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The seed article's workloads under autojit, against the interpreter (and numba when
installed), all measured in one run.

    python bench/seed_workloads.py [--repeats N] [--quick | --scale S] [--no-numba] [--json FILE]

For each workload: the interpreter's time; autojit's first call (a fresh copy of the
function, so compilation is included) and steady state; numba's first call and steady state
when numba is importable; the ratios. Every result is also checked against the
interpreter's, bit for bit and type for type ("exact"); numba's is reported as it is.
Times are medians of repeats, alternating the variants. ``--json FILE`` also writes the
measurements (seconds) for other scripts (bench/arm64_speed.sh).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The workloads are single-threaded loops. numpy's BLAS keeps worker threads that spin for a
# while after any BLAS call, taking a core from the loop being timed (on a 2-core machine,
# timings doubled). One BLAS thread for everyone: interpreter, autojit and numba alike.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import autojit  # noqa: E402
from _timing import print_table  # noqa: E402

try:
    import numpy as np
except ImportError:  # the list workload still runs
    np = None

try:
    import numba
except ImportError:
    numba = None


# --- the workloads, as the article writes them ------------------------------------------


def numerical_loop(data):
    result = 0.0
    for i in range(len(data)):
        result += data[i] ** 2 + data[i] * 3.14
    return result


def nested_loop(data):
    total = 0.0
    for i in range(len(data)):
        for j in range(100):
            total += data[i] * j
    return total


def polynomial_eval(data, coeffs):
    result = np.empty_like(data)
    for i in range(len(data)):
        val = 0.0
        for j in range(len(coeffs)):
            val += coeffs[j] * data[i] ** j
        result[i] = val
    return result


def distance_matrix(points):
    n = len(points)
    distances = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            dx = points[i, 0] - points[j, 0]
            dy = points[i, 1] - points[j, 1]
            distances[i, j] = (dx**2 + dy**2) ** 0.5
    return distances


def list_loop(data):
    result = 0.0
    for i in range(len(data)):
        result += data[i] ** 2 + data[i] * 3.14
    return result


def workloads(scale):
    """(name, function, arguments) for each workload; scale 1.0 is the article's size."""
    out = []
    if np is not None:
        rng = np.random.default_rng(42)
        million = int(1_000_000 * scale)
        out += [
            ("numerical loop, 1M float64", numerical_loop, (rng.random(million),)),
            ("nested loop, 10K float64", nested_loop, (rng.random(int(10_000 * scale)),)),
            ("polynomial, 1M float64", polynomial_eval, (rng.random(million), np.array([1.0, -2.0, 0.5, 3.0]))),
            ("distance matrix, 300 points", distance_matrix, (rng.random((int(300 * math.sqrt(scale)), 2)),)),
        ]
        list_data = rng.random(int(1_000_000 * scale)).tolist()
    else:
        import random

        random.seed(42)
        list_data = [random.random() for _ in range(int(1_000_000 * scale))]
    out.append(("numerical loop, list of 1M floats", list_loop, (list_data,)))
    return out


# --- measurement -----------------------------------------------------------------------


def fresh_copy(fn):
    """The same function with a new code object: autojit has never seen it."""
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def timed(fn, args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def same(a, b):
    """Bit-for-bit and type-for-type equality of results (floats, numpy scalars, arrays)."""
    if type(a) is not type(b):
        return False
    if np is not None and isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return math.copysign(1, a) == math.copysign(1, b) and (a == b or (a != a and b != b))
    return a == b


def measure(name, fn, args, repeats):
    row = {"name": name}
    autojit.disable()
    interp_times, expected = [], None
    for _ in range(repeats):
        t, expected = timed(fn, args)
        interp_times.append(t)
    row["interp"] = statistics.median(interp_times)

    jit_fn = fresh_copy(fn)
    autojit.enable()
    try:
        row["jit_first"], first_result = timed(jit_fn, args)
        steady = []
        exact = same(first_result, expected)
        for _ in range(repeats):
            t, result = timed(jit_fn, args)
            steady.append(t)
            exact = exact and same(result, expected)
    finally:
        autojit.disable()
    row["jit_steady"] = statistics.median(steady)
    row["exact"] = bool(exact)
    row["explain"] = autojit.explain(jit_fn, format="dict")

    if numba is not None:
        nb_fn = numba.njit(fresh_copy(fn))
        row["numba_first"], nb_result = timed(nb_fn, args)
        row["numba_steady"] = statistics.median(timed(nb_fn, args)[0] for _ in range(repeats))
        row["numba_exact"] = bool(same(nb_result, expected))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tenth of the article's sizes")
    parser.add_argument("--scale", type=float, help="a fraction of the article's sizes (--quick: 0.1)")
    parser.add_argument("--no-numba", action="store_true", help="leave numba out even when installed")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args()
    global numba
    if args.no_numba:
        numba = None
    scale = args.scale or (0.1 if args.quick else 1.0)
    if not autojit.supported():
        print("autojit does not support this Python; nothing to measure")
        return 0
    version = ".".join(map(str, sys.version_info[:3]))
    print(f"CPython {version}, numpy {np.__version__ if np else 'absent'}, numba {numba.__version__ if numba else 'absent'}")
    rows = [measure(*w, repeats=args.repeats) for w in workloads(scale)]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"python": version, "scale": scale, "repeats": args.repeats, "rows": rows}, f, indent=1)

    def ms(x):
        return f"{x * 1e3:.2f}"

    header = ["workload", "interp ms", "jit 1st ms", "jit ms", "speedup 1st", "speedup", "exact"]
    if numba is not None:
        header += ["numba 1st ms", "numba ms", "numba speedup", "jit/numba", "numba exact"]
    table = []
    for r in rows:
        line = [
            r["name"],
            ms(r["interp"]),
            ms(r["jit_first"]),
            ms(r["jit_steady"]),
            f"{r['interp'] / r['jit_first']:.1f}x",
            f"{r['interp'] / r['jit_steady']:.1f}x",
            "yes" if r["exact"] else "NO",
        ]
        if numba is not None:
            line += [
                ms(r["numba_first"]),
                ms(r["numba_steady"]),
                f"{r['interp'] / r['numba_steady']:.1f}x",
                f"{r['jit_steady'] / r['numba_steady']:.2f}",
                "yes" if r["numba_exact"] else "no",
            ]
        table.append(line)
    print_table(f"Seed workloads (median of {args.repeats}; speedup = interpreter time / autojit time)", header, table)
    tiers = {r["name"]: r["explain"]["tier"] for r in rows}
    print("\ntier reached per workload:", tiers)
    geo = statistics.geometric_mean(r["interp"] / r["jit_steady"] for r in rows)
    print(f"geometric-mean steady-state speedup: {geo:.2f}x")
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

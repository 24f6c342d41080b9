"""What tier 2's pow shortcuts buy: ns per iteration of `result += data[i] ** y` with the
shortcuts on and off (every power calling the C library's pow), alternately in one process,
next to the plain multiply `x * x`, over float64 data in several ranges.

    python bench/pow_shortcuts.py [--size N] [--repeats R]

The shortcuts take their candidate when the exact power is within 0.4795 ulp of it and the
result within 2^+-128 (about 4% of values call pow), else within 0.45 ulp and 2^+-800 (10%);
see `prove_candidate` in src/tier2/compile.rs. With a C library other than glibc >= 2.28 they
are always off and both columns measure pow.
"""

import argparse
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import autojit  # noqa: E402
from _timing import median_times, print_table  # noqa: E402

LOOP = """
def loop(data):
    result = 0.0
    for i in range(len(data)):
        x = data[i]
        result += {expr}
    return result
"""


def compiled(expr, shortcuts, data):
    """A new function for `expr`, compiled (and warmed up) with the shortcuts on or off."""
    namespace = {}
    exec(LOOP.format(expr=expr), namespace)
    fn = types.FunctionType(namespace["loop"].__code__.replace(), namespace)
    autojit._core._set_pow_shortcuts(shortcuts)
    autojit.enable()
    try:
        fn(data)
        fn(data)
    finally:
        autojit.disable()
        autojit._core._set_pow_shortcuts(True)
    return fn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    if not autojit.supported():
        print("autojit does not support this Python; nothing to measure")
        return 0
    rng = np.random.default_rng(1)
    n = args.size
    ranges = {
        "[0, 1)": rng.random(n),
        "normal(0, 1)": rng.standard_normal(n),
        "[2^100, 2^101)": (1 + rng.random(n)) * 2.0**100,
    }
    print(f"shortcuts in force: {autojit._core._pow_shortcuts()}")
    rows = []
    for name, data in ranges.items():
        for expr in ["x * x", "x ** 2", "x ** 3", "abs(x) ** 0.5"]:
            if expr == "abs(x) ** 0.5":
                data_used, expr = np.abs(data), "x ** 0.5"
            else:
                data_used = data
            on = compiled(expr, True, data_used)
            off = compiled(expr, False, data_used)

            def run(fn, d=data_used):
                autojit.enable()
                try:
                    fn(d)
                finally:
                    autojit.disable()

            times = median_times({"on": (lambda: None, lambda: run(on)), "off": (lambda: None, lambda: run(off))},
                                 repeats=args.repeats)
            ns = {k: v / n * 1e9 for k, v in times.items()}
            rows.append([name, expr, f"{ns['on']:.2f}", f"{ns['off']:.2f}", f"{ns['off'] / ns['on']:.2f}x"])
    print_table(f"ns per iteration (median of {args.repeats})", ["data", "loop body", "shortcuts on", "off (pow)", "off/on"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

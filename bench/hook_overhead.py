"""What the frame-evaluation hook alone costs, against plain CPython, in one run.

    python bench/hook_overhead.py [--repeats N]

Each workload is timed three ways, alternately, in one process: plain CPython, the hook
alone (counting, compiling nothing: the cost of being a PEP 523 function), and the whole JIT.
Figures are ratios of medians against plain CPython (time / plain time; above 1.0 means
slower). With a PEP 523 hook installed CPython stops inlining Python-to-Python calls, so
call-heavy code pays for the hook until compiled code wins it back.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import autojit  # noqa: E402
from _timing import median_times, print_table  # noqa: E402


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y


def call_recursive():
    return fib(22)


def call_methods():
    p = Point(3, 4)
    total = 0
    for _ in range(100_000):
        total += p.norm2()
    return total


def loop_int_while():
    i, total = 0, 0
    while i < 300_000:
        total += i & 7
        i += 1
    return total


def loop_float_for():
    x = 0.0
    for i in range(300_000):
        x += i * 0.5
    return x


def gen_squares(n):
    for i in range(n):
        yield i * i


def generator_function():
    return sum(gen_squares(200_000))


def generator_expression():
    return sum(i * i for i in range(200_000))


WORKLOADS = {
    "call: recursive fib(22)": call_recursive,
    "call: method calls": call_methods,
    "loop: int while": loop_int_while,
    "loop: float for-range": loop_float_for,
    "generator: function": generator_function,
    "generator: expression": generator_expression,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    if not autojit.supported():
        print("autojit does not support this Python; nothing to measure")
        return 0
    def hook_only():
        autojit._core._set_compile(False)
        autojit.enable(threshold=0)

    def jit():
        autojit._core._set_compile(True)
        autojit.enable(threshold=0)

    rows = []
    for name, fn in WORKLOADS.items():
        times = median_times(
            {"plain": (autojit.disable, fn), "hook": (hook_only, fn), "jit": (jit, fn)},
            repeats=args.repeats,
        )
        autojit.disable()
        autojit._core._set_compile(True)
        rows.append(
            (
                name,
                f"{times['plain'] * 1e3:.2f}",
                f"{times['hook'] / times['plain']:.2f}x",
                f"{times['jit'] / times['plain']:.2f}x",
            )
        )
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    print_table(
        f"Hook overhead on CPython {version} (median of {args.repeats}; time relative to plain CPython)",
        ("workload", "plain ms", "hook alone", "whole JIT"),
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

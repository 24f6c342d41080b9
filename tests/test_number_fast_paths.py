"""The int and float fast paths of BINARY_OP and COMPARE_OP (src/runtime/numbers.rs), and the
fused compare-and-branch, against the interpreter on operands at every boundary they test:
one-digit ints up to 2**30 (and the first two-digit ones), zero and negative zero, NaN and
infinities, and the subclasses (bool, int and float subclasses) that must not take them.
Results are compared bit for bit with their types, and exceptions with their messages.
"""

import itertools
import math

import pytest

from autojit.testing import check_calls


class MyInt(int):
    def __add__(self, other):
        return "MyInt.__add__"


class MyFloat(float):
    def __lt__(self, other):
        return "MyFloat.__lt__"


VALUES = [
    0, 1, -1, 7, -7, 3, -3,
    2**30 - 1, -(2**30 - 1), 2**30, -(2**30), 2**31, 2**62, -(2**63), 10**20,
    0.0, -0.0, 0.5, -2.5, 1e308, -1e308, 5e-324, math.inf, -math.inf, math.nan,
    True, False, MyInt(5), MyFloat(2.5),
]

BINARY = ["+", "-", "*", "/", "//", "%", "&", "|", "^"]
COMPARE = ["<", "<=", "==", "!=", ">", ">="]


def pairs():
    return [((a, b), {}) for a, b in itertools.product(VALUES, VALUES)]


def make(source, name):
    namespace = {}
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("op", BINARY)
def test_binary_operators(op):
    fn = make(f"def binary(a, b):\n    return a {op} b\n", "binary")
    assert all(r.compiled for r in check_calls(fn, pairs()))


@pytest.mark.parametrize("op", BINARY)
def test_augmented_operators(op):
    fn = make(f"def augmented(a, b):\n    a {op}= b\n    return a\n", "augmented")
    check_calls(fn, pairs())


@pytest.mark.parametrize("op", COMPARE)
def test_comparison_values(op):
    fn = make(f"def compare(a, b):\n    return a {op} b\n", "compare")
    check_calls(fn, pairs())


@pytest.mark.parametrize("op", COMPARE)
def test_comparison_branches(op):
    # COMPARE_OP directly followed by a conditional jump: the fused fast path.
    fn = make(
        f"def branch(a, b):\n    if a {op} b:\n        return 'yes'\n    return 'no'\n",
        "branch",
    )
    check_calls(fn, pairs())


@pytest.mark.parametrize("op", COMPARE)
def test_comparison_branches_negated_and_in_loops(op):
    fn = make(
        "def loop(a, b):\n"
        "    n = 0\n"
        "    for i in range(4):\n"
        f"        if not (a {op} b):\n"
        "            n += 1\n"
        f"        while a {op} b and n < 3:\n"
        "            n += 1\n"
        "    return n\n",
        "loop",
    )
    check_calls(fn, pairs())

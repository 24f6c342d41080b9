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


# Ints at every edge the inline int paths test: one digit (|v| < 2**30) or not, the small
# ints CPython preallocates (-5..256) or not, signs, zero.
EDGE_INTS = [
    0, 1, -1, 2, -2, 5, -5, 6, -6, 250, 255, 256, 257, -255, -256, -257, 2**29, -(2**29),
    2**30 - 1, 2**30 - 2, -(2**30 - 1), -(2**30 - 2), 2**30, -(2**30), 2**30 + 1,
    2**31 - 1, -(2**31), 2**32, 2**62 - 1, -(2**62),
]


def edge_pairs():
    return [((a, b), {}) for a, b in itertools.product(EDGE_INTS, EDGE_INTS)]


@pytest.mark.parametrize("op", ["+", "-", "*", "&", "|", "^", "//", "%"])
def test_int_arithmetic_at_the_edges(op):
    fn = make(
        f"def binary(a, b):\n"
        f"    out = []\n"
        f"    for x, y in ((a, b), (b, a), (a, 7), (-7, b), (a, -1), (b, 0)):\n"
        f"        try:\n"
        f"            c = x {op} y\n"
        f"            c {op}= y\n"
        f"            out.append((x {op} y, c))\n"
        f"        except ZeroDivisionError as e:\n"
        f"            out.append(str(e))\n"
        f"    return out\n",
        "binary",
    )
    assert all(r.compiled for r in check_calls(fn, edge_pairs()))


@pytest.mark.parametrize("op", COMPARE)
def test_int_compare_and_branch_at_the_edges(op):
    fn = make(
        f"def branch(a, b):\n"
        f"    out = []\n"
        f"    if a {op} b:\n        out.append(1)\n"
        f"    if not (a {op} b):\n        out.append(2)\n"
        f"    if b {op} a:\n        out.append(3)\n"
        f"    if a {op} 2**30 - 1:\n        out.append(4)\n"
        f"    if -(2**30) {op} b:\n        out.append(5)\n"
        f"    return out\n",
        "branch",
    )
    assert all(r.compiled for r in check_calls(fn, edge_pairs()))


def test_int_results_are_cpythons_small_ints():
    # A result in -5..256 is CPython's preallocated object, anything else a new int, exactly
    # as PyLong_FromLongLong decides.
    import autojit

    def add_sub(a, b):
        return a + b, a - b, a * b, a // (b or 1), a % (b or 7), a & b, a | b, a ^ b

    autojit.enable(threshold=0)
    try:
        results = [add_sub(a, b) for a, b in itertools.product(EDGE_INTS, [0, 1, -1, 5, 256, 2**30 - 1])]
    finally:
        autojit.disable()
    assert autojit.stats()["compiled_calls"] > 0
    for pair in results:
        for value in pair:
            assert (value is int(str(value))) == (-5 <= value <= 256), value


def test_int_fast_paths_keep_reference_counts():
    import sys
    import autojit

    def work(a, b):
        c = a + b
        d = c - a
        if c < d:
            return None
        return d

    small = (3, 4, 7)
    autojit.enable(threshold=0)
    try:
        work(3, 4)
        before = [sys.getrefcount(v) for v in small]
        for _ in range(1000):
            work(3, 4)
        after = [sys.getrefcount(v) for v in small]
    finally:
        autojit.disable()
    assert after == before


def test_float_results_reuse_only_dying_operands():
    # Every float that is still referenced (a local, a list item, a default, a global) must
    # keep its value when an operation reuses a dying operand for its result.
    def floats(a, b, keep=[0.5]):
        t = a * b
        u = t + 1.0
        lst = [a + b, t]
        v = lst[0] * 2.0
        w = (a + b) * (a - b) + keep[0]
        x = keep[0] + (t * t)
        t -= 0.25
        return t, u, lst, v, w, x, keep

    check_calls(floats, [((a, b), {}) for a in (1.5, -0.0, 3, 2**30) for b in (2.5, 1, math.nan, -math.inf)])


SUBSCRIPT_CASES = [
    ([10, 20, 30], 0), ([10, 20, 30], 2), ([10, 20, 30], -1), ([10, 20, 30], -3), ([10, 20, 30], 3),
    ([10, 20, 30], -4), ([10, 20, 30], 2**30), ([10, 20, 30], 10**20), ([10, 20, 30], True),
    ([10, 20, 30], 1.0), ((1, 2), 1), ((1, 2), -3), ((), 0), ({"a": 1, (1, 2): 2}, "a"),
    ({"a": 1, (1, 2): 2}, (1, 2)), ({"a": 1}, "b"), ({"a": 1}, (3, 4)), ({"a": 1}, [1]),
    ({1: "one"}, 1.0), ({1: "one"}, True), ("text", 1), ("text", -1), (range(5), 2),
]


def test_subscript_loads():
    def load(container, key):
        return container[key]

    check_calls(load, [((c, k), {}) for c, k in SUBSCRIPT_CASES])


def test_subscript_stores():
    def store(container, key):
        container[key] = "new"
        return container

    cases = [(c, k) for c, k in SUBSCRIPT_CASES if not isinstance(c, (tuple, str, range))]
    check_calls(store, [((c, k), {}) for c, k in cases])


def test_list_store_releases_the_old_item_after_storing():
    def replace(items):
        log = []

        class Noisy:
            def __del__(self):
                log.append(list(items))

        items[0] = Noisy()
        items[0] = "last"
        return items, log

    check_calls(replace, [(([1, 2],), {})])


def test_sequence_subscripts_at_every_index():
    # Every index of short lists and tuples, both signs, one past each end, and keys that
    # are not exact one-digit ints (bool, big ints, an int subclass).
    class Index(int):
        pass

    def load_store(seq, i):
        out = [seq[i]]
        if type(seq) is list:
            seq[i] = ("stored", i)
            out.append(list(seq))
        return out

    cases = []
    for seq in ([10, 20, 30], (10, 20, 30), [7], ()):
        for i in range(-len(seq) - 1, len(seq) + 1):
            cases.append(((list(seq) if type(seq) is list else seq, i), {}))
        for key in (True, False, 2**30, -(2**30), 2**62, Index(0)):
            cases.append(((list(seq) if type(seq) is list else seq, key), {}))
    check_calls(load_store, cases)


def test_subscript_releases_run_destructors_at_the_right_line():
    # The container (or the old item) dies in the subscript: its destructor sees the frame's
    # line and the list as the interpreter shows them.
    import sys

    def f():
        log = []

        class Dies:
            def __init__(self, name):
                self.name = name

            def __del__(self):
                log.append((self.name, sys._getframe(1).f_lineno))

        first = [Dies("item"), 2][1]
        items = [Dies("old"), 0]
        items[0] = (
            "new"
        )
        second = (
            Dies("tuple"),
            3,
        )[1]
        return first, second, items, log

    check_calls(f, [((), {})] * 3)

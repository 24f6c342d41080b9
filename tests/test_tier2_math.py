"""Tier 2's direct calls of the C library for math functions and abs(), against the
interpreter: results bit for bit, types, and the errors of the math module's domain checks."""

import math

import numpy as np
import pytest

import autojit
from autojit.testing import check

N = 6000


def sqrt_sum(data):
    total = 0.0
    for i in range(len(data)):
        total += math.sqrt(data[i])
    return total


def mixed_math(data):
    total = 0.0
    for i in range(len(data)):
        x = data[i]
        total += math.exp(-x) * math.sin(x) + math.cos(x) - math.tan(x * 0.1) + math.atan(x) + math.tanh(x)
        total += math.log(x + 1.0) + math.fabs(x - 0.5) + abs(x - 0.25)
    return total


def abs_ints(n):
    total = 0
    for i in range(n):
        total += abs(i - 3000)
    return total


def exp_overflows(data):
    total = 0.0
    for i in range(len(data)):
        total += math.exp(data[i])
    return total


def tier2_ran(before):
    return autojit._core.stats()["tier2_entries"] > before


@pytest.mark.parametrize("kind", ["list", "array"])
def test_math_functions_are_exact(kind):
    rng = np.random.default_rng(7)
    values = rng.random(N) * 3.0
    data = values.tolist() if kind == "list" else values
    before = autojit._core.stats()["tier2_entries"]
    check(sqrt_sum, data)
    check(mixed_math, data)
    assert tier2_ran(before)


def test_abs_of_ints():
    before = autojit._core.stats()["tier2_entries"]
    check(abs_ints, N)
    assert tier2_ran(before)


def test_math_domain_errors_are_the_interpreters():
    data = [float(i) for i in range(N)]
    data[4500] = -1.0
    check(sqrt_sum, data)  # ValueError: math domain error, at the same line
    big = [1.0] * N
    big[5000] = 1000.0
    check(exp_overflows, big)  # OverflowError: math range error
    arr = np.ones(N)
    arr[5000] = -4.0
    check(sqrt_sum, arr)


def test_rebinding_math_functions_takes_effect():
    data = [float(i) for i in range(N)]
    first = check(sqrt_sum, data).result
    saved = math.sqrt
    math.sqrt = lambda x: 2.0
    try:
        second = check(sqrt_sum, data).result
    finally:
        math.sqrt = saved
    assert second == 2.0 * N and first != second


def test_rebinding_builtins_takes_effect():
    import builtins

    def uses_len_and_abs(data):
        total = 0.0
        for i in range(len(data)):
            total += abs(data[i] - 0.5)
        return total

    data = [float(i % 7) for i in range(N)]
    check(uses_len_and_abs, data)
    saved_abs, saved_len = builtins.abs, builtins.len
    builtins.abs = lambda x: 1.0
    builtins.len = lambda x: 100
    try:
        result = check(uses_len_and_abs, data).result
    finally:
        builtins.abs, builtins.len = saved_abs, saved_len
    assert result == 100.0


# --- more of the math module: inverse and hyperbolic functions, log2/log10, floor/ceil/trunc


def more_math(data):
    total = 0.0
    for i in range(len(data)):
        x = data[i]
        total += math.asin(x) + math.acos(x) + math.asinh(x) + math.atanh(x * 0.5)
        total += math.sinh(x) - math.cosh(x) + math.acosh(x + 2.0)
        total += math.log2(x + 1.5) - math.log10(i + 1)
    return total


def rounding_functions(data):
    total = 0
    for i in range(len(data)):
        x = data[i]
        total += math.floor(x) * 3 + math.ceil(x) - math.trunc(x * 7.0)
    return total


def one_math_inline(data):
    total = 0.0
    for i in range(len(data)):
        total += math.asin(data[i])
    return total


def cosh_sum(data):
    total = 0.0
    for i in range(len(data)):
        total += math.cosh(data[i])
    return total


def log10_sum(data):
    total = 0.0
    for i in range(len(data)):
        total += math.log10(data[i])
    return total


@pytest.mark.parametrize("kind", ["list", "array"])
def test_more_math_functions_are_exact(kind):
    rng = np.random.default_rng(11)
    values = rng.uniform(-1.0, 1.0, N)
    data = values.tolist() if kind == "list" else values
    before = autojit._core.stats()["tier2_entries"]
    check(more_math, data)
    assert tier2_ran(before)


def test_floor_ceil_trunc_of_floats():
    rng = np.random.default_rng(12)
    data = (rng.uniform(-1e6, 1e6, N)).tolist()
    data[100:110] = [0.5, -0.5, -0.0, 0.0, 2.0, -2.0, 1e15 + 0.5, -(2.0**62), 2.0**62, 4.5]
    before = autojit._core.stats()["tier2_entries"]
    assert type(check(rounding_functions, data).result) is int
    assert tier2_ran(before)
    data[5000] = 1e300  # floor() beyond 64 bits: the interpreter makes the big int
    check(rounding_functions, data)
    data[5000] = 2.0**63
    check(rounding_functions, data)


def test_more_math_errors_are_the_interpreters():
    data = [0.25] * N
    data[4500] = 1.5
    assert isinstance(check(one_math_inline, data).exception, ValueError)  # math domain error
    data = [1.0] * N
    data[5000] = 1000.0
    assert isinstance(check(cosh_sum, data).exception, OverflowError)  # math range error
    for bad in (0.0, -3.0, 0):
        data = [2.0] * N
        data[5000] = bad
        assert isinstance(check(log10_sum, data).exception, ValueError)
    ints = list(range(1, N + 1))
    check(log10_sum, ints)

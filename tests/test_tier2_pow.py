"""Tier 2 squares without calling pow where that gives the same double as pow (see
`exact_square` in src/tier2/compile.rs). This checks the claim against the C library's pow
on a million values across the whole exponent range, through compiled loops."""

import math

import numpy as np
import pytest

import autojit


def squares_array(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 2
    return out


def squares_list(data):
    total = []
    acc = 0.0
    for i in range(len(data)):
        acc = data[i] ** 2
        total.append(acc)
    return total


@pytest.fixture
def values():
    rng = np.random.default_rng(20261127)
    exponents = rng.integers(-420, 420, size=1_000_000)
    signs = rng.choice([-1.0, 1.0], size=exponents.size)
    return signs * rng.random(exponents.size) * np.exp2(exponents.astype(float))


def test_compiled_squares_equal_pow_on_a_million_values(values):
    expected = np.array([math.pow(float(x), 2.0) for x in values[:200_000]])
    # numpy's scalar power is the C library's pow too.
    assert np.array_equal(expected, [np.float64(x) ** 2 for x in values[:200_000]])
    before = autojit._core.stats()["tier2_entries"]
    autojit.enable()
    try:
        out = squares_array(values, np.empty_like(values))
    finally:
        autojit.disable()
    assert autojit._core.stats()["tier2_entries"] > before, "tier 2 did not run"
    plain = squares_array(values, np.empty_like(values))
    assert out.tobytes() == plain.tobytes()


def test_python_float_squares_equal_pow(values):
    data = [float(x) for x in values[:300_000] if abs(x) > 1e-150]
    autojit.enable()
    try:
        got = squares_list(data)
    finally:
        autojit.disable()
    assert got == [math.pow(x, 2.0) for x in data]


# --- square roots: `x ** 0.5` takes sqrt when that is provably pow's answer (`exact_sqrt`) ---


def roots_array(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 0.5
    return out


def roots_list(data):
    out = []
    for i in range(len(data)):
        out.append(data[i] ** 0.5)
    return out


@pytest.fixture
def root_values(values):
    # Random magnitudes over the whole range, perfect squares and their neighbours (where a
    # root sits on or near a representable value), zeros and the special values.
    squares = np.arange(1, 200_001, dtype=np.float64) ** 2
    near = np.concatenate([np.nextafter(squares, 0), np.nextafter(squares, np.inf)])
    special = np.array([0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, np.inf])
    return np.concatenate([np.abs(values), squares, near, special])


def test_compiled_roots_equal_pow(root_values):
    before = autojit._core.stats()["tier2_entries"]
    autojit.enable()
    try:
        out = roots_array(root_values, np.empty_like(root_values))
    finally:
        autojit.disable()
    assert autojit._core.stats()["tier2_entries"] > before, "tier 2 did not run"
    plain = roots_array(root_values, np.empty_like(root_values))
    assert out.tobytes() == plain.tobytes()
    # The sample must contain values where a plain sqrt would be wrong, or it proves nothing.
    differ = sum(1 for x in root_values[:300_000] if math.sqrt(float(x)) != math.pow(float(x), 0.5))
    assert differ > 10


def test_python_float_roots_equal_pow(root_values):
    data = [float(x) for x in root_values[:400_000] if x > 0]
    autojit.enable()
    try:
        got = roots_list(data)
    finally:
        autojit.disable()
    assert got == [math.pow(x, 0.5) for x in data]


# --- `x ** n` with the exponent a loop counter: 0, 1 and 2 without pow (`small_int_power`) ---


def powers_array(data, out, top):
    for i in range(len(data)):
        acc = 0.0
        for n in range(top):
            acc += data[i] ** n
        out[i] = acc
    return out


def powers_list(data, top):
    out = []
    for x in data:
        for n in range(-2, top):
            out.append(x ** n)
    return out


def test_compiled_small_int_powers_equal_pow(values):
    # (numpy warns on overflow, and tier 2 stays out under a changed errstate: no huge values.)
    data = np.concatenate([values[:200_000], [0.0, -0.0, 1.0, -1.0, 5e-324, 1e-300]])
    data = data[np.abs(data) < 1e60]
    before = autojit._core.stats()["tier2_entries"]
    autojit.enable()
    try:
        out = powers_array(data, np.empty_like(data), 5)
    finally:
        autojit.disable()
    plain = powers_array(data, np.empty_like(data), 5)
    assert autojit._core.stats()["tier2_entries"] > before, "tier 2 did not run"
    assert out.tobytes() == plain.tobytes()


def test_python_float_small_int_powers_equal_pow(values):
    data = [float(x) for x in values[:50_000] if 1e-50 < abs(x) < 1e50] + [1.0, -1.0, 0.5, -2.0]
    autojit.enable()
    try:
        got = powers_list(data, 5)
    finally:
        autojit.disable()
    assert got == powers_list(data, 5)


def cubes_array(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 3
    return out


def test_compiled_cubes_equal_pow(values):
    data = values[np.abs(values) < 1e100]
    before = autojit._core.stats()["tier2_entries"]
    autojit.enable()
    try:
        out = cubes_array(data, np.empty_like(data))
    finally:
        autojit.disable()
    assert autojit._core.stats()["tier2_entries"] > before, "tier 2 did not run"
    assert out.tobytes() == cubes_array(data, np.empty_like(data)).tobytes()
    # The sample must contain values whose twice-rounded cube is not pow's answer.
    assert sum(1 for x in data[:200_000] if (float(x) * float(x)) * float(x) != math.pow(float(x), 3.0)) > 10

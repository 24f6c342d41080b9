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


# --- the proof's edges: ranges, near-ties, special values, the C library (`prove_candidate`) ---
#
# Each shortcut uses its candidate when the exact power lies within 0.4795 ulp of it and the
# result within 2^+-128, else within 0.45 ulp and 2^+-800 (squares; cubes and roots have their
# own wide ranges), else calls pow. glibc's pow rounds an exact tie either way and a near-tie
# (within 0.01 ulp of a rounding midpoint) sometimes the wrong way: a shortcut that took those
# (a margin of 0.5) would differ from pow. `check` runs each loop interpreted and compiled and
# compares results, exceptions and warnings bit for bit.

import platform
import random
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autojit.testing import check


def square_each(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 2
    return out


def square_each_float(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 2.0
    return out


def cube_each(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 3
    return out


def root_each(data, out):
    for i in range(len(data)):
        out[i] = data[i] ** 0.5
    return out


def int_powers_each(data, out):
    # The exponent is a loop counter: `small_int_power`.
    for i in range(len(data)):
        x = data[i]
        for n in range(4):
            out[4 * i + n] = x ** n
    return out


LOOPS = {2: square_each, 2.0: square_each_float, 3: cube_each, 0.5: root_each, "n": int_powers_each}
EXPONENTS_OF = {2: [2], 2.0: [2], 3: [3], 0.5: [0.5], "n": [0, 1, 2, 3]}


def fits(x, exponents):
    """Whether x ** y is finite and x ** 0.5 real for every y: a Python float loop raises
    (OverflowError, ValueError) at the first one that is not, and the rest goes untested."""
    x = float(x)
    for y in exponents:
        if y == 0.5 and x < 0:
            return False
        if x != 0 and y * math.log2(abs(x)) >= 1023.9:
            return False
    return True


def check_loops(values, which, require_tier2=True):
    """Run the loop for `which` over `values` as a float64 array and as a list of floats, both
    compiled and interpreted, and compare; tier 2 must have run the compiled loops (else
    return how many of the two it ran)."""
    fn = LOOPS[which]
    per = 4 if which == "n" else 1
    array = np.asarray(values, dtype=np.float64)
    ran = 0
    for data in (array, [float(x) for x in array if fits(x, EXPONENTS_OF[which])]):
        if len(data) == 0:
            continue
        result = check(fn, data, np.zeros(per * len(data)))
        entered = result.jit_stats.get("tier2_entries", 0) > 0
        assert entered or not require_tier2, "tier 2 did not run"
        ran += entered
    return ran


def around(x, steps=600, spread=300):
    """x, its neighbours up to `steps` ulps either side, and `spread` random values within a
    factor of 2 of it: both sides of a range limit at x."""
    bits = np.float64(x).view(np.int64)
    near = (bits + np.arange(-steps, steps + 1, dtype=np.int64)).view(np.float64)
    rng = np.random.default_rng(int(bits) & 0xFFFF)
    return np.concatenate([near, x * np.exp2(rng.uniform(-1, 1, spread))])


def boundary_values(which):
    """Values at the edges of the narrow and wide ranges (and beyond) for one exponent."""
    if which in (2, 2.0, "n"):
        limits = [2.0 ** k for k in (64, 400)]  # p = x*x at 2^128 and 2^800
    elif which == 3:
        limits = [2.0 ** 42.5, 2.0 ** 250]  # p = x*x at 2^85 and 2^500
    else:
        limits = [2.0 ** 256, 2.0 ** 800]  # sqrt(x) at 2^128 and 2^400
    if which == "n":
        limits += [2.0 ** 42.5, 2.0 ** 250]  # its cubes too
    xs = []
    for limit in limits:
        for x in (limit, 1 / limit):
            xs.append(around(x))
            xs.append(-around(x))
    return np.concatenate(xs)


@pytest.mark.parametrize("which", [2, 2.0, 3, 0.5, "n"])
def test_shortcuts_at_range_limits(which):
    check_loops(boundary_values(which), which)


def exact_square_ties(count, scale):
    """x = m * 2^k with m an odd 27-bit integer above 2^26.5: x*x has 54 significant bits, an
    odd last one, so it lies exactly halfway between two doubles."""
    rng = random.Random(scale)
    low = math.isqrt(2 ** 53) + 1
    return [math.ldexp(rng.randrange(low, 2 ** 27) | 1, scale - 27) for _ in range(count)]


def exact_cube_ties(count, scale):
    """x = m * 2^k with m odd and m^3 of 54 bits: halfway between two doubles."""
    rng = random.Random(scale)
    low = round(2 ** (53 / 3)) + 1
    return [math.ldexp(rng.randrange(low, 2 ** 18) | 1, scale - 18) for _ in range(count)]


def tie_distance(v, c):
    """|v - c| in units of the spacing of the doubles next to c on v's side (exact)."""
    neighbour = math.nextafter(c, math.inf if v > c else -math.inf)
    return abs(v - Fraction(c)) / abs(Fraction(neighbour) - Fraction(c))


def near_ties(power, count, scale, threshold=0.49):
    """Random x (near 2^scale) whose exact power lies more than `threshold` ulp from the
    correctly rounded one, i.e. close to a rounding midpoint, found by trying."""
    rng = random.Random(1000 * scale + int(power * 10))
    found = []
    while len(found) < count:
        m = rng.getrandbits(52) | (1 << 52)
        x = math.ldexp(m, -52)  # in [1, 2): scaled afterwards, exactly
        if power == 0.5:
            c = math.sqrt(x)
            # |sqrt(x) - c| / u > t  <=>  x outside (c -+ t*u)^2, compared exactly.
            u = Fraction(math.nextafter(c, math.inf)) - Fraction(c)
            lo, hi = (Fraction(c) - Fraction(threshold) * u) ** 2, (Fraction(c) + Fraction(threshold) * u) ** 2
            if not lo < Fraction(x) < hi:
                found.append(x)
        else:
            v = Fraction(x) ** power
            if tie_distance(v, float(v)) > threshold:
                found.append(x)
    step = 2 if power == 0.5 else 1  # keep a root's argument's exponent even: scaling stays exact
    return [math.ldexp(x, scale - scale % step) for x in found]


def differs_from_correct_rounding(values, power):
    """How many values' powers the C library's pow does not round correctly."""
    count = 0
    for x in values:
        exact = Fraction(x) ** power if power != 0.5 else None
        correct = float(exact) if exact is not None else math.sqrt(x)
        if math.pow(x, power) != correct:
            count += 1
    return count


TIE_SCALES = [0, 1, -1, 30, -30, 60, -60, 100, -100, 300, -300, 500, -500]


@pytest.mark.parametrize("which", [2, 2.0, "n"])
def test_square_ties_and_near_ties(which):
    values = []
    for scale in TIE_SCALES:
        values += exact_square_ties(300, scale) + near_ties(2, 40, scale)
    # Without pow's misrounded ties in the sample, the test could not fail.
    assert differs_from_correct_rounding([abs(x) for x in values[:2000]], 2) > 50
    check_loops(values + [-x for x in values], which)


@pytest.mark.parametrize("which", [3, "n"])
def test_cube_ties_and_near_ties(which):
    values = []
    for scale in [s for s in TIE_SCALES if abs(s) < 300] + [200, -200]:
        values += exact_cube_ties(300, scale) + near_ties(3, 40, scale)
    assert differs_from_correct_rounding(values[:2000], 3) > 50
    check_loops(values + [-x for x in values], which)


def test_root_near_ties():
    values = []
    for scale in TIE_SCALES + [700, -700]:
        values += near_ties(0.5, 60, scale)
    assert differs_from_correct_rounding(values, 0.5) > 5
    check_loops(values, 0.5)


SPECIAL = [
    0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0, 5e-324, -5e-324, 1e-320, 2.2250738585072014e-308,
    2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308, 1e308, 1e200, 1e154,
    1.3407807929942596e154, 1e103, 5.64380309e102, 1e-154, 1e-160, 1e-162, 1e-200, 1e-300,
    2.0 ** -537, 2.0 ** -538, 2.0 ** 511, 2.0 ** 512, 2.0 ** 341, 2.0 ** -358, 1.5 * 2.0 ** 340,
]


@pytest.mark.parametrize("which", [2, 2.0, 3, 0.5, "n"])
def test_special_values(which):
    # Subnormals, zeros of both signs, overflowing and underflowing powers, the largest double:
    # out of every range, they take pow (and the interpreter's error and warning handling).
    values = SPECIAL + [-x for x in SPECIAL]
    check_loops(values * 20, which)


def glibc_with_bounded_pow():
    library, version = platform.libc_ver()
    return library == "glibc" and tuple(int(p) for p in version.split(".")[:2]) >= (2, 28)


def test_shortcuts_follow_the_c_library():
    assert autojit._core._pow_shortcuts() == glibc_with_bounded_pow()


def test_results_without_shortcuts(values):
    # With the shortcuts off (as with any C library but glibc >= 2.28) every power calls pow.
    data = np.concatenate([values[:20_000], exact_square_ties(2000, 0)])
    autojit._core._set_pow_shortcuts(False)
    try:
        assert not autojit._core._pow_shortcuts()
        for which in LOOPS:
            check_loops(data, which)
    finally:
        autojit._core._set_pow_shortcuts(True)
    assert autojit._core._pow_shortcuts() == glibc_with_bounded_pow()


@st.composite
def pow_bases(draw):
    """Any finite double, a tie or a near-tie at a drawn scale, or a value next to a range limit."""
    kind = draw(st.sampled_from(["any", "any", "square_tie", "cube_tie", "near", "limit"]))
    if kind == "any":
        return draw(st.floats(allow_nan=False, allow_infinity=False))
    sign = draw(st.sampled_from([1.0, -1.0]))
    scale = draw(st.integers(-520, 520))
    if kind == "square_tie":
        m = draw(st.integers(math.isqrt(2 ** 53) + 1, 2 ** 27 - 1)) | 1
        return sign * math.ldexp(m, scale - 27)
    if kind == "cube_tie":
        m = draw(st.integers(round(2 ** (53 / 3)) + 1, 2 ** 18 - 1)) | 1
        return sign * math.ldexp(m, min(max(scale, -300), 300) - 18)
    if kind == "near":
        m = draw(st.integers(2 ** 52, 2 ** 53 - 1))
        return sign * math.ldexp(m, scale - 52)
    limit = draw(st.sampled_from([64, 400, 42.5, 250, 256, 800, -64, -400, -42.5, -250, -256, -800]))
    ulps = draw(st.integers(-50, 50))
    x = np.float64(2.0 ** limit).view(np.int64) + ulps
    return sign * float(x.view(np.float64))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pow_bases(), min_size=1, max_size=60), st.sampled_from(list(LOOPS)))
def test_hypothesis_powers_equal_pow(pool, which):
    # The pool repeated to 3000 values: enough iterations for tier 2 to take the loop (a pool
    # of overflowing powers may keep it out: the sanity test below counts).
    values = (pool * (3000 // len(pool) + 1))[:3000]
    HYPOTHESIS_TIER2.append(check_loops(values, which, require_tier2=False))


HYPOTHESIS_TIER2 = []


def test_hypothesis_examples_ran_tier2():
    # Runs after the hypothesis test (file order): most of its loops ran in tier 2.
    if not HYPOTHESIS_TIER2:
        pytest.skip("the hypothesis test did not run")
    assert sum(1 for ran in HYPOTHESIS_TIER2 if ran) >= len(HYPOTHESIS_TIER2) // 2


NO_FMA_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
import test_tier2_pow as t
rng = np.random.default_rng(5)
values = list(np.exp2(rng.uniform(-450, 450, 20_000)) * rng.choice([-1.0, 1.0], 20_000))
for scale in t.TIE_SCALES:
    values += t.exact_square_ties(200, scale) + t.near_ties(2, 20, scale)
values += t.SPECIAL + [-x for x in t.SPECIAL] + list(t.boundary_values(2))
for which in (2, 2.0, 3, 0.5, "n"):
    t.check_loops(values, which)
print("ok")
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="FMA is part of aarch64")
def test_squares_without_fma():
    # A CPU without FMA3 squares through Dekker's product (and calls pow for cubes and roots):
    # AUTOJIT_NO_FMA=1 makes that code here.
    import os
    import subprocess
    import sys

    tests = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, AUTOJIT_NO_FMA="1")
    run = subprocess.run([sys.executable, "-c", NO_FMA_SCRIPT.format(tests=tests)], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr

"""Differential tests for tier 2 (type-specialized loops entered by on-stack replacement).

Every function here runs through autojit.testing.check: once in CPython's interpreter, once
force-compiled, compared bit for bit (result and its type, exception and traceback, mutation
of the arguments, warnings, output). Tier 1 offers a loop to tier 2 every `loop_threshold`
back-edges (rounded up to a power of two: every back-edge under check, which sets it to 0;
1024 in the design), so each loop runs at least 5000 iterations, and special inputs (a zero, a
NaN, an index out of range, a str in a list, an int outgrowing 64 bits) sit well past the first
entry (at 4000 of 5000, say), so that tier 2 meets them and has to exit.

Groups: the seed article's workloads; array layouts and dtypes; int64, int32 and float32
arrays (numpy scalar rules); min, max, int() and float(); lists and tuples of ints and floats;
floor division, modulo, integer powers and negation; boolean values and chained comparisons;
exits forced by inputs; globals
(shadowed and rebound builtins); result types; int/float mixing; control flow (if/else,
while, ranges, break/continue/else); exits that tier 1 continues from (iterators created in
tier 2, exception handlers, arrays reshaped, resized or frozen mid-loop, numpy's errstate);
tracing, profiling, monitoring and signals arriving mid-loop; reference counts; powers
(integer exponents, 0.5, negative and zero bases, subnormal and overflowing results).

A case states what it is meant to exercise, and the test checks that it did:
* what the interpreter does (returns a value of a given type, or raises a given exception,
  with given warnings), so that the case keeps testing what it claims;
* that tier 2 ran (``tier2_entries`` moved during the compiled run) for cases meant to reach it;
* which tier-2 exits it took (``autojit.stats()['exits']``, reason -> count) for cases that
  force one.

Arguments are deep-copied by check (an array view becomes a contiguous copy, a read-only array
a writeable one), so views, transposes and read-only flags are made inside the tested
functions, before their loops.

Functions must be repeatable (they run twice): state they change lives in their arguments or
is set up by the function itself.
"""

import gc
import math
import signal
import sys

import numpy as np
import pytest

import autojit
from autojit.testing import check, check_calls

N = 5000  # iterations of a loop meant to reach tier 2 (entry every 1024 back-edges)
AT = 4000  # where a special input sits: inside tier 2, after its first entry
NAN = float("nan")
INF = float("inf")

_rng = np.random.default_rng(20240611)
UNIT = _rng.random(N)  # [0, 1)
SIGNED = _rng.uniform(-10.0, 10.0, N)
POINTS = _rng.random((75, 2))  # 75 * 75 = 5625 inner iterations
MATRIX = _rng.uniform(-1.0, 1.0, (50, 120))  # 6000 elements
COEFFS = np.array([1.0, -2.0, 0.5, 3.0])


def arr(values=UNIT, **changes):
    """A fresh float64 array, with the given {index: value} changes."""
    out = np.array(values, dtype=np.float64)
    for index, value in changes.items():
        out.flat[int(index.lstrip("_"))] = value
    return out


def at(value, where=AT, base=UNIT):
    """A fresh float64 array equal to `base` except at `where`."""
    out = np.array(base, dtype=np.float64)
    out[where] = value
    return out


def lst(values=UNIT):
    return [float(x) for x in values]


def lst_at(value, where=AT, base=UNIT):
    """A fresh list of floats (or a copy of the list `base`) with `value` at `where`."""
    out = list(base) if isinstance(base, list) else lst(base)
    out[where] = value
    return out


# --- the harness around check ------------------------------------------------------------


def _exits():
    stats = autojit.stats()
    if "exits" not in stats:  # a build from before exits were counted by reason
        return None
    return dict(stats["exits"])


def run(fn, *args, raises=None, tier2=True, exits=(), rtype=None, warns=None):
    """check(fn, *args), then assert what the case is meant to exercise.

    raises: the exception type the interpreter raises (None: it returns);
    tier2: True - tier 2 must have been entered during the compiled run; False - it must not
    have been; None - either;
    exits: tier-2 exit reasons that must have been taken during the compiled run;
    rtype: the exact type of the interpreter's result;
    warns: the interpreter's warnings, as a list of (category, message) pairs (None: any).
    """
    before = _exits()
    result = check(fn, *args)
    after = _exits()
    name = fn.__name__
    if raises is None:
        assert result.exception is None, f"{name}: the interpreter raised {result.exception!r}"
    else:
        assert isinstance(result.exception, raises), f"{name}: expected {raises.__name__}, interpreter gave {result!r}"
    if rtype is not None:
        assert type(result.result) is rtype, f"{name}: interpreter result {result.result!r} is not a {rtype.__name__}"
    if warns is not None:
        assert sorted(set(result.warnings), key=repr) == sorted(set(warns), key=repr), (
            f"{name}: interpreter warnings {sorted(set(result.warnings), key=repr)}"
        )
    if tier2 is False:
        assert result.jit_stats.get("tier2_entries", 0) == 0, f"{name}: tier 2 ran ({result.explain})"
    if tier2:
        assert result.jit_stats.get("tier2_entries", 0) > 0, (
            f"{name}: tier 2 never ran (counters moved: {result.jit_stats}, explain: {result.explain})"
        )
    if exits and before is not None:
        moved = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        for reason in exits:
            assert moved.get(reason, 0) > 0, f"{name}: no tier-2 exit {reason!r} (exits taken: {moved})"
    return result


def case(fn, *args, marks=(), **expect):
    return pytest.param(fn, args, expect, id=expect.pop("id", fn.__name__), marks=marks)




def _run_case(fn, args, expect):
    run(fn, *args, **expect)


def warning(message):
    return (RuntimeWarning, message)


# --- the seed article's workloads ---------------------------------------------------------


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


SEED = [
    case(numerical_loop, arr(), rtype=np.float64, warns=[]),
    case(numerical_loop, arr(SIGNED), rtype=np.float64, warns=[], id="numerical_loop-signed"),
    case(nested_loop, arr(UNIT[:60]), rtype=np.float64, warns=[]),
    case(polynomial_eval, arr(), COEFFS.copy(), rtype=np.ndarray, warns=[]),
    case(polynomial_eval, arr(SIGNED), COEFFS.copy(), rtype=np.ndarray, warns=[], id="polynomial_eval-signed"),
    case(distance_matrix, POINTS.copy(), rtype=np.ndarray, warns=[]),
    case(list_loop, lst(), rtype=float, warns=[]),
    case(list_loop, lst(SIGNED), rtype=float, warns=[], id="list_loop-signed"),
]


@pytest.mark.parametrize("fn, args, expect", SEED)
def test_seed_workloads(fn, args, expect):
    _run_case(fn, args, expect)


# --- array layouts and dtypes -------------------------------------------------------------


def sum_1d(a):
    total = 0.0
    for i in range(len(a)):
        total += a[i] * 1.5 - a[i] / 3.0
    return total


def sum_2d(a):
    rows, cols = a.shape
    total = 0.0
    for i in range(rows):
        for j in range(cols):
            total += a[i, j] * (i + 1) - a[i, j] ** 2
    return total


def sum_every_other(a):
    v = a[::2]
    total = 0.0
    for i in range(len(v)):
        total += v[i] * v[i] + 0.5
    return total


def sum_reversed(a):
    v = a[::-1]
    total = 0.0
    for i in range(len(v)):
        total = total * 0.5 + v[i] * i
    return total


def sum_transposed(a):
    t = a.T
    rows, cols = t.shape
    total = 0.0
    for i in range(rows):
        for j in range(cols):
            total += t[i, j] * j - i
    return total


def sum_strided_2d(a):
    v = a[::2, ::-3]
    rows, cols = v.shape
    total = 0.0
    for k in range(3):
        for i in range(rows):
            for j in range(cols):
                total += v[i, j] * k
    return total


def sum_column(a):
    col = a[:, 7]
    total = 0.0
    for k in range(100):
        for i in range(len(col)):
            total += col[i] - k
    return total


def scale_into_view(a):
    # Writes through views: every other element, backwards.
    v = a[::-2]
    for i in range(len(v)):
        v[i] = v[i] * 2.0 + i
    return a


def write_transposed(a):
    t = a.T
    rows, cols = t.shape
    for i in range(rows):
        for j in range(cols):
            t[i, j] = t[i, j] * i - j * 0.25
    return a


def copy_scaled(a):
    out = np.empty_like(a)
    for i in range(len(a)):
        out[i] = a[i] * 3.0
    return out


def fill_with_ints(a):
    # Python ints stored into a float64 array (converted as numpy converts them).
    for i in range(len(a)):
        a[i] = i * i * 7919 - 123456789
    return a


def fill_with_big_ints(a, start):
    # Ints beyond 2**53: rounded to the nearest double, as numpy rounds them.
    k = 0
    for i in range(start, start + len(a)):
        a[k] = i
        k += 1
    return a


def read_only_sum(a):
    a.setflags(write=False)
    total = 0.0
    for i in range(len(a)):
        total += a[i] ** 2
    return total


def read_only_write(a):
    a.setflags(write=False)
    total = 0.0
    for i in range(len(a)):
        total += a[i]
        if i == 4000:
            a[i] = total
    return total


def read_only_view_write(a):
    v = a[::-1]
    v.setflags(write=False)
    total = 0.0
    for i in range(len(v)):
        if i < 4000:
            total += v[i]
        else:
            v[i] = total
    return total


def fortran_2d(a):
    f = np.asfortranarray(a)
    rows, cols = f.shape
    total = 0.0
    for i in range(rows):
        for j in range(cols):
            total += f[i, j] * f[i, j]
    return total


def unaligned_sum(values):
    buf = bytearray(8 * len(values) + 1)
    a = np.frombuffer(buf, dtype=np.float64, offset=1, count=len(values))
    a[:] = values
    total = 0.0
    for i in range(len(a)):
        total += a[i] * 2.0
    return total


def three_d_sum(a):
    x, y, z = a.shape
    total = 0.0
    for i in range(x):
        for j in range(y):
            for k in range(z):
                total += a[i, j, k] * 0.5
    return total


def three_d_view_write(a):
    # Negative and non-contiguous strides on every axis, negative indices, stores.
    v = a[::-1, 1::2, ::-3]
    x, y, z = v.shape
    for i in range(x):
        for j in range(y):
            for k in range(z):
                v[i, j, k] = v[-1 - i, j, k] * 0.5 + v[i, -1 - j, -1 - k]
    return a


def three_d_index_past_end(a):
    x, y, z = a.shape
    total = 0.0
    for i in range(x):
        last = z + 1 if i == x - 1 else z
        for j in range(y):
            for k in range(last):
                total += a[i, j, k]
    return total


def other_dtype_loop(data):
    result = 0.0
    for i in range(len(data)):
        result += data[i] ** 2 + data[i] * 3.14
    return result


def other_dtype_int_sum(data):
    total = 0
    for i in range(len(data)):
        total += data[i] * data[i]
    return total


def other_dtype_store(data):
    for i in range(len(data)):
        data[i] = data[i] * 3 + 1
    return data


LAYOUTS = [
    case(sum_1d, arr(SIGNED), rtype=np.float64),
    case(sum_2d, MATRIX.copy(), rtype=np.float64),
    case(sum_every_other, arr(np.tile(SIGNED, 2)), rtype=np.float64),
    case(sum_reversed, arr(SIGNED), rtype=np.float64),
    case(sum_transposed, MATRIX.copy(), rtype=np.float64),
    case(sum_strided_2d, arr(_rng.random((100, 120))), rtype=np.float64),
    case(sum_column, MATRIX.copy(), rtype=np.float64),
    case(scale_into_view, arr(np.tile(SIGNED, 2)), rtype=np.ndarray),
    case(write_transposed, MATRIX.copy(), rtype=np.ndarray),
    case(copy_scaled, arr(SIGNED), rtype=np.ndarray),
    case(fill_with_ints, np.zeros(N), rtype=np.ndarray),
    case(fill_with_big_ints, np.zeros(N), 2**60 - 2500, rtype=np.ndarray),
    case(read_only_sum, arr(SIGNED), rtype=np.float64),
    case(read_only_write, arr(SIGNED), raises=ValueError),
    case(read_only_view_write, arr(SIGNED), raises=ValueError),
    case(fortran_2d, MATRIX.copy(), rtype=np.float64),
    # Layouts and dtypes tier 2 does not compile must still be exact.
    case(unaligned_sum, arr(SIGNED), rtype=np.float64, tier2=None),
    case(three_d_sum, arr(_rng.random((10, 20, 30))), rtype=np.float64),
    case(three_d_view_write, arr(_rng.random((12, 20, 30))), rtype=np.ndarray),
    case(three_d_index_past_end, arr(_rng.random((10, 20, 30))), raises=IndexError, exits=["array_index"]),
    case(other_dtype_loop, SIGNED.astype(np.float32), rtype=np.float32, tier2=None, id="float32"),
    case(other_dtype_loop, (SIGNED * 1000).astype(np.int64), rtype=np.float64, tier2=None, id="int64"),
    case(other_dtype_loop, (SIGNED * 1000).astype(np.int32), rtype=np.float64, tier2=None, id="int32"),
    case(other_dtype_loop, SIGNED.astype(">f8"), rtype=np.float64, tier2=None, id="big-endian-float64"),
    case(other_dtype_loop, SIGNED.astype(np.float16), rtype=np.float16, tier2=None, id="float16"),
    case(other_dtype_int_sum, (SIGNED * 1000).astype(np.int64), rtype=np.int64, id="int64-sum"),
    case(other_dtype_int_sum, (SIGNED * 1000).astype(np.int32), rtype=np.int32, id="int32-sum"),
    # int64 scalars wrap with a warning where Python ints would grow.
    case(
        other_dtype_int_sum,
        np.full(N, 2**40, dtype=np.int64),
        rtype=np.int64,
        warns=[warning("overflow encountered in scalar multiply")],
        exits=["numpy_int_overflow"],
        id="int64-wraps",
    ),
    case(other_dtype_store, (SIGNED * 1000).astype(np.int32), rtype=np.ndarray, id="int32-store"),
    case(other_dtype_store, (SIGNED * 1000).astype(np.int64), rtype=np.ndarray, id="int64-store"),
    case(other_dtype_store, SIGNED.astype(np.float32), rtype=np.ndarray, tier2=None, id="float32-store"),
]


@pytest.mark.parametrize("fn, args, expect", LAYOUTS)
def test_layouts_and_dtypes(fn, args, expect):
    _run_case(fn, args, expect)


# --- int64, int32 and float32 arrays ------------------------------------------------------
# Their elements are numpy scalars with numpy's rules (NEP 50 under numpy 2: a Python int
# takes the numpy integer's type; integer overflow wraps with a warning; float32 arithmetic
# stays float32). Tier 2 compiles what is provably the same and exits for the rest.

INTS = (SIGNED * 1000).astype(np.int64)
INT_MATRIX = (MATRIX * 1e6).astype(np.int64)


def int_mix(a):
    # numpy ints with Python ints (+ - * & ^ |), with floats (numpy.float64) and divided.
    total = 0
    other = 0.0
    for i in range(len(a)):
        total += (a[i] * 3 - a[i - 1]) ^ (a[i] & 255) | 1
        other += a[i] * 0.5 + a[-1 - i] / 7
    return total, other


def int_compare(a):
    count = 0
    for i in range(len(a)):
        if a[i] > 0:
            count += 1
        if a[i - 1] <= a[i]:
            count += 2
        if a[i]:
            count += 4
    return count


def int_divide_by_zero(a):
    other = 0.0
    for i in range(len(a)):
        other += a[i] / (i - 4000)
    return other


def int32_overflow(a):
    total = 0
    for i in range(len(a)):
        total = total + a[i]
    return total


def int32_python_int_too_big(a, big):
    total = 0
    for i in range(len(a)):
        total += a[i] + (big if i == 4000 else 1)
    return total


def int_store(a, out):
    for i in range(len(a)):
        out[i] = a[i] * 2 - i
    return out


def int32_store_out_of_range(out, start):
    for i in range(len(out)):
        out[i] = start + i
    return out


def int_store_float(out):
    for i in range(len(out)):
        out[i] = 0.5 * i if i == 4000 else i
    return out


def copy_elements(a, out):
    # Loaded and stored without arithmetic: exact for every dtype pair tier 2 accepts.
    for i in range(len(a)):
        out[i] = a[i]
    return out


def float32_store(out, scale):
    for i in range(len(out)):
        out[i] = (i - 2500) * scale + 0.1
    return out


def float32_views(a):
    v = a[::-3, 1::2]
    rows, cols = v.shape
    out = np.zeros((rows, cols), dtype=np.float64)
    for i in range(rows):
        for j in range(cols):
            v[i, j] = v[-1 - i, j]
            out[i, j] = v[i, -1 - j]
    return a, out


def int_views_3d(a):
    v = a[::-1, :, ::-2]
    x, y, z = v.shape
    total = 0
    for i in range(x):
        for j in range(y):
            for k in range(z):
                total += v[i, j, k] - v[i, -1 - j, k] * 2
                v[i, j, k] = total & 0xFFFF
    return total, a


def float32_arithmetic(a):
    # float32 arithmetic stays float32 in numpy: not compiled, still exact.
    total = 0.0
    for i in range(len(a)):
        total += a[i] * 0.1
    return total


def int_accumulator_enters(a, start):
    # The accumulator is a numpy.int64 when tier 2 is entered: it enters unboxed.
    total = start
    for i in range(len(a)):
        total = total + a[i]
    return total


def read_only_int_write(a):
    a.setflags(write=False)
    total = 0
    for i in range(len(a)):
        total += a[i]
        if i == 4000:
            a[i] = 1
    return total


DTYPES = [
    case(int_mix, INTS.copy(), rtype=tuple, warns=[]),
    case(int_mix, INTS.astype(np.int32), rtype=tuple, warns=[], id="int_mix-int32"),
    case(int_compare, INTS.copy(), rtype=int),
    case(int_compare, INTS.astype(np.int32), rtype=int, id="int_compare-int32"),
    case(int_divide_by_zero, INTS.copy(), rtype=np.float64, exits=["numpy_int_overflow"],
         warns=[warning("divide by zero encountered in scalar divide")]),
    case(int32_overflow, np.full(N, 2**30, dtype=np.int32), rtype=np.int32, exits=["numpy_int_overflow"],
         warns=[warning("overflow encountered in scalar add")]),
    case(int32_python_int_too_big, np.ones(N, dtype=np.int32), 2**31, raises=OverflowError,
         exits=["numpy_int_overflow"]),
    case(int32_python_int_too_big, np.ones(N, dtype=np.int64), 2**40, rtype=np.int64, id="int64_python_int_big"),
    case(int_store, INTS.copy(), np.zeros(N, dtype=np.int64), rtype=np.ndarray),
    case(int_store, INTS.astype(np.int32), np.zeros(N, dtype=np.int32), rtype=np.ndarray, id="int_store-int32"),
    case(int_store, INTS.copy(), np.zeros(N, dtype=np.float32), rtype=np.ndarray, id="int_store-float32"),
    case(int_store, INTS.copy(), np.zeros(N, dtype=np.float64), rtype=np.ndarray, id="int_store-float64"),
    case(int32_store_out_of_range, np.zeros(N, dtype=np.int32), 2**31 - 4000, raises=OverflowError,
         exits=["array_store_value"]),
    case(int32_store_out_of_range, np.zeros(N, dtype=np.float32), 2**53 - 4000, rtype=np.ndarray,
         exits=["array_store_value"], id="float32_store_beyond_2_53"),
    case(int_store_float, np.zeros(N, dtype=np.int64), rtype=np.ndarray),
    case(copy_elements, SIGNED.astype(np.float32), np.zeros(N, dtype=np.float32), rtype=np.ndarray, id="f32-f32"),
    case(copy_elements, SIGNED.astype(np.float32), np.zeros(N), rtype=np.ndarray, id="f32-f64"),
    case(copy_elements, SIGNED.copy(), np.zeros(N, dtype=np.float32), rtype=np.ndarray, id="f64-f32"),
    case(copy_elements, INTS.copy(), np.zeros(N, dtype=np.int32), rtype=np.ndarray, id="i64-i32"),
    case(copy_elements, INTS.astype(np.int32), np.zeros(N, dtype=np.int64), rtype=np.ndarray, id="i32-i64"),
    case(copy_elements, np.where(np.arange(N) == AT, 2**40, INTS), np.zeros(N, dtype=np.int32), raises=OverflowError,
         exits=["array_store_value"], id="i64-i32-out-of-range"),
    case(copy_elements, INTS * 2**40, np.zeros(N), rtype=np.ndarray, id="i64-f64"),
    case(copy_elements, arr(SIGNED, _4000=NAN), np.zeros(N, dtype=np.float32), rtype=np.ndarray,
         exits=["nonfinite_value"], id="f64-f32-nan"),
    case(float32_store, np.zeros(N, dtype=np.float32), 1e-3, rtype=np.ndarray),
    case(float32_store, np.zeros(N, dtype=np.float32), 1e-42, rtype=np.ndarray, id="float32_store-subnormal"),
    case(float32_store, np.zeros(N, dtype=np.float32), 1e36, rtype=np.ndarray, exits=["array_store_value"],
         warns=[warning("overflow encountered in cast")], id="float32_store-overflow"),
    case(float32_views, _rng.uniform(-1, 1, (150, 80)).astype(np.float32), rtype=tuple),
    case(int_views_3d, _rng.integers(-1000, 1000, (10, 20, 30)), rtype=tuple),
    case(int_views_3d, _rng.integers(-1000, 1000, (10, 20, 30)).astype(np.int32), rtype=tuple, id="int_views_3d-int32"),
    case(float32_arithmetic, SIGNED.astype(np.float32), rtype=np.float32, exits=["unsupported"]),
    case(int_accumulator_enters, INTS.copy(), np.int64(7), rtype=np.int64),
    case(int_accumulator_enters, INTS.astype(np.int32), np.int32(7), rtype=np.int32, id="int32_accumulator_enters"),
    case(read_only_int_write, INTS.copy(), raises=ValueError),
]


@pytest.mark.parametrize("fn, args, expect", DTYPES)
def test_numpy_dtypes(fn, args, expect):
    _run_case(fn, args, expect)



# --- min, max, int() and float() ----------------------------------------------------------


def running_min_max(a):
    lo = a[0]
    hi = a[0]
    for i in range(len(a)):
        lo = min(lo, a[i])
        hi = max(a[i], hi)
    return lo, hi


def min_max_three(a):
    total = 0.0
    for i in range(len(a)):
        total += min(a[i], a[i - 1], a[-1 - i]) - max(a[i], a[i - 1], a[-1 - i])
    return total


def min_max_ties(a):
    # Equal values (0.0 and -0.0): the first argument wins.
    out = []
    lo = 5.0
    hi = -5.0
    for i in range(len(a)):
        lo = min(lo, a[i])
        hi = max(hi, a[i])
        if i % 1000 == 999:
            out.append((lo, hi))
    return out


def min_max_identity(x, y):
    # The result is the argument object itself (checked through the result's aliasing).
    best = 1e300
    other = -1e300
    for i in range(N):
        best = min(best, x, y)
        other = max(y, other)
    return best, other


def min_max_ints(n, big):
    lo = big
    hi = -big
    for i in range(n):
        lo = min(lo, ((i * 7919) & 1023) - 500)
        hi = max(hi, ((i * 104729) & 4095) * big)
    return lo, hi


def min_max_mixed_types(a):
    # A Python float against numpy.float64: the result's type depends on the values.
    total = 0.0
    for i in range(len(a)):
        total += min(a[i], 0.25)
    return total


def int_of_floats(a):
    total = 0
    for i in range(len(a)):
        total += int(a[i] * 3.0) - int(a[i] * -0.5)
    return total


def int_of_scalars(a, b):
    total = 0
    for i in range(len(a)):
        total += int(a[i]) + int(b[i])
    return total


def float_of_ints(start, n):
    total = 0.0
    for i in range(start, start + n):
        total += float(i) - float(i * 3) * 0.5
    return total


def float_of_scalars(a, b):
    total = 0.0
    for i in range(len(a)):
        total += float(a[i]) * 0.5 + float(b[i])
    return total


CONVERSIONS = [
    case(running_min_max, arr(SIGNED), rtype=tuple),
    case(running_min_max, lst(SIGNED), rtype=tuple, id="running_min_max-list"),
    case(running_min_max, INTS.copy(), rtype=tuple, id="running_min_max-int64"),
    case(running_min_max, SIGNED.astype(np.float32), rtype=tuple, id="running_min_max-float32"),
    case(min_max_three, arr(SIGNED), rtype=np.float64),
    case(min_max_ties, arr(np.tile([0.0, -0.0, 1.0, -0.0, 0.0], N // 5)), rtype=list),
    case(min_max_identity, 2.5, 2.5, rtype=tuple),
    case(min_max_identity, 2**70 + 0.0, 3.5, rtype=tuple, id="min_max_identity-2"),
    case(min_max_ints, N, 10**9, rtype=tuple),
    case(min_max_ints, N, 2**52, rtype=tuple, exits=["int_overflow"], id="min_max_ints-overflow"),
    case(min_max_mixed_types, arr(SIGNED), rtype=np.float64, exits=["unsupported"]),
    case(int_of_floats, arr(SIGNED * 1e6), rtype=int),
    case(int_of_floats, arr(SIGNED, _4000=3e300), rtype=int, exits=["int_overflow"], id="int_of_floats-huge"),
    case(int_of_floats, arr(SIGNED, _4000=2.0**63), rtype=int, exits=["int_overflow"], id="int_of_floats-2_63"),
    case(int_of_floats, arr(SIGNED, _4000=-(2.0**63) / 3), rtype=int, id="int_of_floats-near-min"),
    case(int_of_scalars, INTS.copy(), SIGNED.astype(np.float32), rtype=int),
    case(int_of_scalars, INTS.astype(np.int32), SIGNED * 1e15, rtype=int, id="int_of_scalars-2"),
    case(float_of_ints, 0, N, rtype=float),
    case(float_of_ints, 2**53 - 2500, N, rtype=float, id="float_of_ints-2_53"),
    case(float_of_ints, 2**62 - 2500, N, rtype=float, exits=["int_overflow"], id="float_of_ints-2_62"),
    case(float_of_scalars, SIGNED.astype(np.float32), INTS * 2**40, rtype=float),
    case(float_of_scalars, arr(SIGNED), INTS.astype(np.int32), rtype=float, id="float_of_scalars-2"),
]


@pytest.mark.parametrize("fn, args, expect", CONVERSIONS)
def test_min_max_and_conversions(fn, args, expect):
    _run_case(fn, args, expect)


# --- lists and tuples of ints and floats --------------------------------------------------

INT_ITEMS = [int(x) for x in INTS]


def sequence_sum(xs):
    total = 0
    last = None
    for i in range(len(xs)):
        total += xs[i] * 3 - xs[-1 - i]
        last = xs[i]
    return total, last


def sequence_float_sum(xs):
    total = 0.0
    for i in range(len(xs)):
        total += xs[i] * 0.5 + xs[i - 1]
    return total


def gather(a, idx):
    # Ints from a list or tuple used as array indices.
    total = 0.0
    for i in range(len(idx)):
        total += a[idx[i]]
    return total


def sequence_past_end(xs):
    total = 0
    for i in range(len(xs) + 1):
        total += xs[i]
    return total


SEQUENCES = [
    case(sequence_sum, list(INT_ITEMS), rtype=tuple),
    case(sequence_sum, tuple(INT_ITEMS), rtype=tuple, id="sequence_sum-tuple"),
    case(sequence_sum, lst_at(2**70, base=INT_ITEMS), rtype=tuple, exits=["list_item"], id="sequence_sum-big-int"),
    case(sequence_sum, lst_at(2.5, base=INT_ITEMS), rtype=tuple, exits=["list_item"], id="sequence_sum-float-item"),
    case(sequence_sum, lst_at(True, base=INT_ITEMS), rtype=tuple, exits=["list_item"], id="sequence_sum-bool-item"),
    case(sequence_sum, tuple(lst_at(2**62, base=INT_ITEMS)), rtype=tuple, exits=["int_overflow"],
         id="sequence_sum-overflow"),
    case(sequence_float_sum, tuple(lst(SIGNED)), rtype=float),
    case(sequence_float_sum, tuple(lst_at(7, base=lst(SIGNED))), rtype=float, exits=["list_item"],
         id="sequence_float_sum-int-item"),
    case(sequence_float_sum, list(INT_ITEMS), rtype=float, id="sequence_float_sum-ints"),
    case(gather, arr(SIGNED), [int(x) % N - N // 2 for x in INTS], rtype=np.float64),
    case(gather, arr(SIGNED), tuple(int(x) % N for x in INTS), rtype=np.float64, id="gather-tuple"),
    case(sequence_past_end, tuple(INT_ITEMS), raises=IndexError, exits=["list_item"]),
]


@pytest.mark.parametrize("fn, args, expect", SEQUENCES)
def test_lists_and_tuples(fn, args, expect):
    _run_case(fn, args, expect)


# --- floor division, modulo, integer powers, negation --------------------------------------


def floor_div_mod(n, d):
    total = 0
    for i in range(n):
        total += i // d + i % d - (-i) // d + (-i) % d * 3
        total %= 1000003
        total //= 1
    return total


def divide_by_counter(n):
    total = 0
    for i in range(n):
        total += 10**6 // (i - 4000) + 10**6 % (4000 - i)
    return total


def floor_div_min_int(x):
    last = 0
    for i in range(N):
        d = -1 if i == 4000 else 3
        last = x // d
        if i == 4000:
            break
    return last


def int_powers(n, base):
    total = 0
    for i in range(n):
        total += (i & 7) ** 3 + (i & 1023) ** 2 - i ** 0 + base ** 13 + (i - 2500) ** 5
    return total


def int_power_overflow(n):
    total = 0
    for i in range(n):
        total += (i // 8) ** 9
    return total


def negations(a, n):
    total = 0.0
    count = 0
    for i in range(n):
        total += -a[i] - -(i * 0.5)
        count -= -i
    return total, count


def negate_ints(a):
    total = 0
    for i in range(len(a)):
        total += -a[i]
    return total


def negate_python_int(x):
    last = 0
    for i in range(N):
        last = -(x + i - 4000) if i == 4000 else -i
        if i == 4000:
            break
    return last


def negate_into_float32(a):
    for i in range(len(a)):
        a[i] = -a[i]
    return a


INT_OPS = [
    case(floor_div_mod, N, 7, rtype=int),
    case(floor_div_mod, N, -3, rtype=int, id="floor_div_mod-negative"),
    case(divide_by_counter, N, raises=ZeroDivisionError, exits=["int_divide"]),
    case(floor_div_min_int, -(2**63), rtype=int, exits=["int_divide"]),
    case(int_powers, N, 3, rtype=int),
    case(int_powers, N, -29, rtype=int, id="int_powers-negative-base"),
    case(int_power_overflow, N, rtype=int, exits=["int_overflow"]),
    case(negations, arr(SIGNED, _7=0.0, _8=-0.0), N, rtype=tuple),
    case(negations, lst(SIGNED), N, rtype=tuple, id="negations-list"),
    case(negate_python_int, -(2**63), rtype=int, exits=["int_overflow"]),
    case(negate_ints, INTS.copy(), rtype=np.int64, warns=[]),
    case(negate_ints, np.where(np.arange(N) == AT, -(2**63), INTS), rtype=np.int64, exits=["int_overflow"],
         id="negate_ints-int64-min"),
    case(negate_ints, np.where(np.arange(N) == AT, -(2**31), INTS).astype(np.int32), rtype=np.int32,
         exits=["int_overflow"], id="negate_ints-int32-min"),
    case(negate_into_float32, SIGNED.astype(np.float32), rtype=np.ndarray),
]


@pytest.mark.parametrize("fn, args, expect", INT_OPS)
def test_integer_operators_and_negation(fn, args, expect):
    _run_case(fn, args, expect)


# --- boolean values and chained comparisons ---------------------------------------------------


def boolean_values(a):
    count = 0
    flag = False
    for i in range(len(a)):
        f = a[i] > 0 and a[i] < 5
        g = not (a[i] > 1)
        flag = not flag
        if f or g and flag:
            count += 1
    return count, flag, f, g


def chained_ranges(a, lo, hi):
    count = 0
    for i in range(len(a)):
        if lo < a[i] <= hi:
            count += 1
        if 0 <= i < 2500 != count:
            count += 2
    return count


def int_truth(n):
    count = 0
    for i in range(n):
        odd = not (i & 1)
        if odd or not i % 3:
            count += 1
    return count, odd


BOOLEANS = [
    case(boolean_values, arr(SIGNED), rtype=tuple),
    case(boolean_values, arr(SIGNED, _4000=NAN), rtype=tuple, exits=["nonfinite_value"], id="boolean_values-nan"),
    case(boolean_values, INTS.copy(), rtype=tuple, id="boolean_values-int64"),
    case(chained_ranges, arr(SIGNED), -1.0, 3.0, rtype=int),
    case(chained_ranges, lst(SIGNED), -1, 3, rtype=int, id="chained_ranges-list-int-bounds"),
    case(int_truth, N, rtype=tuple),
]


@pytest.mark.parametrize("fn, args, expect", BOOLEANS)
def test_boolean_logic(fn, args, expect):
    _run_case(fn, args, expect)

# --- exits forced by inputs ---------------------------------------------------------------


def reciprocal_sum(data):
    total = 0.0
    for i in range(len(data)):
        total += 1.0 / data[i]
    return total


def divide_by_shifted_int(n):
    total = 0.0
    for i in range(n):
        total += 1.0 / (i - 4000)
    return total


def int_true_divide_by_zero(n):
    total = 0.0
    for i in range(n):
        total += i / (i - 4000)
    return total


def divide_by_float_counter(n):
    total = 0.0
    x = -4000.0
    for i in range(n):
        total += 2.5 / x
        x += 1.0
    return total


def invalid_mul(data):
    result = 0.0
    for i in range(len(data)):
        result += data[i] * 0.0
    return result


def sum_values(data):
    result = 0.0
    for i in range(len(data)):
        result += data[i]
    return result


def count_above(data):
    count = 0
    for i in range(len(data)):
        if data[i] > 0.5:
            count += 1
    return count


def square_sum(data):
    result = 0.0
    for i in range(len(data)):
        result += data[i] * data[i]
    return result


def index_past_end(data):
    total = 0.0
    for i in range(len(data) + 10):
        total += data[i]
    return total


def index_past_end_2d(a):
    rows, cols = a.shape
    total = 0.0
    for i in range(rows + 1):
        for j in range(cols):
            total += a[i, j]
    return total


def store_past_end(data):
    out = np.zeros(4000 + 10)
    for i in range(len(data)):
        out[i] = data[i] * 2.0
    return out


def negative_indices(data):
    total = 0.0
    for i in range(len(data)):
        total = total * 0.75 + data[i - 2500] - data[-1 - i]
    return total


def negative_index_past_start(data):
    total = 0.0
    for i in range(len(data) + 1):
        total += data[-1 - i]
    return total


def negative_2d(a):
    rows, cols = a.shape
    half = cols // 2
    total = 0.0
    for i in range(rows):
        for j in range(cols):
            total += a[-1 - i, j - half] * j
    return total


def list_store_doubled(data):
    for i in range(len(data)):
        data[i] = data[i] * 2.0
    return data


def overflowing_accumulator(n):
    total = 1
    for i in range(n):
        if i > 4000:
            total = total * 3 + i
    return total


def overflowing_sum(scale):
    total = 0
    for i in range(5000):
        total += i * scale
    return total


def overflowing_product(scale):
    total = 0
    for i in range(5000):
        total = i * scale
    return total


def overflowing_difference(scale):
    total = 0
    for i in range(5000):
        total -= i * scale
    return total


def overflowing_counter(start):
    total = 0
    for i in range(start, start + 5000):
        total = i + 3000
    return total


def big_range(start):
    total = 0
    for i in range(start, start + 5000):
        total += i
    return total


class MyFloat(float):
    pass


EXITS = [
    # A zero divisor: Python floats raise, numpy float64 warns and gives inf (or nan).
    case(reciprocal_sum, lst_at(0.0, base=SIGNED), raises=ZeroDivisionError, exits=["float_special"], id="list-zero"),
    case(reciprocal_sum, lst_at(-0.0, base=SIGNED), raises=ZeroDivisionError, id="list-negative-zero"),
    case(
        reciprocal_sum,
        at(0.0, base=SIGNED),
        rtype=np.float64,
        warns=[warning("divide by zero encountered in scalar divide")],
        exits=["float_special"],
        id="array-zero",
    ),
    case(
        reciprocal_sum,
        at(-0.0, base=SIGNED),
        rtype=np.float64,
        warns=[warning("divide by zero encountered in scalar divide")],
        id="array-negative-zero",
    ),
    case(divide_by_shifted_int, N, raises=ZeroDivisionError, exits=["float_special"]),
    case(int_true_divide_by_zero, N, raises=ZeroDivisionError, exits=["int_true_divide"]),
    case(divide_by_float_counter, N, raises=ZeroDivisionError),
    # NaN and infinity in the data: numpy's warnings (or none) must match.
    case(numerical_loop, at(NAN), rtype=np.float64, warns=[], exits=["nonfinite_value"], id="numerical-nan"),
    case(numerical_loop, at(INF), rtype=np.float64, warns=[], id="numerical-inf"),
    case(
        sum_values,
        arr(UNIT, _4000=INF, _4500=-INF),
        rtype=np.float64,
        warns=[warning("invalid value encountered in scalar add")],
        id="inf-minus-inf",
    ),
    case(invalid_mul, at(INF), rtype=np.float64, warns=[warning("invalid value encountered in scalar multiply")]),
    case(invalid_mul, at(-INF), rtype=np.float64, id="invalid_mul-negative"),
    case(count_above, arr(UNIT, _3000=NAN, _4000=INF, _4001=-INF), rtype=int, warns=[], exits=["nonfinite_value"]),
    case(count_above, lst_at(NAN), rtype=int, warns=[], exits=["nonfinite_value"], id="count_above-list"),
    case(list_loop, lst_at(NAN), rtype=float, exits=["nonfinite_value"], id="list-nan"),
    case(list_loop, lst_at(INF), rtype=float, id="list-inf"),
    case(list_loop, lst_at(-INF), rtype=float, id="list-minus-inf"),
    # Results that overflow: numpy warns, Python float ** raises, Python float * gives inf.
    case(
        numerical_loop,
        at(1e200),
        rtype=np.float64,
        warns=[warning("overflow encountered in scalar power")],
        exits=["float_special"],
        id="numerical-overflow",
    ),
    case(square_sum, at(1e200), rtype=np.float64, warns=[warning("overflow encountered in scalar multiply")]),
    case(square_sum, at(1.5e154), rtype=np.float64, id="square_sum-barely"),
    case(
        square_sum,
        arr(UNIT * 3.8e152),
        rtype=np.float64,
        warns=[warning("overflow encountered in scalar add")],
        id="square_sum-sum-overflows",
    ),
    case(list_loop, lst_at(1e200), raises=OverflowError, exits=["float_special"], id="list-overflow"),
    case(square_sum, lst_at(1e200), rtype=float, id="square_sum-list"),
    # Indices out of range mid-loop, and negative ones.
    case(index_past_end, arr(), raises=IndexError, exits=["array_index"]),
    case(index_past_end, lst(), raises=IndexError, exits=["list_item"], id="index_past_end-list"),
    case(index_past_end_2d, MATRIX.copy(), raises=IndexError, exits=["array_index"]),
    case(store_past_end, arr(), raises=IndexError, exits=["array_index"]),
    case(negative_indices, arr(SIGNED), rtype=np.float64),
    case(negative_indices, lst(SIGNED), rtype=float, id="negative_indices-list"),
    case(negative_index_past_start, arr(), raises=IndexError),
    case(negative_index_past_start, lst(), raises=IndexError, id="negative_index_past_start-list"),
    case(negative_2d, MATRIX.copy(), rtype=np.float64),
    # A list whose element at AT is not a float.
    case(list_loop, lst_at("x"), raises=TypeError, exits=["list_item"], id="list-str"),
    case(list_loop, lst_at(7), rtype=float, exits=["list_item"], id="list-int"),
    case(list_loop, lst_at(2**80), rtype=float, id="list-big-int"),
    case(list_loop, lst_at(10**400), raises=OverflowError, id="list-huge-int"),
    case(list_loop, lst_at(True), rtype=float, id="list-bool"),
    case(list_loop, lst_at(np.float64(0.25)), rtype=np.float64, id="list-numpy-float64"),
    case(list_loop, lst_at(MyFloat(0.25)), rtype=float, id="list-float-subclass"),
    case(list_loop, lst_at(1 + 2j), rtype=complex, id="list-complex"),
    case(list_loop, lst_at(None), raises=TypeError, id="list-none"),
    case(reciprocal_sum, lst_at(0, base=SIGNED), raises=ZeroDivisionError, id="list-int-zero"),
    case(list_store_doubled, lst(SIGNED), rtype=list, tier2=None),
    # Ints that outgrow 64 bits mid-loop.
    case(overflowing_accumulator, N, rtype=int, exits=["int_overflow"]),
    case(overflowing_sum, 2**40, rtype=int, exits=["int_overflow"]),
    case(overflowing_sum, -(2**40), rtype=int, id="overflowing_sum-negative"),
    case(overflowing_product, 2**51, rtype=int, exits=["int_overflow"]),
    case(overflowing_difference, 2**40, rtype=int),
    case(overflowing_counter, 2**63 - 6000, rtype=int, exits=["int_overflow"]),
    case(overflowing_counter, -(2**63) + 10, rtype=int, id="overflowing_counter-low"),
    case(big_range, 2**64, rtype=int, tier2=None),
    case(big_range, 2**63 - N, rtype=int, tier2=None, id="big_range-to-int64-max"),
]


@pytest.mark.parametrize("fn, args, expect", EXITS)
def test_exits(fn, args, expect):
    _run_case(fn, args, expect)


# --- globals: shadowed builtins and rebinding ---------------------------------------------

GLOBAL_SOURCE = """
def uses_len(data):
    total = 0.0
    for i in range(5000):
        total += data[i] * len(data)
    return total

def uses_range(data):
    total = 0.0
    for i in range(len(data)):
        for j in range(2):
            total += data[i] * j
    return total

def choose_len(data, which):
    global len
    len = LENS[which]
    total = 0.0
    for i in range(5000):
        total += data[i] * len(data)
    return total

def rebinds_mid_loop(data):
    global len
    len = LENS[0]
    total = 0.0
    for i in range(5000):
        total += data[i] * len(data)
        if i == 4000:
            len = LENS[1]
    return total

def reads_scale(data):
    global SCALE
    total = 0.0
    for i in range(5000):
        total += data[i] * SCALE
        if i == 4000:
            SCALE = 2.5
    SCALE = 1.5
    return total
"""


def _namespace(**names):
    namespace = {"N": N, "AT": AT, "__name__": __name__, "SCALE": 1.5, **names}
    exec(compile(GLOBAL_SOURCE, __file__ + ":GLOBAL_SOURCE", "exec"), namespace)
    return namespace


def _fake_len(obj):
    return 3


def _fake_range(*args):
    return [0, 1]


def test_len_shadowed_by_module_global():
    ns = _namespace(len=_fake_len)
    run(ns["uses_len"], arr(), rtype=np.float64, tier2=None)
    run(ns["uses_range"], arr(), rtype=np.float64, tier2=None)


def test_range_shadowed_by_module_global():
    ns = _namespace(range=_fake_range)
    run(ns["uses_len"], arr(UNIT[:2]), rtype=np.float64, tier2=None)
    run(ns["uses_range"], arr(), rtype=np.float64, tier2=None)


def test_builtins_unshadowed_reach_tier2():
    ns = _namespace()
    run(ns["uses_len"], arr(), rtype=np.float64)
    run(ns["uses_range"], arr(), rtype=np.float64)


def test_global_len_rebound_between_calls():
    ns = _namespace(LENS=[len, _fake_len])
    # Builtin len first (tier 2 compiles the loop under that assumption), then the fake: the
    # second call must see the fake, and the third the builtin again.
    results = check_calls(ns["choose_len"], [((arr(), 0), {}), ((arr(), 1), {}), ((arr(), 0), {})])
    first, second, third = (r.result for r in results)
    assert first == third and first != second
    assert results[0].jit_stats.get("tier2_entries", 0) > 0


def test_global_len_rebound_mid_loop():
    ns = _namespace(LENS=[len, _fake_len])
    run(ns["rebinds_mid_loop"], arr(), rtype=np.float64)


def test_global_read_and_rebound_in_loop():
    ns = _namespace()
    run(ns["reads_scale"], arr(), rtype=np.float64, tier2=None)
    assert ns["SCALE"] == 1.5


# --- result types: Python float versus numpy.float64 --------------------------------------


def accumulate(acc, data):
    for i in range(len(data)):
        acc += data[i] * 0.5
    return acc


def mixed_list_array(xs, a):
    result = 0.0
    for i in range(len(a)):
        result += xs[i] * a[i]
    return result


def list_plus_array_later(xs, a):
    # Python floats until 4000, then a numpy float64 joins: the type changes mid-loop.
    result = 0.0
    for i in range(len(xs)):
        result += xs[i]
        if i >= 4000:
            result += a[i]
    return result


def first_element_kept(a):
    best = a[0]
    for i in range(len(a)):
        if a[i] > best:
            best = a[i]
    return best


def numpy_compare_result(a):
    flag = False
    hits = 0
    for i in range(len(a)):
        flag = a[i] > 0.5
        if flag:
            hits += 1
    return flag, hits


def python_compare_result(xs):
    flag = False
    for i in range(len(xs)):
        flag = xs[i] > 0.5
    return flag


def returns_element_and_product(a, xs):
    last = 0.0
    prod = 1.0
    for i in range(len(a)):
        last = a[i]
        prod = prod * 0.999 + xs[i]
    return last, prod


RESULT_TYPES = [
    case(accumulate, 0.0, lst(), rtype=float, id="float-acc-list"),
    case(accumulate, 0.0, arr(), rtype=np.float64, id="float-acc-array"),
    case(accumulate, 0, lst(), rtype=float, id="int-acc-list"),
    case(accumulate, 0, arr(), rtype=np.float64, id="int-acc-array"),
    case(accumulate, np.float64(0.0), lst(), rtype=np.float64, id="numpy-acc-list"),
    case(accumulate, np.float64(0.0), arr(), rtype=np.float64, id="numpy-acc-array"),
    case(accumulate, np.float32(0.0), arr(), rtype=np.float64, tier2=None, id="float32-acc-array"),
    case(accumulate, np.float32(0.0), lst(), rtype=np.float32, tier2=None, id="float32-acc-list"),
    case(accumulate, 2**70, lst(), rtype=float, id="big-int-acc-list"),
    case(accumulate, True, lst(), rtype=float, tier2=None, id="bool-acc-list"),
    case(mixed_list_array, lst(SIGNED), arr(), rtype=np.float64),
    case(list_plus_array_later, lst(SIGNED), arr(), rtype=np.float64),
    case(first_element_kept, arr(SIGNED), rtype=np.float64),
    case(numpy_compare_result, arr(), rtype=tuple),
    case(python_compare_result, lst(), rtype=bool),
    case(returns_element_and_product, arr(SIGNED), lst(), rtype=tuple),
]


@pytest.mark.parametrize("fn, args, expect", RESULT_TYPES)
def test_result_types(fn, args, expect):
    _run_case(fn, args, expect)


def test_result_types_are_what_the_interpreter_gives():
    # The corpus above claims these types; make sure they are the interpreter's, not ours.
    assert type(accumulate(0.0, lst())) is float
    assert type(accumulate(0.0, arr())) is np.float64
    assert type(numpy_compare_result(arr())[0]) is np.bool_


# --- int and float mixing -----------------------------------------------------------------


def int_times_half(n):
    total = 0.0
    for i in range(n):
        total += i * 0.5
    return total


def int_div_three(start):
    total = 0.0
    for i in range(start, start + 5000):
        total += i / 3
    return total


def int_div_float(start):
    total = 0.0
    for i in range(start, start + 5000):
        total = total * 0.5 + i / 3.0
    return total


def float_times_big_int(start):
    total = 0.0
    for i in range(start, start + 5000):
        total = i * 0.1 - total
    return total


def int_vs_float_compare(start, x):
    below = 0
    equal = 0
    for i in range(start, start + 5000):
        if i < x:
            below += 1
        if i == x:
            equal += 1
    return below, equal


def float_vs_int_compare(start, x):
    above = 0
    for i in range(start, start + 5000):
        if x > i:
            above += 1
    return above


def int_and_float_sum(data):
    count = 0
    total = 0
    for i in range(len(data)):
        count += 1
        total += data[i] + count
    return total, count


def numpy_plus_big_int(a, big):
    total = 0.0
    for i in range(len(a)):
        total += a[i] + big + i
    return total


MIXING = [
    case(int_times_half, N, rtype=float),
    case(int_div_three, 0, rtype=float, id="int_div_three-small"),
    case(int_div_three, -N, rtype=float, id="int_div_three-negative"),
    case(int_div_three, 2**53 - 2500, rtype=float, exits=["int_true_divide"], id="int_div_three-2**53"),
    case(int_div_three, 2**60, rtype=float, id="int_div_three-2**60"),
    case(int_div_float, 2**60 + 1, rtype=float),
    case(float_times_big_int, 2**60 + 1, rtype=float),
    case(float_times_big_int, -(2**62) - 7, rtype=float, id="float_times_big_int-negative"),
    case(int_vs_float_compare, 2**53 - 2500, float(2**53), rtype=tuple, exits=["int_float_compare"]),
    case(int_vs_float_compare, 2**60 - 2500, float(2**60), rtype=tuple, id="int_vs_float_compare-2**60"),
    case(int_vs_float_compare, -(2**53) - 2500, -float(2**53), rtype=tuple, id="int_vs_float_compare-negative"),
    case(float_vs_int_compare, 2**53 - 2500, float(2**53), rtype=int),
    case(float_vs_int_compare, 2**53 - 2500, np.float64(2**53), rtype=int, id="float_vs_int_compare-numpy"),
    case(int_vs_float_compare, 2**53 - 2500, np.float64(2**53), rtype=tuple, id="int_vs_float_compare-numpy"),
    case(int_and_float_sum, lst(), rtype=tuple),
    case(int_and_float_sum, arr(), rtype=tuple, id="int_and_float_sum-array"),
    case(numpy_plus_big_int, arr(), 2**60 + 1, rtype=np.float64),
]


@pytest.mark.parametrize("fn, args, expect", MIXING)
def test_int_float_mixing(fn, args, expect):
    _run_case(fn, args, expect)


# --- control flow: comparisons, if/else, while, ranges ------------------------------------


def branches(data):
    pos = 0.0
    neg = 0.0
    small = 0
    for i in range(len(data)):
        x = data[i]
        if x > 0.0:
            pos += x
        elif x < -5.0:
            neg -= x * 2.0
        else:
            neg += x
        if x <= 0.001 and x >= -0.001:
            small += 1
        if x == 0.0 or x != x:
            small += 100
    return pos, neg, small


def chained_compare(data):
    inside = 0
    for i in range(len(data)):
        if 0.25 < data[i] <= 0.75:
            inside += 1
    return inside


def int_branches(n):
    evens = 0
    total = 0
    for i in range(n):
        if i * 2 > n:
            total += i
        else:
            total -= i
        if i >= 2500 and i < 2600:
            evens += 1
    return total, evens


def while_sum(data):
    i = 0
    total = 0.0
    while i < len(data):
        total += data[i] * data[i]
        i += 1
    return total, i


def while_float_counter(step):
    x = 0.0
    count = 0
    while x < 1000.0:
        x += step
        count += 1
    return x, count


def while_break(data):
    i = 0
    total = 0.0
    while True:
        if data[i] > 1.5:
            break
        total += data[i]
        i += 1
    return total, i


def loop_with_continue(data):
    total = 0.0
    for i in range(len(data)):
        if data[i] < 0.5:
            continue
        total += data[i]
    return total


def range_two_args(start, stop):
    total = 0
    for i in range(start, stop):
        total += i * 3 - 1
    return total


def range_step(start, stop, step):
    count = 0
    acc = 0.0
    for i in range(start, stop, step):
        count += 1
        acc = acc * 0.5 + i
    return count, acc, i


def copy_of_counter(n):
    # One local copied into another (tier 2 may exit here; the result must not change).
    last = None
    for i in range(n):
        last = i
    return last


def nested_ranges(n):
    # Inner ranges that are empty for the first outer iterations, then grow.
    total = 0.0
    for i in range(n):
        for j in range(400, i, 50):
            total += j * 0.5 - i
        for k in range(0):
            total += 1.0
    return total


def nested_triangle(n):
    total = 0
    for i in range(n):
        for j in range(i):
            total += j
    return total


def loop_variable_after_loop(data):
    i = -1
    for i in range(len(data)):
        pass
    for j in range(len(data), 0, -1):
        pass
    return i, j


def early_return(data):
    for i in range(len(data)):
        if data[i] > 10.5:
            return i, data[i]
    return -1, None


CONTROL = [
    case(branches, arr(SIGNED, _4000=0.0, _4001=0.0005), rtype=tuple),
    case(branches, lst(SIGNED), rtype=tuple, id="branches-list"),
    case(chained_compare, arr(), rtype=int, tier2=None),
    case(int_branches, N, rtype=tuple),
    case(loop_with_continue, arr(), rtype=np.float64),
    case(range_two_args, -2500, 2500, rtype=int),
    case(range_step, 0, 7 * N, 7, rtype=tuple),
    case(range_step, 3 * N, -3 * N, -3, rtype=tuple, id="range_step-negative"),
    case(range_step, 10, 10 + N, 1, rtype=tuple, id="range_step-one"),
    case(range_step, 0, 2**62, 2**62 // N, rtype=tuple, id="range_step-huge"),
    case(range_step, 2**63 - 1, 2**63 - 1 - 2 * N, -2, rtype=tuple, id="range_step-from-int64-max"),
    case(copy_of_counter, N, rtype=int, tier2=None),
    case(nested_ranges, 1500, rtype=float),
    case(nested_triangle, 120, rtype=int),
    case(loop_variable_after_loop, arr(), rtype=tuple),
    case(early_return, at(11.0, base=SIGNED), rtype=tuple),
]


@pytest.mark.parametrize("fn, args, expect", CONTROL)
def test_control_flow(fn, args, expect):
    _run_case(fn, args, expect)


WHILE = [
    case(while_sum, arr(), rtype=tuple),
    case(while_sum, lst(), rtype=tuple, id="while_sum-list"),
    case(while_float_counter, 0.1, rtype=tuple),
    case(while_float_counter, 0.125, rtype=tuple, id="while_float_counter-exact"),
    case(while_break, at(2.0), rtype=tuple),
]


@pytest.mark.parametrize("fn, args, expect", WHILE)
def test_while_loops(fn, args, expect):
    # On 3.11 a while loop closes with POP_JUMP_BACKWARD_IF_TRUE (3.12: JUMP_BACKWARD): both
    # must be offered to tier 2.
    _run_case(fn, args, expect)


def test_range_step_zero():
    # A zero step raises ValueError before the loop: exact, and nothing for tier 2.
    run(range_step, 0, 10, 0, raises=ValueError, tier2=None)


def stepped_from_argument(data, last):
    total = 0.0
    for k in range(3000):
        for i in range(0, len(data), last - k):
            total += data[i]
    return total


def test_range_step_zero_from_a_variable():
    # The step becomes zero inside tier 2: range() must raise ValueError as CPython does.
    run(stepped_from_argument, arr(UNIT[:10]), 2999, raises=ValueError, exits=["range_step_zero"])


# --- exits that tier 1 continues from: iterators, stack contents, frames -------------------


def nested_list_with_ints(xs, rows, cols):
    # Ints here and there in a flattened list of floats: each one exits tier 2 inside the
    # inner loop (whose range iterator tier 2 created) and tier 1 carries on from there.
    total = 0.0
    count = 0
    for i in range(rows):
        for j in range(cols - 1, -1, -1):
            total = total * 0.5 + xs[i * cols + j]
            count += 1
    return total, count, i, j


def nested_array_with_nans(a, nan_rows):
    # NaNs in some rows: the row's sum is NaN, the others must be exact.
    rows, cols = a.shape
    sums = np.zeros(rows)
    for i in range(rows):
        s = 0.0
        for j in range(cols):
            s += a[i, j]
        sums[i] = s
    return sums


def inner_break(xs):
    total = 0.0
    hits = 0
    for i in range(100):
        for j in range(len(xs)):
            if xs[j] > 0.97:
                hits += j
                break
            total += xs[j]
    return total, hits


def loop_else(data, limit):
    total = 0.0
    for i in range(len(data)):
        if data[i] > limit:
            break
        total += data[i]
    else:
        total = -total
    return total


def inner_return(data):
    for k in range(10):
        for i in range(len(data)):
            if data[i] > 0.5 and i > 4000:
                return k, i, data[i]
    return None


def range_from_argument(r):
    total = 0.0
    for i in r:
        total += i * 0.5
    return total


def range_from_list_item(counts):
    # range(counts[i]) where counts holds ints: the builtin and a NULL sit on the stack when
    # the int item makes tier 2 exit.
    total = 0
    for i in range(len(counts)):
        for j in range(counts[i]):
            total += j
    return total


def huge_inner_range(n):
    # range() tier 2 cannot count (more than 2**63 - 1 values): it exits at GET_ITER with
    # the range only in registers, and tier 1 iterates it.
    total = 0
    for k in range(n):
        for i in range(-(2**62), 2**62):
            total += 1
            if i > -(2**62) + 3:
                break
    return total


def big_constant_in_loop(data):
    total = 0.0
    for i in range(len(data)):
        total += data[i] * 10**30
    return total


def maybe_unbound(data):
    total = 0.0
    for i in range(len(data)):
        if data[i] > 2.0:
            y = data[i]
        if i == 4000:
            total += y
    return total


def handled_zero_division(xs):
    total = 0.0
    errors = 0
    for i in range(len(xs)):
        try:
            total += 1.0 / xs[i]
        except ZeroDivisionError:
            errors += 1
            total = -total
    return total, errors


def handled_index_error(a):
    total = 0.0
    misses = 0
    for i in range(len(a) * 2):
        try:
            total += a[i - 2500]
        except IndexError:
            misses += 1
    return total, misses


def truthiness(data):
    count = 0
    for i in range(len(data)):
        if data[i]:
            count += 1
        if i:
            count += 2
    return count


def iterate_directly(data):
    total = 0.0
    for x in data:
        total += x * x
    return total


def iterate_enumerate(data):
    total = 0.0
    for i, x in enumerate(data):
        total += x * i
    return total


def augmented_item(a):
    for i in range(len(a)):
        a[i] += i * 0.5
    return a


def prefix_sums(a):
    # Each element read right after the previous iteration wrote it.
    for i in range(1, len(a)):
        a[i] = a[i - 1] + a[i]
    return a


def aliased_views(a):
    b = a[::-1]
    for i in range(len(a)):
        a[i] = b[i] * 0.5 + a[i]
    return a


def reshape_mid_loop(a):
    total = 0.0
    for i in range(len(a)):
        if i == 3000:
            a.shape = (2, len(a) // 2)
        total += a[i]
    return total


def resize_mid_loop(a):
    total = 0.0
    for i in range(len(a) + 1000):
        if i == 3000:
            a.resize(len(a) + 1000, refcheck=False)
        total += a[i]
    return total


def freeze_mid_loop(a):
    for i in range(len(a)):
        if i == 4000:
            a.setflags(write=False)
        a[i] = i * 0.5
    return a


def float_index(a):
    total = 0.0
    for i in range(len(a)):
        total += a[i]
        if i == 4000:
            total += a[i * 1.0]
    return total


def library_calls(data):
    total = 0.0
    for i in range(len(data)):
        total += abs(data[i]) + min(data[i], 0.5) + max(i, 2.5)
    return total


def errstate_raise(a):
    with np.errstate(divide="raise"):
        total = 0.0
        for i in range(len(a)):
            total += 1.0 / a[i]
    return total


def errstate_ignore(a):
    with np.errstate(all="ignore"):
        total = 0.0
        for i in range(len(a)):
            total += 1.0 / a[i] + a[i] ** 2
    return total


def errstate_under(a):
    with np.errstate(under="raise"):
        total = 0.0
        for i in range(len(a)):
            total += a[i] * 1e-300
    return total


def errstate_set_to_default(a):
    # numpy's default modes, set explicitly: a new error-state object, the default behaviour.
    with np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"):
        total = 0.0
        for i in range(len(a)):
            total += 1.0 / a[i]
    return total


def errstate_changed_mid_loop(a):
    total = 0.0
    old = np.geterr()
    try:
        for i in range(len(a)):
            if i == 3000:
                np.seterr(divide="raise")
            total += 1.0 / a[i]
    finally:
        np.seterr(**old)
    return total


def warnings_as_errors(a):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = 0.0
        for i in range(len(a)):
            total += a[i] * a[i]
    return total


def array_divided_by_shifted_int(a):
    total = 0.0
    for i in range(len(a)):
        total += a[i] / (i - 4000)
    return total


def int_over_array(a):
    total = 0.0
    for i in range(len(a)):
        total += 1 / a[i]
    return total


def triple_nested(a, b, c):
    total = 0.0
    for i in range(len(a)):
        for j in range(len(b)):
            for k in range(len(c)):
                total += a[i] * b[j] - c[k]
    return total


def underflowing_counter(start):
    total = 0
    for i in range(start, start - 5000, -1):
        total = i - 3000
    return total


def negate_min_int(x):
    total = 0
    for i in range(5000):
        if i == 4000:
            total = x * -1
    return total


FLOWS = [
    case(nested_list_with_ints, lst_at(3, 1234, lst_at(-2, 3001, lst_at(7, 4999))), 50, 100, rtype=tuple, exits=["list_item"]),
    case(nested_array_with_nans, arr(MATRIX, _2400=NAN, _4810=INF), [20, 40], rtype=np.ndarray, exits=["float_special"]),
    case(inner_break, lst(UNIT[:60]), rtype=tuple),
    case(loop_else, arr(), 2.0, rtype=np.float64, id="loop_else-no-break"),
    case(loop_else, at(3.0), 2.0, rtype=np.float64, id="loop_else-break"),
    case(inner_return, arr(), rtype=tuple),
    case(range_from_argument, range(3, 7 * N, 7), rtype=float),
    case(range_from_argument, range(N, -N, -2), rtype=float, id="range_from_argument-negative"),
    case(range_from_list_item, [3] * 1000 + [2.5] + [3] * 500, raises=TypeError, tier2=None),
    case(huge_inner_range, 1200, rtype=int, tier2=None),
    case(big_constant_in_loop, arr(), rtype=np.float64, tier2=None),
    case(big_constant_in_loop, lst(), rtype=float, tier2=None, id="big_constant_in_loop-list"),
    case(maybe_unbound, arr(), raises=UnboundLocalError),
    case(handled_zero_division, lst_at(0.0, 3000, lst_at(0.0, 4500, base=SIGNED)), rtype=tuple, exits=["float_special"]),
    case(handled_index_error, arr(), rtype=tuple),
    case(truthiness, arr(UNIT, _3000=0.0, _4000=-0.0, _4001=5e-324), rtype=int),
    case(truthiness, lst_at(-0.0, 4000, lst_at(0.0, 3000)), rtype=int, id="truthiness-list"),
    case(iterate_directly, arr(), rtype=np.float64),
    case(iterate_directly, lst(), rtype=float, id="iterate_directly-list"),
    case(iterate_enumerate, arr(), rtype=np.float64, tier2=None),
    case(augmented_item, arr(SIGNED), rtype=np.ndarray, tier2=None),
    case(prefix_sums, arr(SIGNED), rtype=np.ndarray),
    case(aliased_views, arr(SIGNED), rtype=np.ndarray),
    case(reshape_mid_loop, arr(), raises=IndexError),
    case(resize_mid_loop, arr(), rtype=np.float64),
    case(freeze_mid_loop, arr(), raises=ValueError),
    case(float_index, arr(), raises=IndexError),
    case(library_calls, arr(SIGNED), rtype=np.float64, tier2=None),
    case(library_calls, lst(SIGNED), rtype=float, tier2=None, id="library_calls-list"),
    case(errstate_raise, at(0.0), raises=FloatingPointError, tier2=None),
    case(errstate_ignore, at(0.0, base=SIGNED), rtype=np.float64, warns=[], tier2=False),
    case(
        errstate_set_to_default,
        at(0.0),
        rtype=np.float64,
        warns=[warning("divide by zero encountered in scalar divide")],
    ),
    case(errstate_under, arr(UNIT * 1e-10), raises=FloatingPointError, tier2=None),
    case(errstate_changed_mid_loop, at(0.0), raises=FloatingPointError),
    case(warnings_as_errors, at(1e200), raises=RuntimeWarning, tier2=None),
    case(
        array_divided_by_shifted_int,
        arr(SIGNED),
        rtype=np.float64,
        warns=[warning("divide by zero encountered in scalar divide")],
        exits=["float_special"],
    ),
    case(int_over_array, at(0.0), rtype=np.float64, warns=[warning("divide by zero encountered in scalar divide")]),
    case(triple_nested, arr(UNIT[:10]), arr(SIGNED[:20]), arr(UNIT[:30]), rtype=np.float64),
    case(underflowing_counter, -(2**63) + 6000, rtype=int, exits=["int_overflow"]),
    case(negate_min_int, -(2**63), rtype=int, exits=["int_overflow"]),
]


@pytest.mark.parametrize("fn, args, expect", FLOWS)
def test_exit_and_continue(fn, args, expect):
    _run_case(fn, args, expect)


# --- iterating directly over arrays, lists and tuples (`for x in data`) -------------------


def sum_of_squares(data):
    total = 0.0
    for x in data:
        total += x * x
    return total


def iterate_views(a):
    # Views with other strides: every other element, reversed.
    total = 0.0
    for x in a[::2]:
        total = total * 0.5 + x
    for x in a[::-1]:
        total = total * 0.5 - x
    return total


def iterate_ints(data):
    total = 0
    for x in data:
        total += x * 3 - 1
    return total


def iterate_and_break(data, stop):
    # The iterator lives on after the loop: the rest of it must start where the loop left.
    it = iter(data)
    total = 0.0
    for x in it:
        if x > stop:
            break
        total += x
    return total, list(it)[:3], len(list(it))


def iterate_nested_rows(rows):
    totals = []
    for row in rows:
        s = 0.0
        for x in row:
            s += x
        totals.append(s)
    return totals


def iterate_fresh_list(n):
    # The iterator holds the only reference to its list: the loop's end frees it.
    total = 0.0
    for x in [i * 0.5 for i in range(n)]:
        total += x
    return total


def iterate_empty_then_full(a):
    total = 0.0
    for x in a[:0]:
        total += x
    for x in a:
        total += x
    return total


def iterate_divide(data):
    total = 0.0
    for x in data:
        total += 1.0 / x
    return total


def iterate_compare(data):
    count = 0
    for x in data:
        if x > 0.5:
            count += 1
    return count


def iterate_with_index(data):
    total = 0.0
    i = 0
    for x in data:
        total += x * i
        i += 1
    return total, i


ITERATION = [
    case(sum_of_squares, arr(SIGNED), rtype=np.float64),
    case(sum_of_squares, lst(SIGNED), rtype=float, id="sum_of_squares-list"),
    case(sum_of_squares, tuple(lst(SIGNED)), rtype=float, id="sum_of_squares-tuple"),
    case(sum_of_squares, SIGNED.astype(np.float32), rtype=np.float32, tier2=None, id="sum_of_squares-float32"),
    case(iterate_ints, INTS.copy(), rtype=np.int64, id="iterate_ints-int64"),
    case(iterate_ints, INTS.astype(np.int32), rtype=np.int32, tier2=None, id="iterate_ints-int32"),
    case(iterate_ints, [int(v) for v in INTS], rtype=int, id="iterate_ints-list"),
    case(iterate_ints, tuple(int(v) for v in INTS), rtype=int, id="iterate_ints-tuple"),
    case(iterate_ints, [int(v) for v in INTS[:AT]] + [2**70] + [1] * 999, rtype=int, exits=["list_item"], id="iterate_ints-big"),
    case(iterate_ints, [int(v) for v in INTS[:AT]] + [2.5] + [1] * 999, rtype=float, exits=["list_item"], id="iterate_ints-float"),
    case(sum_of_squares, lst_at(NAN), rtype=float, exits=["list_item"], id="sum_of_squares-list-nan"),
    case(sum_of_squares, lst_at(7), rtype=float, exits=["list_item"], id="sum_of_squares-list-int"),
    case(sum_of_squares, lst_at("x"), raises=TypeError, exits=["list_item"], id="sum_of_squares-list-str"),
    case(sum_of_squares, arr(SIGNED, _4000=NAN), rtype=np.float64, exits=["nonfinite_value"], id="sum_of_squares-nan"),
    case(sum_of_squares, arr(SIGNED, _4000=1e200), rtype=np.float64, warns=[warning("overflow encountered in scalar multiply")],
         exits=["float_special"], id="sum_of_squares-overflow"),
    case(iterate_views, arr(SIGNED), rtype=np.float64),
    case(iterate_and_break, arr(UNIT), 0.9999, rtype=tuple),
    case(iterate_and_break, lst(UNIT), 0.9999, rtype=tuple, id="iterate_and_break-list"),
    case(iterate_nested_rows, [lst(UNIT[i * 500:(i + 1) * 500]) for i in range(10)], rtype=list, tier2=None),
    case(iterate_nested_rows, MATRIX.copy(), rtype=list, tier2=None, id="iterate_nested_rows-2d"),
    case(iterate_fresh_list, N, rtype=float),
    case(iterate_empty_then_full, arr(SIGNED), rtype=np.float64),
    case(iterate_divide, at(0.0, base=SIGNED), rtype=np.float64, warns=[warning("divide by zero encountered in scalar divide")]),
    case(iterate_divide, lst_at(0.0, base=lst(SIGNED)), raises=ZeroDivisionError, id="iterate_divide-list"),
    case(iterate_compare, arr(UNIT), rtype=int),
    case(iterate_compare, lst(UNIT), rtype=int, id="iterate_compare-list"),
    case(iterate_with_index, arr(SIGNED), rtype=tuple),
]


@pytest.mark.parametrize("fn, args, expect", ITERATION)
def test_direct_iteration(fn, args, expect):
    run(fn, *args, **expect)


def test_direct_iteration_exits_at_end_when_it_would_free_the_sequence():
    # The loop's end hands over to the interpreter (an exit) when the iterator holds the
    # last reference to its list; with another holder the loop ends inside tier 2.
    def fresh(n):
        total = 0.0
        for x in [i * 0.5 for i in range(n)]:
            total += x
        return total

    def held(data):
        total = 0.0
        for x in data:
            total += x
        return total

    data = lst(UNIT)
    before = dict(autojit.stats().get("exits", {}))
    assert check(held, data).exception is None
    after_held = dict(autojit.stats().get("exits", {}))
    assert check(fresh, N).exception is None
    after_fresh = dict(autojit.stats().get("exits", {}))
    assert after_fresh.get("loop_exit", 0) > after_held.get("loop_exit", 0) >= before.get("loop_exit", 0)


def test_eval_breaker_with_another_thread():
    # Another thread wants the GIL all the time: tier-2 loops exit at their back-edges for the
    # eval breaker, let it run, and come back; results stay exact.
    import threading

    stop = threading.Event()

    def spin():
        x = 0
        while not stop.is_set():
            x += 1

    old = sys.getswitchinterval()
    thread = threading.Thread(target=spin, daemon=True)
    sys.setswitchinterval(1e-6)
    thread.start()
    try:
        data = arr(np.tile(SIGNED, 20))
        run(numerical_loop, data, rtype=np.float64)
        run(list_loop, lst(data), rtype=float)
        run(nested_list_with_ints, lst_at(3, 1234, base=np.tile(SIGNED, 4)), 200, 100, rtype=tuple)
        run(while_sum, data, rtype=tuple)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)


# --- tracing, profiling, monitoring and signals arriving mid-loop -------------------------


def traced_mid_loop(data):
    import sys

    events = []

    def tracer(frame, event, arg):
        events.append((event, frame.f_code.co_name, frame.f_lineno - frame.f_code.co_firstlineno))
        return tracer

    total = 0.0
    for i in range(len(data)):
        if i == 3000:
            sys._getframe().f_trace = tracer
            sys.settrace(tracer)
        if i == 3010:
            sys.settrace(None)
            sys._getframe().f_trace = None
        total += data[i]
    return total, events


def profiled_mid_loop(data):
    import sys

    events = []

    def profiler(frame, event, arg):
        events.append((event, getattr(arg, "__name__", None)))

    total = 0.0
    for i in range(len(data)):
        if i == 3000:
            sys.setprofile(profiler)
        if i == 3010:
            sys.setprofile(None)
        total += data[i] * len(data)
    return total, events


def globally_traced_mid_loop(data):
    # A global trace function alone gives the running frame no line events.
    import sys

    events = []

    def tracer(frame, event, arg):
        events.append((event, frame.f_code.co_name))
        return tracer

    total = 0.0
    for i in range(len(data)):
        if i == 3000:
            sys.settrace(tracer)
        if i == 3010:
            sys.settrace(None)
        total += data[i]
    return total, events


def monitored_mid_loop(data, local):
    import sys

    mon = sys.monitoring
    events = []

    def on_line(code, line):
        events.append(line - code.co_firstlineno)

    def on_call(code, offset, callable, arg0):
        events.append(("call", getattr(callable, "__name__", "?")))

    total = 0.0
    for i in range(len(data)):
        if i == 3000:
            mon.use_tool_id(3, "autojit-test")
            mon.register_callback(3, mon.events.LINE, on_line)
            mon.register_callback(3, mon.events.CALL, on_call)
            if local:
                mon.set_local_events(3, sys._getframe().f_code, mon.events.LINE | mon.events.CALL)
            else:
                mon.set_events(3, mon.events.LINE | mon.events.CALL)
        if i == 3010:
            if local:
                mon.set_local_events(3, sys._getframe().f_code, 0)
            else:
                mon.set_events(3, 0)
            mon.free_tool_id(3)
        total += data[i] * len(data)
    return total, events


@pytest.mark.parametrize("data", [pytest.param(arr(), id="array"), pytest.param(lst(), id="list")])
@pytest.mark.parametrize("fn", [traced_mid_loop, profiled_mid_loop, globally_traced_mid_loop])
def test_tracing_starts_mid_loop(fn, data):
    # Tracing or profiling switched on inside a tier-2 loop: tier 2 must not be re-entered
    # while it is on (the events, line by line and call by call, are the interpreter's).
    run(fn, data, rtype=tuple)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is new in 3.12")
@pytest.mark.parametrize("local", [False, True], ids=["global-events", "local-events"])
def test_monitoring_starts_mid_loop(local):
    run(monitored_mid_loop, arr(), local, rtype=tuple)


class Alarm(Exception):
    pass


def _raise_alarm(signum, frame):
    raise Alarm("SIGALRM")


def interrupted_by_alarm(data, seconds, n):
    # The loop takes several times `seconds` even in tier 2; the alarm's handler raises first.
    old = signal.signal(signal.SIGALRM, _raise_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    total = 0.0
    try:
        for k in range(n):
            total += data[k & 4095]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return total


def where_the_alarm_lands(data, seconds):
    # The handler records where the frame was when it ran: inside the loop, in both runs.
    lines = []

    def handler(signum, frame):
        lines.append(frame.f_lineno - frame.f_code.co_firstlineno)

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    total = 0.0
    try:
        for k in range(4 * 10**6):
            total += data[k & 4095]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return lines




@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
@pytest.mark.parametrize(
    "data, seconds, n",
    [
        pytest.param(arr(np.ones(4096)), 0.02, 2 * 10**7, id="array"),
        pytest.param(lst(np.ones(4096)), 0.002, 4 * 10**6, id="list"),
    ],
)
def test_signal_interrupts_tier2_loop(data, seconds, n):
    run(interrupted_by_alarm, data, seconds, n, raises=Alarm)




@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_handled_inside_tier2_loop():
    run(where_the_alarm_lands, lst(np.ones(4096)), 0.002, rtype=list)


def where_the_alarm_lands_in_tier1(data, seconds, n):
    # As above, but the loop reads a global every iteration, so tier 2 gives the loop up
    # after a few exits and tier 1 runs it, polling the eval breaker at its back-edge.
    lines = []

    def handler(signum, frame):
        lines.append(frame.f_lineno - frame.f_code.co_firstlineno)

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    total = 0.0
    try:
        for k in range(n):
            total += data[k & 4095] * SCALE
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return lines


SCALE = 1.5


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_handler_sees_the_loop_line():
    run(where_the_alarm_lands_in_tier1, lst(np.ones(4096)), 0.005, 10**6, rtype=list, tier2=None)


# --- array elements remembered across instructions (State::memos) ------------------------


def same_element_twice(a):
    # The second a[i] reuses the first load.
    total = 0.0
    for i in range(len(a)):
        total += a[i] * a[i] + a[i]
    return total


def invariant_element_in_inner_loop(a):
    # a[i] does not change in the inner loop: loaded once per inner loop.
    total = 0.0
    for i in range(len(a)):
        for j in range(50):
            total += a[i] * j
    return total


def invariant_element_compared(a, limit):
    # The remembered double used by a comparison (NaN: the interpreter decides).
    count = 0
    for i in range(len(a)):
        for j in range(20):
            if a[i] > limit:
                count += 1
    return count


def element_after_store_to_it(a):
    total = 0.0
    for i in range(len(a)):
        x = a[i]
        a[i] = x * 2.0 + 1.0
        total += a[i]
    return total, a


def element_after_store_through_a_view(a):
    # b shares a's memory: a store through b changes a[i].
    b = a[::-1]
    n = len(a)
    total = 0.0
    for i in range(n):
        x = a[i]
        b[n - 1 - i] = x + 3.0
        total += a[i] * x
    return total, a


def invariant_element_written_through_a_view(a):
    # The inner loop writes the element the outer index names, through an alias.
    b = a.reshape(len(a))
    total = 0.0
    for i in range(len(a)):
        for j in range(4):
            total += a[i]
            b[i] = a[i] + 1.0
    return total, a


def element_after_index_changes(a):
    total = 0.0
    i = 0
    while i < len(a) - 1:
        x = a[i]
        i = i + 1
        total += a[i] - x
    return total


def element_after_array_rebound(a, b):
    total = 0.0
    for i in range(len(a)):
        x = a[i]
        a, b = b, a
        total += a[i] - x
    return total


def element_2d_invariant_row(points):
    n = len(points)
    total = 0.0
    for i in range(n):
        for j in range(n):
            dx = points[i, 0] - points[j, 0]
            dy = points[i, 1] - points[j, 1]
            total += dx * dx + dy * dy
    return total


def invariant_element_kept_across_stores_elsewhere(a, out):
    # Stores go to another array: a[i] stays remembered through them when the two arrays
    # do not share memory (checked at entry).
    for i in range(len(a)):
        for j in range(len(out)):
            out[j] = a[i] * j + out[j]
    return out


def invariant_element_with_overlapping_store(a):
    # out overlaps a by one element: the entry check sees it, and a[i] is read again.
    out = a[1:]
    for i in range(len(a) - 1):
        for j in range(3):
            out[i] = a[i] + j
    return a


def invariant_element_with_disjoint_halves(buf):
    # Two views of one buffer that do not overlap: a store into one leaves the other's
    # remembered element valid.
    a = buf[:100]
    out = buf[100:]
    for i in range(len(a)):
        for j in range(len(out)):
            out[j] += a[i] * 0.5
    return buf


def python_float_overflow_chain(data):
    # Python floats: + - * overflow to inf and NaN silently; tier 2 leaves the result
    # unchecked until something else uses it (a comparison, a store, the loop's end).
    total = 0.0
    hits = 0
    for x in data:
        y = x * x * 1e300 - x * 1e300
        total += y
        if y > 1e308:
            hits += 1
    return total, hits


def python_float_nan_into_min(data):
    best = 1e300
    for i in range(len(data)):
        v = data[i] * 1e200 * 1e200 - data[i] * 1e200 * 1e200
        best = min(best, v + 1.0)
    return best


def python_float_inf_into_int(data):
    out = 0
    for i in range(len(data)):
        out += int(data[i] * data[i] * 1e308)
    return out


MEMO_CASES = [
    case(same_element_twice, arr(np.linspace(-3.0, 3.0, 501))),
    case(same_element_twice, at(np.nan, 300, np.linspace(-3.0, 3.0, 501)), id="same_element_twice_nan"),
    case(invariant_element_in_inner_loop, arr(np.linspace(-1.0, 1.0, 301))),
    case(invariant_element_in_inner_loop, at(np.inf, 200, np.linspace(-1.0, 1.0, 301)), id="invariant_element_inf",
         exits=("float_special",)),
    case(invariant_element_compared, arr(np.linspace(-1.0, 1.0, 301)), 0.25),
    case(invariant_element_compared, at(np.nan, 100, np.linspace(-1.0, 1.0, 301)), 0.25, id="invariant_element_compared_nan"),
    case(element_after_store_to_it, arr(np.linspace(0.0, 5.0, 301))),
    case(element_after_store_through_a_view, arr(np.linspace(0.0, 5.0, 301))),
    case(invariant_element_written_through_a_view, arr(np.linspace(0.0, 5.0, 301))),
    case(element_after_index_changes, arr(np.linspace(0.0, 5.0, 301) ** 2)),
    case(element_after_array_rebound, arr(np.linspace(0.0, 5.0, 301)), arr(np.linspace(9.0, 1.0, 301))),
    case(element_2d_invariant_row, np.random.default_rng(7).random((40, 2))),
    case(invariant_element_kept_across_stores_elsewhere, arr(np.linspace(0.0, 2.0, 60)), arr(np.linspace(1.0, 3.0, 70))),
    case(invariant_element_with_overlapping_store, arr(np.linspace(0.0, 2.0, 300)), exits=("array_overlap",)),
    case(invariant_element_with_disjoint_halves, arr(np.linspace(0.0, 2.0, 200))),
]

DEFERRED_CHECK_CASES = [
    case(python_float_overflow_chain, lst(np.linspace(0.0, 2.0, 300)), rtype=tuple),
    case(python_float_overflow_chain, lst(np.linspace(0.0, 0.5, 300)), rtype=tuple, id="python_float_no_overflow"),
    case(python_float_nan_into_min, lst(np.linspace(0.0, 2.0, 300)), rtype=float),
    case(python_float_inf_into_int, lst(np.linspace(0.0, 2.0, 300)), raises=OverflowError),
    case(python_float_inf_into_int, lst(np.linspace(0.0, 0.01, 300)), rtype=int, id="python_float_int_in_range"),
]


@pytest.mark.parametrize("fn, args, expect", DEFERRED_CHECK_CASES)
def test_python_float_results_checked_when_used(fn, args, expect):
    run(fn, *args, **expect)


@pytest.mark.parametrize("fn, args, expect", MEMO_CASES)
def test_remembered_elements(fn, args, expect):
    run(fn, *args, **expect)


def collections_during_a_float_loop(data, n):
    # The loop itself allocates nothing the collector tracks, so the interpreter never
    # collects in it. Compiling it must not either: a collection runs finalizers (Python code)
    # inside the compile step. Threshold 1: any tracked allocation would collect.
    seen = []

    def callback(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    old = gc.get_threshold()
    gc.collect()
    gc.callbacks.append(callback)
    gc.set_threshold(1)
    total = 0.0
    try:
        for k in range(n):
            total += data[k & 7]
    finally:
        gc.set_threshold(*old)
        gc.callbacks.remove(callback)
    return total, len(seen)


def test_compiling_runs_no_collection():
    run(collections_during_a_float_loop, lst(np.ones(8)), 1000, rtype=tuple)


def outer_list_inner_range(rows):
    # The outer loop iterates a list (not compiled by tier 2), the inner one a range.
    total = 0.0
    for row in rows:
        for j in range(len(row)):
            total += row[j] * j
    return total


def test_outer_list_loop_inner_range_loop():
    run(outer_list_inner_range, [lst(UNIT[k : k + 100]) for k in range(0, 6000, 100)], rtype=float)


# --- references: what tier 2 boxes, borrows and releases ---------------------------------


def leak_probe(xs, a, r):
    total = 0.0
    count = 0
    last = 0.0
    for i in r:
        last = xs[i]
        total += a[i] * last + 0.5
        count += 1
    for j in range(len(xs)):
        for k in range(2):
            total -= xs[j] * k
    return total, count, last


def _call_compiled(fn, args, times):
    """Call a never-seen copy of fn `times` times with the JIT forcing compilation."""
    fresh = type(fn)(fn.__code__.replace(), fn.__globals__, fn.__name__)
    was = autojit.enabled()
    saved = autojit.options()
    autojit.enable(threshold=0, loop_threshold=0)
    try:
        for _ in range(times):
            fresh(*args)
    finally:
        autojit.disable()
        if was:
            autojit.enable(**saved)


@pytest.mark.parametrize(
    "xs",
    [
        pytest.param(lst(UNIT[:40]), id="floats"),
        pytest.param(lst_at(10**6 + 7, 20, lst_at(NAN, 10, UNIT[:40])), id="with-int-and-nan"),
    ],
)
def test_reference_counts_unchanged(xs):
    # Entries, exits (list items boxed by identity, range iterators written back, iterators
    # tier 2 created) and loop ends must leave every reference count as they found it.
    a = arr(SIGNED[:40])
    r = range(0, 40, 3)
    consts = [c for c in leak_probe.__code__.co_consts if isinstance(c, (int, float))]
    # Small ints are shared by everything (and immortal on 3.12): their counts say nothing.
    watched = [obj for obj in [xs, a, r, *xs, *consts] if not (type(obj) is int and -5 <= obj <= 256)]
    before = [sys.getrefcount(obj) for obj in watched]
    blocks = sys.getallocatedblocks()
    _call_compiled(leak_probe, (xs, a, r), 3000)
    after = [sys.getrefcount(obj) for obj in watched]
    changed = [(repr(obj)[:40], b, c) for obj, b, c in zip(watched, before, after) if b != c]
    assert not changed, f"reference counts changed (object, before, after): {changed}"
    # 3000 calls, each boxing a few values at exits: a leak of one object per call shows.
    assert sys.getallocatedblocks() - blocks < 1500


# --- powers -------------------------------------------------------------------------------


def powers(data, e):
    total = 0.0
    for i in range(len(data)):
        total += data[i] ** e
    return total


def powers_mixed(data):
    total = 0.0
    for i in range(len(data)):
        x = data[i]
        total += x**3 - x**0.5 + x**-1 + x**2.5 - x**-2
    return total


def cube_signed(data):
    total = 0.0
    for i in range(len(data)):
        total += data[i] ** 3
    return total


def power_varying_exponent(data):
    total = 0.0
    j = 0
    for i in range(len(data)):
        total += data[i] ** j
        j += 1
        if j > 4:
            j = -2
    return total


def int_power(n):
    total = 0
    for i in range(n):
        total += i**2
    return total


def int_base_float_exponent(n):
    total = 0.0
    for i in range(n):
        total += i**0.5
    return total


def squares_of(data):
    total = 0.0
    for i in range(len(data)):
        total += data[i] ** 2
    return total


SMALL = _rng.uniform(0.5, 2.0, N)
TINY = 1e-160 * (1.0 + _rng.random(N))  # squares are subnormal
TINIER = 1e-200 * (1.0 + _rng.random(N))  # squares underflow to zero

POWERS = [
    case(powers, arr(SMALL), 2, rtype=np.float64, id="array-2"),
    case(powers, arr(SMALL), 3, rtype=np.float64, id="array-3"),
    case(powers, arr(SMALL), 0.5, rtype=np.float64, id="array-0.5"),
    case(powers, arr(SMALL), -1, rtype=np.float64, id="array--1"),
    case(powers, arr(SMALL), 2.0, rtype=np.float64, id="array-2.0"),
    case(powers, arr(SMALL), -1.5, rtype=np.float64, id="array--1.5"),
    case(powers, arr(SMALL), 0, rtype=np.float64, id="array-0"),
    case(powers, lst(SMALL), 2, rtype=float, id="list-2"),
    case(powers, lst(SMALL), 3, rtype=float, id="list-3"),
    case(powers, lst(SMALL), 0.5, rtype=float, id="list-0.5"),
    case(powers, lst(SMALL), -1, rtype=float, id="list--1"),
    case(powers, lst(SMALL), 7.25, rtype=float, id="list-7.25"),
    case(powers, lst(SMALL), 0, rtype=float, id="list-0"),
    case(powers_mixed, arr(SMALL), rtype=np.float64),
    case(powers_mixed, lst(SMALL), rtype=float, id="powers_mixed-list"),
    case(cube_signed, arr(SIGNED), rtype=np.float64, warns=[]),
    case(cube_signed, lst(SIGNED), rtype=float, id="cube_signed-list"),
    case(power_varying_exponent, arr(SMALL), rtype=np.float64),
    case(power_varying_exponent, lst(SMALL), rtype=float, id="power_varying_exponent-list"),
    case(int_power, N, rtype=int, tier2=None),
    case(int_base_float_exponent, N, rtype=float, tier2=None),
    # Negative bases: Python floats give complex numbers for fractional exponents, numpy
    # float64 gives nan with a warning; integer exponents are plain.
    case(powers, lst_at(-2.0, base=SMALL), 0.5, rtype=complex, exits=["float_special"], id="list-negative-0.5"),
    case(powers, lst_at(-2.0, base=SMALL), -1.5, rtype=complex, id="list-negative--1.5"),
    case(powers, lst(-SMALL), 3, rtype=float, id="list-negative-3"),
    case(powers, lst(-SMALL), 2, rtype=float, id="list-negative-2"),
    case(powers, lst(-SMALL), -1, rtype=float, id="list-negative--1"),
    case(
        powers,
        at(-2.0, base=SMALL),
        0.5,
        rtype=np.float64,
        warns=[warning("invalid value encountered in scalar power")],
        exits=["float_special"],
        id="array-negative-0.5",
    ),
    case(powers, arr(-SMALL), 3, rtype=np.float64, warns=[], id="array-negative-3"),
    case(powers, arr(-SMALL), 2, rtype=np.float64, warns=[], id="array-negative-2"),
    # Zero bases.
    case(powers, lst_at(0.0, base=SMALL), -1, raises=ZeroDivisionError, id="list-zero--1"),
    case(powers, lst_at(0.0, base=SMALL), 2, rtype=float, id="list-zero-2"),
    case(powers, lst_at(-0.0, base=SMALL), 3, rtype=float, id="list-negative-zero-3"),
    case(
        powers,
        at(0.0, base=SMALL),
        -1,
        rtype=np.float64,
        warns=[warning("divide by zero encountered in scalar power")],
        id="array-zero--1",
    ),
    case(powers, at(0.0, base=SMALL), 0.5, rtype=np.float64, warns=[], id="array-zero-0.5"),
    # Tiny bases: subnormal squares, and squares that underflow to zero.
    case(powers, arr(TINY), 2, rtype=np.float64, warns=[], id="array-subnormal"),
    case(powers, lst(TINY), 2, rtype=float, id="list-subnormal"),
    case(powers, arr(TINIER), 2, rtype=np.float64, warns=[], id="array-underflow"),
    case(powers, lst(TINIER), 2, rtype=float, id="list-underflow"),
    case(powers, lst(TINY), 0.5, rtype=float, id="list-tiny-0.5"),
    case(powers, lst_at(1e-160, base=SMALL), -2, raises=OverflowError, id="list-tiny--2"),
    case(
        powers,
        at(1e-160, base=SMALL),
        -2,
        rtype=np.float64,
        warns=[warning("overflow encountered in scalar power")],
        id="array-tiny--2",
    ),
    case(square_sum, arr(TINY), rtype=np.float64, warns=[], id="square_sum-subnormal"),
    case(square_sum, lst(TINY), rtype=float, id="square_sum-subnormal-list"),
    case(squares_of, lst_at(5e-324, base=SMALL), rtype=float, id="squares-of-min-subnormal"),
    # Huge bases.
    case(powers, lst_at(1e200, base=SMALL), 2, raises=OverflowError, id="list-huge-2"),
    case(powers, lst_at(1e300, base=SMALL), 0.5, rtype=float, id="list-huge-0.5"),
]


@pytest.mark.parametrize("fn, args, expect", POWERS)
def test_powers(fn, args, expect):
    _run_case(fn, args, expect)


# --- math functions and abs() ------------------------------------------------------------


def math_mix(data, xs):
    a = 0.0
    b = 0.0
    d = 1.0
    for i in range(len(data)):
        a += math.sqrt(abs(data[i])) + math.exp(xs[i] * 0.01) - math.log(abs(data[i]) + 1.0)
        b = b * 0.5 + math.sin(data[i]) * math.cos(xs[i]) - math.tan(data[i] * 0.1)
        d = d + math.atan(xs[i]) + math.tanh(data[i]) - math.fabs(xs[i])
    return a, b, d


def math_sqrt_sum(xs):
    total = 0.0
    for i in range(len(xs)):
        total += math.sqrt(xs[i])
    return total


def math_log_sum(xs):
    total = 0.0
    for i in range(len(xs)):
        total += math.log(xs[i])
    return total


def math_exp_sum(xs):
    total = 0.0
    for i in range(len(xs)):
        total += math.exp(xs[i])
    return total


def math_of_ints(start):
    total = 0.0
    for i in range(start, start + 5000):
        total += math.sqrt(i) - math.log(i) + math.exp(-i)
    return total


def abs_of_ints(start):
    total = 0
    for i in range(start, start + 5000):
        total += abs(i)
    return total


def abs_of_numpy(a):
    total = 0.0
    for i in range(len(a)):
        total += abs(a[i])
    return total, abs(a[0])


MATH = [
    case(math_mix, arr(SIGNED), lst(SIGNED[::-1]), rtype=tuple),
    case(math_mix, lst(SIGNED * 1e6), arr(SIGNED), rtype=tuple, id="math_mix-large"),
    case(math_sqrt_sum, arr(UNIT), rtype=float),
    case(math_sqrt_sum, lst_at(-1.0), raises=ValueError, exits=["math_domain"], id="math_sqrt_sum-negative"),
    case(math_sqrt_sum, lst_at(-0.0), rtype=float, id="math_sqrt_sum-negative-zero"),
    case(math_sqrt_sum, lst_at(INF), rtype=float, id="math_sqrt_sum-inf"),
    case(math_log_sum, lst_at(0.0, base=UNIT + 0.5), raises=ValueError, id="math_log_sum-zero"),
    case(math_log_sum, at(-2.0, base=UNIT + 0.5), raises=ValueError, id="math_log_sum-negative"),
    case(math_exp_sum, lst_at(800.0), raises=OverflowError, id="math_exp_sum-overflow"),
    case(math_exp_sum, lst_at(-800.0), rtype=float, id="math_exp_sum-underflow"),
    case(math_exp_sum, arr(SIGNED * 70), rtype=float, id="math_exp_sum-array"),
    case(math_of_ints, 1, rtype=float),
    case(math_of_ints, 2**60 + 1, rtype=float, id="math_of_ints-big"),
    case(abs_of_ints, -2500, rtype=int),
    case(abs_of_ints, -(2**63) + 1, rtype=int, id="abs_of_ints-min-int64"),
    case(abs_of_numpy, arr(SIGNED), rtype=tuple),
    case(abs_of_numpy, lst(SIGNED), rtype=tuple, id="abs_of_numpy-list"),
]


@pytest.mark.parametrize("fn, args, expect", MATH)
def test_math_functions(fn, args, expect):
    _run_case(fn, args, expect)


# --- a variant cache that sees several type signatures ------------------------------------


def accumulate_generic(acc, data):
    for i in range(len(data)):
        acc = acc + data[i]
    return acc


def test_same_loop_with_changing_types():
    # One compiled function, called with arrays, lists and accumulators of several types in a
    # row: variants are cached per type signature and must not be confused.
    calls = [
        ((0.0, arr()), {}),
        ((0.0, lst()), {}),
        ((0, arr(SIGNED)), {}),
        ((np.float64(1.5), lst(SIGNED)), {}),
        ((0, list(range(N))), {}),
        ((0.0, lst_at("x")), {}),
        ((0.0, at(NAN)), {}),
        ((2**62, list(range(N))), {}),
        ((0.0, arr()), {}),
    ]
    results = check_calls(accumulate_generic, calls)
    assert [type(r.result) for r in results] == [
        np.float64,
        float,
        np.float64,
        np.float64,
        int,
        type(None),
        np.float64,
        int,
        np.float64,
    ]
    assert isinstance(results[5].exception, TypeError)
    assert sum(r.jit_stats.get("tier2_entries", 0) for r in results) > 0


def test_module_runs_on_supported_python():
    assert sys.version_info[:2] in ((3, 11), (3, 12))
    assert autojit.supported()


def test_a_refused_loop_is_asked_again_after_its_types_change():
    # Tier 2 refuses the loop while `x` is a str (each refused request backs off, up to 64
    # requests); once `x` is a float, a later request compiles and enters it.
    def mixed(n, switch):
        x = "s"
        total = 0.0
        for i in range(n):
            if i == switch:
                x = 1.5
            if i >= switch:
                total += x * 2.0
        return total

    autojit.enable(threshold=0)
    try:
        before = autojit.stats()["tier2_entries"]
        result = mixed(200_000, 20_000)
        entered = autojit.stats()["tier2_entries"] - before
    finally:
        autojit.disable()
    assert result == 180_000 * 3.0
    assert entered >= 1

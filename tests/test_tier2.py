"""Differential tests for tier 2 (type-specialized loops entered by on-stack replacement).

Every function here runs through autojit.testing.check: once in CPython's interpreter, once
force-compiled, compared bit for bit (result and its type, exception and traceback, mutation
of the arguments, warnings, output). Tier 1 offers a loop to tier 2 every 1024 back-edges, so
each loop runs at least 5000 iterations, and special inputs (a zero, a NaN, an index out of
range, a str in a list, an int outgrowing 64 bits) sit well past the first entry (at 4000 of
5000, say), so that tier 2 meets them and has to exit.

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
        out[int(index.lstrip("_"))] = value
    return out


def at(value, where=AT, base=UNIT):
    """A fresh float64 array equal to `base` except at `where`."""
    out = np.array(base, dtype=np.float64)
    out[where] = value
    return out


def lst(values=UNIT):
    return [float(x) for x in values]


def lst_at(value, where=AT, base=UNIT):
    out = lst(base)
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
    tier2: True - tier 2 must have been entered during the compiled run;
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
    if tier2:
        assert result.jit_stats.get("tier2_entries", 0) > 0, (
            f"{name}: tier 2 never ran (counters moved: {result.jit_stats}, explain: {result.explain})"
        )
    if exits and before is not None:
        moved = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        for reason in exits:
            assert moved.get(reason, 0) > 0, f"{name}: no tier-2 exit {reason!r} (exits taken: {moved})"
    return result


def case(fn, *args, **expect):
    return pytest.param(fn, args, expect, id=expect.pop("id", fn.__name__))


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
        if i == AT:
            a[i] = total
    return total


def read_only_view_write(a):
    v = a[::-1]
    v.setflags(write=False)
    total = 0.0
    for i in range(len(v)):
        if i < AT:
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
    case(unaligned_sum, arr(SIGNED), rtype=np.float64, tier2=False),
    case(three_d_sum, arr(_rng.random((10, 20, 30))), rtype=np.float64, tier2=False),
    case(other_dtype_loop, SIGNED.astype(np.float32), rtype=np.float32, tier2=False, id="float32"),
    case(other_dtype_loop, (SIGNED * 1000).astype(np.int64), rtype=np.float64, tier2=False, id="int64"),
    case(other_dtype_loop, (SIGNED * 1000).astype(np.int32), rtype=np.float64, tier2=False, id="int32"),
    case(other_dtype_loop, SIGNED.astype(">f8"), rtype=np.float64, tier2=False, id="big-endian-float64"),
    case(other_dtype_loop, SIGNED.astype(np.float16), rtype=np.float16, tier2=False, id="float16"),
    case(other_dtype_int_sum, (SIGNED * 1000).astype(np.int64), rtype=np.int64, tier2=False, id="int64-sum"),
    case(other_dtype_int_sum, (SIGNED * 1000).astype(np.int32), rtype=np.int64, tier2=False, id="int32-sum"),
    # int64 scalars wrap with a warning where Python ints would grow.
    case(
        other_dtype_int_sum,
        np.full(N, 2**40, dtype=np.int64),
        rtype=np.int64,
        tier2=False,
        warns=[warning("overflow encountered in scalar multiply")],
        id="int64-wraps",
    ),
    case(other_dtype_store, (SIGNED * 1000).astype(np.int32), rtype=np.ndarray, tier2=False, id="int32-store"),
    case(other_dtype_store, SIGNED.astype(np.float32), rtype=np.ndarray, tier2=False, id="float32-store"),
]


@pytest.mark.parametrize("fn, args, expect", LAYOUTS)
def test_layouts_and_dtypes(fn, args, expect):
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
        total += 1.0 / (i - AT)
    return total


def int_true_divide_by_zero(n):
    total = 0.0
    for i in range(n):
        total += i / (i - AT)
    return total


def divide_by_float_counter(n):
    total = 0.0
    x = -float(AT)
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
    for i in range(rows):
        for j in range(cols + 1):
            total += a[i, j]
    return total


def store_past_end(data):
    out = np.zeros(AT + 10)
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
    total = 0.0
    for i in range(rows):
        for j in range(cols):
            total += a[-1 - i, j - cols // 2] * j
    return total


def list_store_doubled(data):
    for i in range(len(data)):
        data[i] = data[i] * 2.0
    return data


def overflowing_accumulator(n):
    total = 1
    for i in range(n):
        if i > AT:
            total = total * 3 + i
    return total


def overflowing_sum(scale):
    total = 0
    for i in range(N):
        total += i * scale
    return total


def overflowing_product(scale):
    total = 0
    for i in range(N):
        total = i * scale
    return total


def overflowing_difference(scale):
    total = 0
    for i in range(N):
        total -= i * scale
    return total


def overflowing_counter(start):
    total = 0
    for i in range(start, start + N):
        total = i + 3000
    return total


def big_range(start):
    total = 0
    for i in range(start, start + N):
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
    case(numerical_loop, at(NAN), rtype=np.float64, warns=[], exits=["array_index"], id="numerical-nan"),
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
    case(count_above, arr(UNIT, _3000=NAN, _4000=INF, _4001=-INF), rtype=int, warns=[], exits=["array_index"]),
    case(count_above, lst_at(NAN), rtype=int, warns=[], exits=["list_item"], id="count_above-list"),
    case(list_loop, lst_at(NAN), rtype=float, exits=["list_item"], id="list-nan"),
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
    case(square_sum, arr(UNIT * 1e154), rtype=np.float64, id="square_sum-sum-overflows"),
    case(list_loop, lst_at(1e200), raises=OverflowError, exits=["float_special"], id="list-overflow"),
    case(square_sum, lst_at(1e200), rtype=float, id="square_sum-list"),
    # Indices out of range mid-loop, and negative ones.
    case(index_past_end, arr(), raises=IndexError, exits=["array_index"]),
    case(index_past_end, lst(), raises=IndexError, exits=["list_item"], id="index_past_end-list"),
    case(index_past_end_2d, MATRIX.copy(), raises=IndexError),
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
    case(big_range, 2**63 - N, rtype=int, id="big_range-to-int64-max"),
]


@pytest.mark.parametrize("fn, args, expect", EXITS)
def test_exits(fn, args, expect):
    _run_case(fn, args, expect)


# --- globals: shadowed builtins and rebinding ---------------------------------------------

GLOBAL_SOURCE = """
def uses_len(data):
    total = 0.0
    for i in range(N):
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
    for i in range(N):
        total += data[i] * len(data)
    return total

def rebinds_mid_loop(data):
    global len
    len = LENS[0]
    total = 0.0
    for i in range(N):
        total += data[i] * len(data)
        if i == AT:
            len = LENS[1]
    return total

def reads_scale(data):
    global SCALE
    total = 0.0
    for i in range(N):
        total += data[i] * SCALE
        if i == AT:
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
    run(ns["uses_range"], arr(), raises=TypeError, tier2=None)


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
    r = run(ns["reads_scale"], arr(), rtype=np.float64, tier2=None)
    assert ns["SCALE"] == 1.5 and r.result != 1.5 * numerical_sum(UNIT)


def numerical_sum(values):
    total = 0.0
    for x in values:
        total += x
    return total


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
    # Python floats until AT, then a numpy float64 joins: the type changes mid-loop.
    result = 0.0
    for i in range(len(xs)):
        result += xs[i]
        if i >= AT:
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
    for i in range(start, start + N):
        total += i / 3
    return total


def int_div_float(start):
    total = 0.0
    for i in range(start, start + N):
        total = total * 0.5 + i / 3.0
    return total


def float_times_big_int(start):
    total = 0.0
    for i in range(start, start + N):
        total = i * 0.1 - total
    return total


def int_vs_float_compare(start, x):
    below = 0
    equal = 0
    for i in range(start, start + N):
        if i < x:
            below += 1
        if i == x:
            equal += 1
    return below, equal


def float_vs_int_compare(start, x):
    above = 0
    for i in range(start, start + N):
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
        if data[i] > 0.9999:
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
    total = 0
    last = None
    for i in range(start, stop, step):
        total += i
        last = i
    return total, last


def nested_ranges(n):
    total = 0.0
    for i in range(n):
        for j in range(i % 7 if False else i // 10 - 30, i // 10):
            total += j * 0.5
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
        if data[i] > 9.999:
            return i, data[i]
    return -1, None


CONTROL = [
    case(branches, arr(SIGNED, _4000=0.0, _4001=0.0005), rtype=tuple),
    case(branches, lst(SIGNED), rtype=tuple, id="branches-list"),
    case(chained_compare, arr(), rtype=int, tier2=None),
    case(int_branches, N, rtype=tuple),
    case(while_sum, arr(), rtype=tuple),
    case(while_sum, lst(), rtype=tuple, id="while_sum-list"),
    case(while_float_counter, 0.1, rtype=tuple),
    case(while_float_counter, 0.125, rtype=tuple, id="while_float_counter-exact"),
    case(while_break, at(0.99999), rtype=tuple),
    case(loop_with_continue, arr(), rtype=np.float64),
    case(range_two_args, -2500, 2500, rtype=int),
    case(range_step, 0, 7 * N, 7, rtype=tuple),
    case(range_step, 3 * N, -3 * N, -3, rtype=tuple, id="range_step-negative"),
    case(range_step, 10, 10 + N, 1, rtype=tuple, id="range_step-one"),
    case(range_step, 0, 2**62, 2**62 // N, rtype=tuple, id="range_step-huge"),
    case(range_step, 2**63 - 1, 2**63 - 1 - 2 * N, -2, rtype=tuple, id="range_step-from-int64-max"),
    case(nested_ranges, 800, rtype=float),
    case(nested_triangle, 120, rtype=int),
    case(loop_variable_after_loop, arr(), rtype=tuple),
    case(early_return, at(10.0, base=SIGNED), rtype=tuple),
]


@pytest.mark.parametrize("fn, args, expect", CONTROL)
def test_control_flow(fn, args, expect):
    _run_case(fn, args, expect)


def test_range_step_zero():
    # A zero step raises ValueError before the loop: exact, and nothing for tier 2.
    run(range_step, 0, 10, 0, raises=ValueError, tier2=None)


def stepped_from_argument(data, step):
    total = 0.0
    for k in range(3000):
        for i in range(0, len(data), step):
            total += data[i]
        if k == 2999:
            step = 0
    for i in range(0, 10, step):
        total += 1.0
    return total


def test_range_step_zero_from_a_variable():
    run(stepped_from_argument, arr(UNIT[:10]), 3, raises=ValueError)


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


def power_by_counter(data):
    total = 0.0
    for i in range(len(data)):
        total += data[i] ** (i % 5 if False else 3)
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
    out = []
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
    case(power_by_counter, arr(SIGNED), rtype=np.float64),
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
    case(powers, lst(TINY), -2, raises=OverflowError, id="list-tiny--2"),
    case(
        powers,
        arr(TINY),
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

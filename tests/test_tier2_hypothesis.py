"""Random tier-2 loops, run by autojit.testing.check in the interpreter and compiled, and
compared bit for bit (result and type, exception and traceback, argument mutation, warnings).

Hypothesis builds the source text of a function `generated(data)` whose loop runs over the
whole of `data` (3000 to 4200 elements, so that tier 1 hands the loop to tier 2): an
accumulator updated by a random arithmetic expression over `data[i]` (also `data[i - 1]` and
`data[-1 - i]`), the loop counter, the length and float and int constants (0, 2, 0.5, -1.5,
tiny and huge ones), combined with + - * / and ** (small constant exponents, 0.5 and -1.5
among them); optionally a second accumulator under an if/else on a comparison, and a store into
an output array. Loops are `for` over range with one, two or three arguments (steps 1, 2 and
-1), a `while` with an int counter, or `for x in data` with the counter kept alongside.

`data` is a float64 array or a list of floats: a short pool of values drawn by hypothesis
(zeros of both signs, negative values, subnormals, tiny and huge magnitudes) repeated over the
length, plus a few values at drawn positions that may be NaN, infinities, or in a list an int.
A failure prints the program.

A second family runs over numpy arrays of every dtype tier 2 reads (float64, float32, int64,
int32) with 1 to 3 dimensions, viewed inside the function through slices with drawn steps
(negative, non-contiguous) and optionally transposed: nested loops over the view's shape
accumulate an expression of the element, a mirrored element (negative indices), the counters
and constants (with min, max, int() and float()), and may store an expression back into the
view (through numpy's casts: float32 rounding, int32 range, floats into int arrays).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from autojit.testing import check

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DATA_LEAVES = ["data[i]", "data[i]", "data[i]", "data[i - 1]", "data[-1 - i]"]
NUMBER_LEAVES = ["i", "n", "0", "2", "-1", "3", "0.0", "2.0", "0.5", "-1.5", "3.14", "1e-3", "1e-300", "1e300", "-0.0"]
BINARY = ["+", "+", "-", "-", "*", "*", "/"]
EXPONENTS = ["2", "2", "3", "0.5", "-1", "-1.5", "0", "2.0", "-2"]
COMPARE = ["<", "<=", "==", "!=", ">", ">="]
INITIAL = ["0.0", "0", "1.0", "-0.0", "np.float64(0.0)"]

# How many generated programs ran tier-2 code (examples, entered): for the sanity test below.
TIER2_SEEN = []


@st.composite
def expressions(draw, depth=3):
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.integers(0, 2)) < 2:
            return draw(st.sampled_from(DATA_LEAVES))
        return draw(st.sampled_from(NUMBER_LEAVES))
    kind = draw(st.sampled_from(["binary", "binary", "binary", "pow"]))
    if kind == "pow":
        return f"({draw(expressions(depth - 1))} ** {draw(st.sampled_from(EXPONENTS))})"
    left = draw(expressions(depth - 1))
    right = draw(expressions(depth - 1))
    return f"({left} {draw(st.sampled_from(BINARY))} {right})"


@st.composite
def programs(draw, with_store):
    update = draw(
        st.sampled_from(
            [
                "acc += {e}",
                "acc -= {e}",
                "acc = acc + {e}",
                "acc = acc * 0.5 + {e}",
                "acc = {e} - acc",
                "acc = acc / 2 + {e}",
            ]
        )
    ).format(e=draw(expressions()))
    body = [update]
    if draw(st.booleans()):
        left, right = draw(expressions(2)), draw(expressions(2))
        body += [
            f"if {left} {draw(st.sampled_from(COMPARE))} {right}:",
            f"    other = other + {draw(expressions(2))}",
            "else:",
            f"    other = other - {draw(expressions(1))}",
        ]
    if with_store:
        body.append(f"out[i] = {draw(expressions(2))}")
    loop = draw(st.sampled_from(["range1", "range2", "range3", "down", "while", "iter"]))
    head = [
        "n = len(data)",
        f"acc = {draw(st.sampled_from(INITIAL))}",
        f"other = {draw(st.sampled_from(INITIAL))}",
    ]
    if with_store:
        head.append("out = np.zeros(n)")
    indent = "    "
    if loop == "while":
        lines = ["i = 0", "while i < n:", *[indent + line for line in body], indent + "i += 1"]
    elif loop == "iter":
        # Over the data itself, the index kept alongside: data[i] is the item.
        body = [line.replace("data[i]", "x") for line in body]
        lines = ["i = 0", "for x in data:", *[indent + line for line in body], indent + "i += 1"]
    else:
        source = {
            "range1": "range(n)",
            "range2": "range(1, n)",
            "range3": "range(0, n, 2)",
            "down": "range(n - 1, -1, -1)",
        }[loop]
        lines = [f"for i in {source}:", *[indent + line for line in body]]
    result = "return acc, other, out" if with_store else "return acc, other"
    text = "def generated(data):\n" + "\n".join(indent + line for line in head + lines + [result]) + "\n"
    return text


FINITE = st.one_of(
    st.floats(-10.0, 10.0),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -1.5, 5e-324, 1e-160, 1e-300, 1e300, -1e300, 1.7e308]),
)
SPECIAL = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 5e-324, 1e308]),
    st.floats(),
)


@st.composite
def datasets(draw, kind):
    n = draw(st.integers(3000, 4200))
    pool = draw(st.lists(FINITE, min_size=1, max_size=6))
    step = draw(st.sampled_from([0.0, 0.0, 1e-3, 0.37, -0.5]))
    if step:
        values = [pool[k % len(pool)] + k * step for k in range(n)]
    else:  # (no addition: negative zeros stay)
        values = [pool[k % len(pool)] for k in range(n)]
    specials = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), SPECIAL | st.integers(-3, 3) if kind == "list" else SPECIAL),
            max_size=3,
        )
    )
    for where, value in specials:
        values[where] = value
    if kind == "array":
        return np.array(values, dtype=np.float64)
    return values


def _compile(source):
    namespace = {"np": np}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace["generated"]


def _check_program(source, *args):
    note(source)
    fn = _compile(source)
    try:
        result = check(fn, *args)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n--- program ---\n{source}") from None
    TIER2_SEEN.append(result.jit_stats.get("tier2_entries", 0) > 0)


@SETTINGS
@given(source=programs(with_store=False), data=datasets("array"))
def test_array_loops(source, data):
    _check_program(source, data)


@SETTINGS
@given(source=programs(with_store=False), data=datasets("list"))
def test_list_loops(source, data):
    _check_program(source, data)


@SETTINGS
@given(source=programs(with_store=True), data=datasets("array"))
def test_array_loops_with_stores(source, data):
    _check_program(source, data)


def test_generated_loops_reach_tier2():
    # The programs above must mostly run in tier 2, or they test tier 1 instead.
    if len(TIER2_SEEN) < 30:
        pytest.skip("the generated-program tests did not run in this session")
    share = sum(TIER2_SEEN) / len(TIER2_SEEN)
    assert share >= 0.5, f"only {sum(TIER2_SEEN)} of {len(TIER2_SEEN)} generated programs entered tier 2"


# --- arrays of every dtype, 1 to 3 dimensions, any strides --------------------------------

ARRAY_DTYPES = ["float64", "float32", "int64", "int32"]
ELEMENT_LEAVES = ["x", "x", "y", "i", "2", "-3", "0.5", "7.25", "1e-3"]
# Outer-loop view lengths per dimension count: about 3000 to 6000 elements in all.
VIEW_LENGTHS = {1: (3000, 4200), 2: (50, 75), 3: (14, 18)}
STEPS = [1, 1, 2, -1, -2, 3, -3]


@st.composite
def element_expressions(draw, int_dtype, depth=2):
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(ELEMENT_LEAVES))
    kind = draw(st.sampled_from(["binary", "binary", "call"]))
    left = draw(element_expressions(int_dtype, depth - 1))
    right = draw(element_expressions(int_dtype, depth - 1))
    if kind == "call":
        call = draw(st.sampled_from(["min", "max", "int", "float"]))
        if call in ("min", "max"):
            return f"{call}({left}, {right})"
        return f"{call}({left})"
    if int_dtype and draw(st.integers(0, 3)) == 0:
        # Bitwise operators on the integer elements only (floats have none).
        return f"({draw(st.sampled_from(['x', 'y']))} {draw(st.sampled_from(['&', '^', '|']))} {draw(st.sampled_from(['y', '255', '-7']))})"
    ops = ["+", "-", "*"] if int_dtype else ["+", "-", "*", "/"]
    return f"({left} {draw(st.sampled_from(ops))} {right})"


@st.composite
def array_programs(draw):
    dtype = draw(st.sampled_from(ARRAY_DTYPES))
    int_dtype = dtype.startswith("int")
    ndim = draw(st.integers(1, 3))
    lo, hi = VIEW_LENGTHS[ndim]
    lengths = [draw(st.integers(lo, hi)) for _ in range(ndim)]
    steps = [draw(st.sampled_from(STEPS)) for _ in range(ndim)]
    starts = [draw(st.integers(0, 2)) for _ in range(ndim)]
    base_shape = tuple(length * abs(step) + start for length, step, start in zip(lengths, steps, starts))
    spec = tuple(
        slice(start, None, step) if step > 0 else slice(base - 1 - start, None, step)
        for start, step, base in zip(starts, steps, base_shape)
    )
    transpose = ndim > 1 and draw(st.booleans())
    counters = ["i", "j", "k"][:ndim]
    index = ", ".join(counters)
    mirror = ", ".join(f"-1 - {c}" if d == 0 else c for d, c in enumerate(counters))
    body = [
        f"x = v[{index}]",
        f"y = v[{mirror}]",
        f"acc = acc {draw(st.sampled_from(['+', '-']))} {draw(element_expressions(int_dtype))}",
    ]
    if draw(st.booleans()):
        body.append(f"v[{index}] = {draw(element_expressions(int_dtype, 1))}")
    lines = ["v = base[spec].T" if transpose else "v = base[spec]", "shape = v.shape", f"acc = {draw(st.sampled_from(['0', '0.0']))}"]
    indent = ""
    for d, c in enumerate(counters):
        lines.append(f"{indent}for {c} in range(shape[{d}]):")
        indent += "    "
    lines += [indent + line for line in body]
    lines.append("return acc, base")
    source = "def generated(base, spec):\n" + "\n".join("    " + line for line in lines) + "\n"
    return source, dtype, base_shape, spec


ARRAY_VALUES = {
    "float64": st.one_of(FINITE, st.sampled_from([float("nan"), float("inf")])),
    "float32": st.one_of(st.floats(-1e6, 1e6, width=32), st.sampled_from([0.0, -0.0, 1e-40, 3e38, float("nan")])),
    "int64": st.one_of(st.integers(-1000, 1000), st.sampled_from([2**62, -(2**63), 2**63 - 1, 2**40])),
    "int32": st.one_of(st.integers(-1000, 1000), st.sampled_from([2**31 - 1, -(2**31), 2**30])),
}


@st.composite
def array_inputs(draw):
    source, dtype, base_shape, spec = draw(array_programs())
    pool = draw(st.lists(ARRAY_VALUES[dtype].filter(lambda v: v == v or dtype.startswith("float")), min_size=1, max_size=5))
    size = int(np.prod(base_shape))
    values = np.resize(np.array(pool, dtype=dtype), size)
    for where, value in draw(st.lists(st.tuples(st.integers(0, size - 1), ARRAY_VALUES[dtype]), max_size=2)):
        values[where] = value
    return source, values.reshape(base_shape), spec


@SETTINGS
@given(case=array_inputs())
def test_arrays_of_every_dtype(case):
    source, base, spec = case
    note(f"dtype {base.dtype}, base shape {base.shape}, view {spec}")
    _check_program(source, base, spec)

"""Random programs over ints and floats, run by autojit.testing.check in the interpreter and
compiled, and compared.

Hypothesis builds the source text of a function `generated(a, b)` from a small grammar:
expressions with every arithmetic, bitwise, comparison and unary operator, conditional
expressions and a few builtins, over the parameters, local variables and constants including 0,
-0.0, nan, inf, 1e308 and big ints; statements are assignments, augmented assignments, if/else,
try/except and, in the loop programs, for and while loops with break, continue and early
return. Each program is compiled with exec and checked on several inputs in a row (so compiled
code meets changing types). A failure prints the program.

Ints are kept from growing without bound: after every assignment an int beyond 10**30 is
reduced modulo 1000003, and exponents and left-shift counts are small literals.
"""

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from autojit.testing import check_calls

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LOCALS = ["x", "y", "z"]
PARAMS = ["a", "b"]
CONSTANTS = [
    "0", "1", "-1", "2", "3", "7", "255", "0.0", "-0.0", "0.5", "1.5", "-2.5", "0.1", "1e308", "-1e308", "5e-324",
    "float('nan')", "float('inf')", "-float('inf')", "2**63", "-(2**64)", "10**20", "True", "False",
]
BINARY = ["+", "+", "-", "-", "*", "*", "/", "//", "%", "&", "|", "^", ">>"]
AUGMENTED = ["+", "-", "*", "/", "//", "%", "&", "|", "^"]
COMPARE = ["<", "<=", "==", "!=", ">", ">="]
UNARY = ["-", "-", "+", "~", "not "]
EXPONENTS = ["0", "1", "2", "3", "-1", "-2", "0.5"]
SHIFTS = ["0", "1", "5", "31", "64", "70"]
CALLS = ["abs({})", "float({})", "int({})", "round({})", "bool({})", "min({}, {})", "max({}, {})", "divmod({}, {})[0]", "pow({}, 2)"]
BOUND = "10**30"


@st.composite
def expressions(draw, names, depth=3):
    if depth <= 0 or draw(st.integers(0, 4)) < 2:
        if draw(st.booleans()):
            return draw(st.sampled_from(names))
        return draw(st.sampled_from(CONSTANTS))
    kind = draw(st.sampled_from(["binary", "binary", "binary", "unary", "compare", "chain", "ifexp", "call", "pow", "shift", "boolop"]))

    def sub():
        return draw(expressions(names, depth - 1))

    if kind == "binary":
        return f"({sub()} {draw(st.sampled_from(BINARY))} {sub()})"
    if kind == "unary":
        return f"({draw(st.sampled_from(UNARY))}{sub()})"
    if kind == "compare":
        return f"({sub()} {draw(st.sampled_from(COMPARE))} {sub()})"
    if kind == "chain":
        ops = draw(st.lists(st.sampled_from(COMPARE), min_size=2, max_size=3))
        parts = [sub()]
        for op in ops:
            parts += [op, sub()]
        return "(" + " ".join(parts) + ")"
    if kind == "ifexp":
        return f"({sub()} if {sub()} else {sub()})"
    if kind == "call":
        template = draw(st.sampled_from(CALLS))
        return template.format(*[sub() for _ in range(template.count("{}"))])
    if kind == "pow":
        return f"({sub()} ** {draw(st.sampled_from(EXPONENTS))})"
    if kind == "shift":
        return f"({sub()} << {draw(st.sampled_from(SHIFTS))})"
    return f"({sub()} {draw(st.sampled_from(['and', 'or']))} {sub()})"


def clamp(target):
    """Keeps ints small enough that no program runs for long."""
    return f"if type({target}) is int and not -{BOUND} < {target} < {BOUND}: {target} %= 1000003"


@st.composite
def blocks(draw, names, loops, depth, in_loop=False, max_statements=4):
    """A list of source lines (indented relative to the block)."""
    lines = []
    kinds = ["assign", "assign", "augassign"]
    if depth > 0:
        kinds += ["if", "try"]
        if loops:
            kinds += ["for", "for", "while"]
    if in_loop:
        kinds += ["break", "continue", "return"]
    for _ in range(draw(st.integers(1, max_statements))):
        kind = draw(st.sampled_from(kinds))
        target = draw(st.sampled_from(LOCALS + PARAMS))
        if kind == "assign":
            value = draw(expressions(names))
            lines += [f"{target} = {value}"] + ([] if value in CONSTANTS else [clamp(target)])
        elif kind == "augassign":
            lines += [f"{target} {draw(st.sampled_from(AUGMENTED))}= {draw(expressions(names, 2))}", clamp(target)]
        elif kind == "if":
            cond = draw(expressions(names, 2))
            body = draw(blocks(names, loops, depth - 1, in_loop, 3))
            orelse = draw(blocks(names, loops, depth - 1, in_loop, 2))
            lines += [f"if {cond}:", *_indent(body), "else:", *_indent(orelse)]
        elif kind == "try":
            body = draw(blocks(names, loops, depth - 1, in_loop, 3))
            handler = f"{target} = {draw(st.sampled_from(CONSTANTS))}"
            lines += ["try:", *_indent(body), "except (ArithmeticError, ValueError, TypeError):", "    " + handler]
        elif kind == "for":
            var = f"i{depth}"
            source = draw(
                st.sampled_from(
                    [
                        f"range({draw(st.integers(0, 12))})",
                        f"range({draw(st.integers(-5, 5))}, {draw(st.integers(-5, 5))}, {draw(st.sampled_from([-2, -1, 1, 3]))})",
                        f"({draw(expressions(names, 1))}, {draw(expressions(names, 1))}, {draw(st.sampled_from(CONSTANTS))})",
                    ]
                )
            )
            body = draw(blocks(names + [var], loops, depth - 1, True, 4))
            lines += [f"for {var} in {source}:", *_indent(body)]
        elif kind == "while":
            counter = f"k{depth}"
            limit = draw(st.integers(0, 10))
            cond = draw(expressions(names, 1))
            body = draw(blocks(names + [counter], loops, depth - 1, True, 3))
            lines += [f"{counter} = 0", f"while {counter} < {limit} and {cond}:", f"    {counter} += 1", *_indent(body)]
        elif kind in ("break", "continue"):
            lines += [f"if {draw(expressions(names, 1))}:", f"    {kind}"]
        else:
            lines += [f"if {draw(expressions(names, 1))}:", f"    return ({target}, {draw(expressions(names, 1))})"]
    return lines


def _indent(lines):
    return ["    " + line for line in lines]


@st.composite
def programs(draw, loops):
    names = PARAMS + LOCALS
    body = ["x = a", "y = b", f"z = {draw(st.sampled_from(CONSTANTS))}"]
    body += draw(blocks(names, loops, depth=2 if loops else 1, max_statements=6))
    body.append("return (x, y, z, a, b)")
    return "def generated(a, b):\n" + "\n".join(_indent(body)) + "\n"


NUMBERS = st.one_of(
    st.integers(-10, 10),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10.0, 10.0),
    st.sampled_from([0, -0.0, 0.0, float("nan"), float("inf"), -float("inf"), 2**63, -(2**63), 2**64 - 1, 1e308, 5e-324, True, False]),
)
INPUTS = st.lists(st.tuples(NUMBERS, NUMBERS), min_size=1, max_size=4)


def _compile(source):
    namespace = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace["generated"]


def _check_program(source, inputs):
    note(source)
    fn = _compile(source)
    try:
        check_calls(fn, [(args, {}) for args in inputs])
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n--- program ---\n{source}") from None


@SETTINGS
@given(source=programs(loops=False), inputs=INPUTS)
def test_straight_line_programs(source, inputs):
    _check_program(source, inputs)


@SETTINGS
@given(source=programs(loops=True), inputs=INPUTS)
def test_loop_programs(source, inputs):
    _check_program(source, inputs)


@pytest.mark.parametrize("loops", [False, True])
def test_the_grammar_makes_valid_varied_programs(loops):
    # Programs compile, and over a sample some return and some raise (both paths are tested).
    examples = []

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(programs(loops=loops))
    def collect(source):
        examples.append(source)

    collect()
    outcomes = set()
    for source in examples:
        fn = _compile(source)
        for args in [(1, 2.5), (0, -0.0), (2**70, float("nan")), (-3, 7)]:
            try:
                fn(*args)
                outcomes.add("returned")
            except Exception:
                outcomes.add("raised")
    assert outcomes == {"returned", "raised"}
    if loops:
        assert sum("for " in s or "while " in s for s in examples) > len(examples) // 2

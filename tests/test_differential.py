"""Differential tests: a broad corpus of small functions, each run by autojit.testing.check
once in CPython's interpreter and once force-compiled (threshold 0), with the result (bit for
bit, exact types), the exception and traceback, the arguments' mutation, warnings and output
compared.

Each group of functions is one parametrized test. A case states what the interpreter must do
(return, or raise a given exception type), so that the corpus keeps testing what it claims to
test; the comparison with the compiled run is the harness's job.

Functions must be repeatable (they run twice): state they change lives in their arguments or is
created inside them.
"""

import collections
import contextlib
import dataclasses
import enum
import functools
import itertools
import math
import operator
import sys
import warnings

import pytest

from autojit.testing import check, check_calls

ANY = "any outcome"  # a case that may return or raise: only the comparison matters
NAN = float("nan")
INF = float("inf")


def case(fn, *args, raises=None, **kwargs):
    """A call of fn; `raises` is the exception type the interpreter raises (None: it returns)."""
    return pytest.param(fn, args, kwargs, raises, id=fn.__name__)


def cases(fn, *arg_tuples, raises=None):
    """One case per tuple of positional arguments."""
    return [case(fn, *args, raises=raises) for args in arg_tuples]


COMPILED = collections.Counter()  # how many checked calls ran compiled code, for the summary


class _CompiledSummary:
    """Adds a line to pytest's terminal summary: in how many checked calls compiled code ran
    (a corpus that passes while nothing is compiled proves little)."""

    def pytest_terminal_summary(self, terminalreporter):
        total = COMPILED[True] + COMPILED[False]
        if total:
            terminalreporter.write_line(
                f"test_differential: compiled code ran in {COMPILED[True]} of {total} checked calls "
                "(autojit.stats()['compiled_calls'] moved during the compiled run)"
            )


@pytest.fixture(scope="module", autouse=True)
def compiled_summary(request):
    manager = request.config.pluginmanager
    if not manager.has_plugin("autojit-compiled-summary"):
        manager.register(_CompiledSummary(), "autojit-compiled-summary")
    yield


def run(fn, args, kwargs, raises):
    result = check(fn, *args, **kwargs)
    COMPILED[result.compiled_calls > 0] += 1
    if raises is ANY:
        return result
    if raises is None:
        assert result.exception is None, f"the interpreter raised {result.exception!r}"
    else:
        assert isinstance(result.exception, raises), f"expected {raises}, interpreter gave {result!r}"
    return result


def group(case_list):
    return pytest.mark.parametrize("fn,args,kwargs,raises", case_list)


# =============================================================================================
# Loads and stores: locals, constants, globals, builtins, deletes
# =============================================================================================

G_INT = 41
G_LIST = [1, 2, 3]
G_FLOAT = -0.0


def ls_locals(a, b):
    x = a
    y = b
    x, y = y, x
    z = x + y
    w = z
    return x, y, z, w


def ls_constants():
    return (None, True, False, 0, -1, 1.5, -0.0, 1e308, 5e-324, 2**100, -(2**64), 1j, "s", b"b", (1, (2, 3)), ..., frozenset({1}))


def ls_globals():
    return G_INT + 1, G_LIST, G_FLOAT


def ls_store_global(v):
    global G_STORED
    G_STORED = v
    return G_STORED, type(G_STORED)


def ls_builtins(seq):
    return len(seq), min(seq), max(seq), sum(seq), abs(-3), type(seq), isinstance(seq, list), repr(seq)


def ls_undefined_global():
    return no_such_name_anywhere  # noqa: F821


def ls_del_global():
    global G_DELETED
    G_DELETED = 1
    del G_DELETED
    return G_DELETED  # noqa: F821


def ls_del_local(x):
    y = x
    del x
    return y, x  # noqa: F821


def ls_unbound_in_branch(flag):
    if flag:
        value = "set"
    return value


def ls_del_then_rebind(x):
    out = []
    del x
    x = 5
    out.append(x)
    del x
    try:
        return x
    except UnboundLocalError as e:
        out.append(str(e))
    return out


def ls_del_twice(x):
    del x
    del x


def _many_locals_function():
    names = [f"v{i}" for i in range(300)]
    body = "".join(f"    {n} = a + {i}\n" for i, n in enumerate(names))
    body += "    return " + " + ".join(names) + "\n"
    namespace = {}
    exec(f"def ls_300_locals(a):\n{body}", namespace)
    return namespace["ls_300_locals"]


ls_300_locals = _many_locals_function()


def ls_shadowed_builtin(seq):
    len = lambda s: -1  # noqa: E731
    return len(seq)


def ls_local_shadows_global():
    G_INT = "local"
    return G_INT


LOADS_STORES = [
    *cases(ls_locals, (1, 2), (1.5, -0.0), ("a", "b"), ([1], [2])),
    case(ls_constants),
    case(ls_globals),
    *cases(ls_store_global, (1,), (2.5,), (None,)),
    *cases(ls_builtins, ([3, 1, 2],), ([2.5, -0.0, 1],)),
    case(ls_undefined_global, raises=NameError),
    case(ls_del_global, raises=NameError),
    *cases(ls_del_local, (1,), ([1],), raises=UnboundLocalError),
    case(ls_unbound_in_branch, True),
    case(ls_unbound_in_branch, False, raises=UnboundLocalError),
    case(ls_del_then_rebind, 1),
    case(ls_del_twice, 1, raises=UnboundLocalError),
    *cases(ls_300_locals, (1,), (0.5,), (2**70,)),
    case(ls_shadowed_builtin, [1, 2]),
    case(ls_local_shadows_global),
]


@group(LOADS_STORES)
def test_loads_and_stores(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Binary and in-place operators, on every kind of operand
# =============================================================================================


def op_add(a, b):
    return a + b


def op_sub(a, b):
    return a - b


def op_mul(a, b):
    return a * b


def op_truediv(a, b):
    return a / b


def op_floordiv(a, b):
    return a // b


def op_mod(a, b):
    return a % b


def op_pow(a, b):
    return a**b


def op_matmul(a, b):
    return a @ b


def op_lshift(a, b):
    return a << b


def op_rshift(a, b):
    return a >> b


def op_and(a, b):
    return a & b


def op_or(a, b):
    return a | b


def op_xor(a, b):
    return a ^ b


def op_iadd(a, b):
    a += b
    return a


def op_isub(a, b):
    a -= b
    return a


def op_imul(a, b):
    a *= b
    return a


def op_itruediv(a, b):
    a /= b
    return a


def op_ifloordiv(a, b):
    a //= b
    return a


def op_imod(a, b):
    a %= b
    return a


def op_ipow(a, b):
    a **= b
    return a


def op_imatmul(a, b):
    a @= b
    return a


def op_ilshift(a, b):
    a <<= b
    return a


def op_irshift(a, b):
    a >>= b
    return a


def op_iand(a, b):
    a &= b
    return a


def op_ior(a, b):
    a |= b
    return a


def op_ixor(a, b):
    a ^= b
    return a


class Vec:
    """A user type with the whole operator protocol, including matrix multiplication."""

    def __init__(self, *xs):
        self.xs = list(xs)

    def __repr__(self):
        return f"Vec{tuple(self.xs)}"

    def __add__(self, other):
        if isinstance(other, Vec):
            return Vec(*[a + b for a, b in zip(self.xs, other.xs)])
        if isinstance(other, (int, float)):
            return Vec(*[a + other for a in self.xs])
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, (int, float)):
            return Vec(*[other + a for a in self.xs])
        return NotImplemented

    def __matmul__(self, other):
        if isinstance(other, Vec):
            return sum(a * b for a, b in zip(self.xs, other.xs))
        return NotImplemented

    def __rmatmul__(self, other):
        if isinstance(other, list):
            return sum(a * b for a, b in zip(other, self.xs))
        return NotImplemented

    def __imatmul__(self, other):
        self.xs = [self @ other]
        return self

    def __mul__(self, k):
        return Vec(*[a * k for a in self.xs]) if isinstance(k, (int, float)) else NotImplemented

    __rmul__ = __mul__


NUMBERS = [0, 1, -7, 3, 2**63, -(2**100), True, False, 0.0, -0.0, 2.5, -1.5, NAN, INF, -INF, 1e308, 5e-324, 1 + 2j, complex(0.0, -0.0)]
OTHERS = ["ab", "", "<%s>", [1, 2], (3,), b"xy", None, {1: 2}, {4}, frozenset({4, 5}), Vec(1, 2)]
OPERANDS = NUMBERS + OTHERS
# Right operands for ** and the shifts stay small, so that no case computes a huge number.
POW_RIGHT = [0, 1, -1, 2, 3, -2, True, False, 0.5, -0.0, 2.5, NAN, INF, -INF, 1j, "ab", None, Vec(1)]
SHIFT_RIGHT = [0, 1, 3, 64, 100, -1, True, 2.5, 2**100, "ab", None, [1]]

BINARY_OPS = [op_add, op_sub, op_mul, op_truediv, op_floordiv, op_mod, op_pow, op_matmul, op_lshift, op_rshift, op_and, op_or, op_xor]
INPLACE_OPS = [op_iadd, op_isub, op_imul, op_itruediv, op_ifloordiv, op_imod, op_ipow, op_imatmul, op_ilshift, op_irshift, op_iand, op_ior, op_ixor]


def _right_operands(op):
    if op in (op_pow, op_ipow):
        return POW_RIGHT
    if op in (op_lshift, op_rshift, op_ilshift, op_irshift):
        return SHIFT_RIGHT
    return OPERANDS


OPERATOR_MATRIX = [
    pytest.param(op, left, id=f"{op.__name__}-{type(left).__name__}{index}")
    for op in BINARY_OPS + INPLACE_OPS
    for index, left in enumerate(OPERANDS)
]


@pytest.mark.parametrize("op,left", OPERATOR_MATRIX)
def test_binary_operator_matrix(op, left):
    # One compiled copy of op sees every right operand in turn: types change from call to call.
    for result in check_calls(op, [((left, right), {}) for right in _right_operands(op)]):
        COMPILED[result.compiled_calls > 0] += 1


def ar_int_overflow_loop(x, n):
    for _ in range(n):
        x = x * 3 + 1
    return x


def ar_int_overflow_steps():
    out = []
    for x in (2**62, 2**63 - 1, -(2**63), 2**31, 2**30 - 1):
        out += [x + x, x * x, x - (-x), -x, x << 1, x * -1, abs(x), x // -1]
    return out


def ar_bigint_mix(a, b):
    return a + b, a - b, a * b, a // b, a % b, divmod(a, b), a / b, a**3, -a, a & b, a | b, a ^ b, ~a


def ar_division_by_zero(kind):
    a = {"int": 1, "float": 1.0, "big": 2**100, "complex": 1j, "bool": True}[kind]
    errors = []
    for f in (operator.truediv, operator.floordiv, operator.mod, divmod):
        for zero in (0, 0.0, -0.0, False, 0j):
            try:
                f(a, zero)
            except ZeroDivisionError as e:
                errors.append(str(e))
            except TypeError as e:
                errors.append("TypeError " + str(e))
    return errors


def ar_div_zero_int(a):
    return a / 0


def ar_floordiv_zero_float(a):
    return a // 0.0


def ar_mod_zero(a):
    return a % 0


def ar_signed_zeros():
    z, n = 0.0, -0.0
    return [z + n, n + n, n - z, z - z, n * 1, z * -1, -z, -n, n * n, z / -1, n // 1, n % 5, z % -5, 5 % -1.0,
            -5 % 1.0, abs(n), n**1, math.fmod(-1.0, 1.0), round(-0.4), round(-0.4, 0), float("-0"), 0 * -1.5]


def ar_float_specials():
    out = []
    for a in (NAN, INF, -INF, 1e308, -1e308, 5e-324):
        for b in (NAN, INF, -INF, 1e308, 2.0, -0.0):
            for f in (operator.add, operator.sub, operator.mul, operator.truediv, operator.mod, operator.floordiv):
                try:
                    out.append(f(a, b))
                except (ZeroDivisionError, OverflowError) as e:
                    out.append(type(e).__name__)
    return out


def ar_int_float_mixing(n):
    return [n + 0.5, n * 1.0, n / 3, n // 2.0, n % 2.5, float(n), n == float(n), n < float(n) + 1, int(n * 1.0)]


def ar_true_division_rounding(a, b):
    return a / b


def ar_pow_edge():
    return [2**-1, (-2) ** 2, (-2) ** 0.5, 0**0, 0.0**0, 10**-300, (-8) ** (1 / 3), 2**0.5, (-1) ** INF, 1**NAN, NAN**0, pow(3, 4, 5), pow(3, -1, 7), pow(2, 100, 2**61 - 1)]


def ar_str_list_tuple_ops(s, n):
    return s * n, n * s, s + s, s[: n], [s] * n, (s,) * n, s * -1, list(s) + [n], tuple(s) + (n,)


def ar_augmented_on_container(lst):
    alias = lst
    lst += [4]
    lst *= 2
    t = (1,)
    t += (2,)
    t *= 2
    s = {1, 2}
    s |= {3}
    s &= {2, 3}
    s -= {2}
    d = {"a": 1}
    d |= {"b": 2}
    return lst is alias, alias, t, s, d


def ar_augmented_attribute_and_subscript(obj):
    obj.n += 1
    obj.items[0] += 2.5
    obj.items[-1] *= 3
    obj.d["k"] = obj.d.get("k", 0)
    obj.d["k"] -= 10
    return obj.n, obj.items, obj.d


class Box:
    def __init__(self):
        self.n = 1
        self.items = [1, 2, "x"]
        self.d = {}


class Weird:
    """Reflected operators, NotImplemented, and a subclass that wins the reflected call."""

    def __init__(self, tag):
        self.tag = tag

    def __repr__(self):
        return f"Weird({self.tag!r})"

    def __add__(self, other):
        return NotImplemented if isinstance(other, str) else ("add", self.tag, other)

    def __radd__(self, other):
        return ("radd", self.tag, other)

    def __sub__(self, other):
        return NotImplemented

    def __iadd__(self, other):
        return NotImplemented


class WeirdChild(Weird):
    def __radd__(self, other):
        return ("child-radd", self.tag, other)


def ar_protocol(a, b):
    out = []
    for f in (operator.add, operator.sub, operator.iadd, operator.mul):
        try:
            out.append(f(a, b))
        except TypeError as e:
            out.append(str(e))
    return out


def ar_operator_method_raises(x):
    class Bad:
        def __add__(self, other):
            raise ArithmeticError("bad add " + str(other))

    return Bad() + x


def ar_bool_arithmetic(t, f):
    # ~t warns (DeprecationWarning) on 3.12: the warning is compared as well.
    return [t + t, t * 3, t / 2, t // 1, t - f, -t, ~t, ~f, t & f, t | f, t ^ t, t << 3, t**2, f**f]


ARITHMETIC = [
    *cases(ar_int_overflow_loop, (1, 80), (-1, 80), (2**62, 3), (1.0, 80), (True, 5)),
    case(ar_int_overflow_steps),
    *cases(ar_bigint_mix, (2**100, 3), (-(2**100), 7), (2**64 + 1, -(2**63)), (10**40, 10**20)),
    *cases(ar_bigint_mix, (5, 0), raises=ZeroDivisionError),
    *cases(ar_division_by_zero, ("int",), ("float",), ("big",), ("complex",), ("bool",)),
    *cases(ar_div_zero_int, (1,), (1.5,), (True,), raises=ZeroDivisionError),
    *cases(ar_floordiv_zero_float, (1,), (-0.0,), raises=ZeroDivisionError),
    *cases(ar_mod_zero, (1,), (2.5,), raises=ZeroDivisionError),
    case(ar_mod_zero, "%s"),  # string formatting, not a modulo
    case(ar_signed_zeros),
    case(ar_float_specials),
    *cases(ar_int_float_mixing, (0,), (7,), (-(2**53) - 1,), (2**53 + 1,), (2**1000,)),
    *cases(ar_true_division_rounding, (1, 3), (2**53 + 1, 1), (10**30, 7), (-(10**400), 10**399), (1, 10**400)),
    case(ar_true_division_rounding, 10**400, 1, raises=OverflowError),
    case(ar_pow_edge),
    *cases(ar_str_list_tuple_ops, ("ab", 3), ("", 0), ("xyz", -2), ("é", 2)),
    case(ar_str_list_tuple_ops, "ab", 2.0, raises=TypeError),
    *cases(ar_augmented_on_container, ([1, 2],), ([],)),
    case(ar_augmented_attribute_and_subscript, Box()),
    *cases(ar_protocol, (Weird(1), 2), (1, Weird(2)), (Weird(1), WeirdChild(2)), (Weird(1), "s"), ("s", Weird(1))),
    case(ar_operator_method_raises, 1, raises=ArithmeticError),
    case(ar_bool_arithmetic, True, False),
]


@group(ARITHMETIC)
def test_arithmetic(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Unary operators
# =============================================================================================


def un_neg(a):
    return -a


def un_pos(a):
    return +a


def un_invert(a):
    return ~a


def un_not(a):
    return not a


def un_double(a):
    return -(-a), ~~a if isinstance(a, int) else None, not not a


class Signed:
    def __neg__(self):
        return "neg"

    def __pos__(self):
        return 17

    def __invert__(self):
        return -0.0

    def __bool__(self):
        return False


class BadBool:
    def __bool__(self):
        return 1  # not a bool: TypeError


class LenOnly:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


UNARY_VALUES = NUMBERS + ["", "x", [], [0], (), None, Signed(), LenOnly(0), LenOnly(2)]


@pytest.mark.parametrize("op", [un_neg, un_pos, un_invert, un_not, un_double])
def test_unary_operators(op):
    for result in check_calls(op, [((value,), {}) for value in UNARY_VALUES]):
        COMPILED[result.compiled_calls > 0] += 1


UNARY_ERRORS = [
    case(un_not, BadBool(), raises=TypeError),
    case(un_not, LenOnly(-1), raises=ValueError),
    case(un_neg, "s", raises=TypeError),
    case(un_invert, 1.5, raises=TypeError),
    case(un_pos, [1], raises=TypeError),
]


@group(UNARY_ERRORS)
def test_unary_errors(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Comparisons, chained comparisons, in / not in / is / is not
# =============================================================================================


def cmp_all(a, b):
    out = []
    for f in (operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge):
        try:
            out.append(f(a, b))
        except (TypeError, ValueError) as e:
            out.append(f"{type(e).__name__}: {e}")
    return out


def cmp_inline(a, b):
    return [a < b, a <= b, a == b, a != b, a > b, a >= b]


def cmp_chained(a, b, c):
    return a < b < c, a <= b >= c, a == b == c, a < b > c != a, a is not b is not c


def cmp_chain_short_circuit(values):
    log = []

    def v(i):
        log.append(i)
        return values[i]

    result = v(0) < v(1) < v(2) < v(3)
    return result, log


def cmp_in(x, container):
    return x in container, x not in container


def cmp_is(a, b):
    return a is b, a is not b, a is None, b is not None, a is a


class Rich:
    """Rich comparisons returning non-bools, NotImplemented, or raising."""

    def __init__(self, v):
        self.v = v

    def __repr__(self):
        return f"Rich({self.v!r})"

    def __lt__(self, other):
        return [self.v, "lt"]  # truthy non-bool

    def __gt__(self, other):
        return NotImplemented

    def __eq__(self, other):
        if isinstance(other, Rich):
            return self.v == other.v
        raise ValueError("cannot compare Rich with " + type(other).__name__)

    __hash__ = None


class Contains:
    def __contains__(self, item):
        return item  # truthiness of the item decides


class IterOnly:
    def __iter__(self):
        return iter([1, 2.5, "x"])


class GetitemOnly:
    def __getitem__(self, i):
        if i >= 3:
            raise IndexError(i)
        return i * 10


def cmp_in_loop(n):
    hits = 0
    seen = {0, 3, 6}
    for i in range(n):
        if i in seen:
            hits += 1
        if i not in (1, 2):
            hits += 10
    return hits


COMPARE_PAIRS = [
    (1, 2), (2, 1), (1, 1.0), (0.0, -0.0), (NAN, NAN), (NAN, 1), (INF, 2**1000), (2**53 + 1, float(2**53)),
    (2**53 + 1, 2**53 + 1.0), (-(2**100), -1e30), (True, 1), (1j, 1j), (1j, 2j), ("a", "b"), ("a", 1), ([1, 2], [1, 3]),
    ([1, NAN], [1, NAN]), ((1, 2), (1, 2, 3)), ({1}, {1, 2}), ({1: 2}, {1: 2}), (None, None), (None, 0), (b"a", "a"),
    (Rich(1), Rich(1)), (Rich(1), 3), (3, Rich(1)),
]

COMPARISONS = [
    *[case(cmp_all, a, b) for a, b in COMPARE_PAIRS],
    *[case(cmp_inline, a, b, raises=ANY) for a, b in COMPARE_PAIRS],
    *cases(cmp_chained, (1, 2, 3), (3, 2, 1), (1, 1, 1), (1.0, 2, 2.5), (NAN, 0, NAN), ("a", "b", "c"), (2**70, 2**71, 2**70)),
    case(cmp_chained, 1, "a", 2, raises=TypeError),
    *cases(cmp_chain_short_circuit, ([1, 2, 3, 4],), ([1, 0, 3, 4],), ([1, 2, 3, 0],), ([NAN, 1, 2, 3],)),
    *cases(cmp_in, (1, [1, 2]), (1.0, [1, 2]), (NAN, [NAN]), (3, (1, 2)), ("b", "abc"), ("", "abc"), ("k", {"k": 1}),
           (1, {1.0}), (5, range(0, 10, 5)), (5.0, range(10)), (7, Contains()), (0, Contains()), (2.5, IterOnly()),
           (20, GetitemOnly()), (25, GetitemOnly()), (Rich(1), [Rich(2), Rich(1)])),
    case(cmp_in, [1], {1: 2}, raises=TypeError),
    case(cmp_in, 1, "abc", raises=TypeError),
    case(cmp_in, 1, 5, raises=TypeError),
    case(cmp_in, 1, [Rich(1)], raises=ValueError),
    *cases(cmp_is, (None, None), (1, 1), ([], []), ("a", "a"), (NAN, NAN), (True, 1)),
    *cases(cmp_in_loop, (10,), (0,)),
]


@group(COMPARISONS)
def test_comparisons(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Truthiness, and / or short-circuit
# =============================================================================================


def tr_truth(x):
    return bool(x), not x, (1 if x else 0), x and "and", x or "or"


def tr_short_circuit(a, b):
    log = []

    def t(name, value):
        log.append(name)
        return value

    r1 = t("a", a) and t("b", b)
    r2 = t("a", a) or t("b", b)
    r3 = (t("a", a) and t("b", b)) or t("c", "c")
    r4 = not (t("a", a) or t("b", b)) and t("d", 0.0)
    return r1, r2, r3, r4, log


def tr_if_chain(x):
    if x:
        return "truthy"
    elif x is None:
        return "none"
    else:
        return "falsy"


def tr_while_truth(items):
    n = 0
    while items:
        items.pop()
        n += 1
    return n, items


TRUTH_VALUES = [0, 1, -0.0, 0.0, NAN, 0j, 1j, 2**100, "", "0", [], [0], (), {}, {0: 0}, set(), None, True, False,
                Signed(), LenOnly(0), LenOnly(3), range(0), range(1), b""]

TRUTHINESS = [
    *[case(tr_truth, x) for x in TRUTH_VALUES],
    case(tr_truth, BadBool(), raises=TypeError),
    *[case(tr_short_circuit, a, b) for a in (0, 1, "", [0]) for b in (0.0, "x", None)],
    *cases(tr_if_chain, (1,), (0,), (None,), (NAN,), ("",), (LenOnly(0),)),
    *cases(tr_while_truth, ([1, 2, 3],), ([],)),
]


@group(TRUTHINESS)
def test_truthiness(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Control flow: if / elif / else, while, for over everything, break / continue / else
# =============================================================================================


def cf_classify(n):
    if n < 0:
        kind = "negative"
    elif n == 0:
        kind = "zero"
    elif n < 10:
        kind = "small"
    elif n < 1000:
        kind = "medium"
    else:
        kind = "large"
    return kind


def cf_while_break_continue_else(limit, stop):
    i = 0
    out = []
    while i < limit:
        i += 1
        if i % 3 == 0:
            continue
        if i == stop:
            out.append("break")
            break
        out.append(i)
    else:
        out.append("else")
    return out, i


def cf_for_else(seq, target):
    for index, item in enumerate(seq):
        if item == target:
            found = index
            break
    else:
        found = -1
    return found


def cf_range_forms(a, b, c):
    return (list(range(a)), list(range(a, b)), list(range(a, b, c)), list(range(b, a, -c)), sum(range(a, b, c)), len(range(a, b, c)))


def cf_range_loop(start, stop, step):
    total = 0
    count = 0
    last = None
    for i in range(start, stop, step):
        total += i
        count += 1
        last = i
    return total, count, last


def cf_iterate(obj):
    out = []
    for item in obj:
        out.append(item)
    return out


def cf_dict_views(d):
    keys, values, pairs = [], [], []
    for k in d:
        keys.append(k)
    for v in d.values():
        values.append(v)
    for k, v in d.items():
        pairs.append((k, v))
    return keys, values, pairs


def cf_generator_source(n):
    def gen():
        for i in range(n):
            yield i * i

    total = 0
    for sq in gen():
        total += sq
    return total


class Countdown:
    """A custom iterator."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n


class Exploding:
    """An iterator that raises after `after` items."""

    def __init__(self, after):
        self.i = 0
        self.after = after

    def __iter__(self):
        return self

    def __next__(self):
        if self.i == self.after:
            raise ValueError(f"exploded after {self.i}")
        self.i += 1
        return self.i


def cf_exploding_iterator(after):
    seen = []
    for x in Exploding(after):
        seen.append(x)
    return seen


def cf_exploding_generator(after):
    def gen():
        yield 1
        yield 2
        if after:
            raise KeyError("midway")
        yield 3

    return [x * 2 for x in gen()]


def cf_exploding_caught(after):
    seen = []
    try:
        for x in Exploding(after):
            seen.append(x)
    except ValueError as e:
        seen.append(str(e))
    return seen


def cf_nested_loops(n):
    out = []
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            if (i + j) % 2:
                continue
            out.append((i, j))
        else:
            out.append("inner-else")
    return out


def cf_nested_while_in_for(words):
    counts = {}
    for w in words:
        i = 0
        while i < len(w):
            ch = w[i]
            counts[ch] = counts.get(ch, 0) + 1
            i += 1
    return counts


def cf_mutate_dict_while_iterating(d):
    for k in d:
        d[k + "x"] = 1


def cf_mutate_list_while_iterating(lst):
    for x in lst:
        if len(lst) < 10:
            lst.append(x * 2)
    return lst


def cf_builtin_iterators(seq):
    return (list(enumerate(seq, 1)), list(zip(seq, reversed(seq))), sorted(seq), list(map(str, seq)),
            list(filter(None, seq)), list(itertools.islice(itertools.cycle(seq), 7)) if seq else [])


def cf_for_over_non_iterable(x):
    for _ in x:
        pass


def cf_loop_variable_after_loop(n):
    for i in range(n):
        pass
    return i


def cf_return_from_loop(seq):
    for i, x in enumerate(seq):
        while True:
            if x > 2:
                return ("found", i, x)
            break
    return None


CONTROL_FLOW = [
    *cases(cf_classify, (-5,), (0,), (7,), (500,), (10**20,), (-0.0,), (NAN,), (2.5,)),
    *cases(cf_while_break_continue_else, (10, 7), (10, 99), (0, 1), (10, 3)),
    *cases(cf_for_else, ([1, 2, 3], 2), ([1, 2, 3], 9), ([], 1), ("abc", "c")),
    *cases(cf_range_forms, (5, 15, 3), (0, 0, 1), (-3, 4, 2), (10, -10, 4)),
    case(cf_range_forms, 2**63, 2**63 + 10, 3, raises=OverflowError),  # range(2**63) has no len()
    case(cf_range_forms, 1, 2, 0, raises=ValueError),
    case(cf_range_forms, 1, 2.0, 1, raises=TypeError),
    *cases(cf_range_loop, (0, 10, 1), (10, 0, -1), (10, 0, -3), (5, 5, 1), (-20, 20, 7), (0, 1000, 1), (2**62, 2**62 + 5, 2),
           (2**64, 2**64 - 10, -3), (0, -1, 1)),
    *cases(cf_iterate, ([1, "a", 2.5],), ((1, 2),), ("héllo",), (b"ab",), ({3, 1},), ({"x": 1, "y": 2},), (range(3),),
           (Countdown(4),), (IterOnly(),), (GetitemOnly(),), (collections.deque([1, 2]),), (bytearray(b"xy"),)),
    *cases(cf_dict_views, ({"a": 1, "b": -0.0, 3: [4]},), ({},)),
    *cases(cf_generator_source, (0,), (10,), (300,)),
    *cases(cf_exploding_iterator, (0,), (3,), raises=ValueError),
    *cases(cf_exploding_generator, (True,), raises=KeyError),
    case(cf_exploding_generator, False),
    *cases(cf_exploding_caught, (2,), (0,)),
    *cases(cf_nested_loops, (0,), (4,), (7,)),
    case(cf_nested_while_in_for, ["abc", "", "banana"]),
    case(cf_mutate_dict_while_iterating, {"a": 1}, raises=RuntimeError),
    *cases(cf_mutate_list_while_iterating, ([1, 2],), ([],)),
    *cases(cf_builtin_iterators, ([3, 0, 1],), ([],), ("bca",)),
    *cases(cf_for_over_non_iterable, (5,), (None,), (2.5,), raises=TypeError),
    case(cf_loop_variable_after_loop, 3),
    case(cf_loop_variable_after_loop, 0, raises=UnboundLocalError),
    *cases(cf_return_from_loop, ([1, 2, 3, 4],), ([0],)),
]


@group(CONTROL_FLOW)
def test_control_flow(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Long loops: compiled during their first call (loop_threshold 0), with types changing midway
# =============================================================================================


def lp_int_to_bigint(n):
    x = 1
    for i in range(n):
        x = x * 2 + (i & 1)
    return x


def lp_int_to_float(n):
    x = 0
    for i in range(n):
        if i == n // 2:
            x = x + 0.5
        x = x + i
    return x, type(x)


def lp_float_accumulate(n):
    s = 0.0
    p = 1.0
    for i in range(1, n):
        s += 1.0 / i
        p *= 1.0001
        if p > 1e300:
            p = -0.0
    return s, p


def lp_while_newton(x):
    guess = x / 2.0 if x else 1.0
    steps = 0
    while steps < 100 and abs(guess * guess - x) > 1e-12:
        guess = (guess + x / guess) / 2.0
        steps += 1
    return guess, steps


def lp_collatz(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def lp_sieve(n):
    flags = [True] * (n + 1)
    flags[0:2] = [False, False]
    i = 2
    while i * i <= n:
        if flags[i]:
            for j in range(i * i, n + 1, i):
                flags[j] = False
        i += 1
    return [i for i, f in enumerate(flags) if f]


def lp_polymorphic(values):
    total = 0
    for v in values:
        total = total + v
    return total


def lp_fib_iter(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def lp_matrix_mult(a, b):
    n, m, p = len(a), len(b), len(b[0])
    out = [[0.0] * p for _ in range(n)]
    for i in range(n):
        for j in range(p):
            s = 0.0
            for k in range(m):
                s += a[i][k] * b[k][j]
            out[i][j] = s
    return out


def lp_error_late(n):
    total = 0
    for i in range(n):
        total += 10 // (n - 1 - i) if i != n - 1 else 10 // 0
    return total


LONG_LOOPS = [
    *cases(lp_int_to_bigint, (10,), (70,), (300,)),
    *cases(lp_int_to_float, (1000,), (3,)),
    *cases(lp_float_accumulate, (10000,), (2,)),
    *cases(lp_while_newton, (2.0,), (1e-300,), (0.0,), (1e300,), (2,), (10**30,)),
    *cases(lp_collatz, (27,), (97,), (2**70 + 1,)),
    *cases(lp_sieve, (100,), (1000,)),
    *cases(lp_polymorphic, ([1, 2, 3] * 100 + [0.5] + [2**80] * 3,), ([True, 1, 1.5, 1j],)),
    case(lp_polymorphic, [1, 2, "x"], raises=TypeError),
    *cases(lp_fib_iter, (10,), (100,), (1000,)),
    case(lp_matrix_mult, [[1.0, 2.0], [3.0, 4.0]], [[-0.0, 1.0], [1.0, 0.0]]),
    case(lp_matrix_mult, [[1, 2], [3, 4]], [[5, 6], [7, 8]]),
    case(lp_error_late, 500, raises=ZeroDivisionError),
]


@group(LONG_LOOPS)
def test_long_loops(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Calls: every form, and the errors of each
# =============================================================================================


def callee(a, b=2, *args, c, d=4, **kw):
    return a, b, args, c, d, kw


def posonly(a, b, /, c=3):
    return a, b, c


def kwonly(*, x, y=-0.0):
    return x, y


def ca_positional(a, b):
    return callee(a, b, c=0), callee(a, c=1), callee(a, b, 7, 8, c=9)


def ca_keywords(a):
    return callee(a=a, c=1), callee(c=1, b=5, a=a), callee(a, d=0.5, c=1, extra=2, more=3)


def ca_star(args, kwargs):
    return callee(*args, c=0, **kwargs), callee(*args, *args, c=1), callee(0, *args, **kwargs, c=2), callee(*args, **{"c": 5, **kwargs})


def ca_posonly(a, b):
    return posonly(a, b), posonly(a, b, c=9), posonly(a, b, 1)


def ca_posonly_by_keyword():
    return posonly(1, b=2)


def ca_kwonly():
    return kwonly(x=1), kwonly(y=2, x=3)


def ca_kwonly_positional():
    return kwonly(1)


def ca_missing_argument():
    return callee(1)


def ca_missing_positional():
    return posonly(1)


def ca_too_many():
    return posonly(1, 2, 3, 4)


def ca_unexpected_keyword():
    return kwonly(x=1, z=2)


def ca_duplicate_keyword():
    kwargs = {"c": 1}
    return callee(1, c=2, **kwargs)


def ca_multiple_values():
    return posonly(1, 2, 3, c=4)


def ca_non_string_keywords():
    return callee(1, **{1: 2})


def ca_star_non_iterable():
    return callee(*5, c=1)


def ca_doublestar_non_mapping():
    return callee(1, **[1])


class Greeter:
    count = 0

    def __init__(self, name):
        self.name = name

    def greet(self, greeting="hello"):
        return f"{greeting}, {self.name}"

    @staticmethod
    def static(x):
        return x * 2

    @classmethod
    def build(cls, name):
        return cls(name.upper())

    def __call__(self, *args):
        return ("called", self.name, args)


def ca_methods(name):
    g = Greeter(name)
    bound = g.greet
    return (g.greet(), g.greet("hi"), g.greet(greeting="yo"), Greeter.greet(g), bound(), Greeter.static(3), g.static(4),
            Greeter.build(name).name, g.build("x").name, g(1, 2), type(bound).__name__)


def ca_builtin_calls(seq):
    return (len(seq), sorted(seq, key=lambda x: -x), max(seq, default=None), min(*seq) if len(seq) > 1 else None,
            sum(seq, 0.5), list(map(abs, seq)), "-".join(map(str, seq)), divmod(7, 2), round(2.675, 2), int("42", 16),
            isinstance(seq, (list, tuple)), getattr(seq, "count")(1), dict(a=1, **{"b": 2}), print("out", *seq, sep="|"))


def ca_c_methods(s):
    parts = s.split(",")
    parts.append("end")
    d = {}
    d.setdefault("k", []).append(len(parts))
    return parts, s.upper(), s.replace(",", ";", 1), d.get("k"), d.get("missing", -0.0), " ".join(parts).title()


def ca_lambdas(x):
    sq = lambda v: v * v  # noqa: E731
    add = lambda a, b=10, *rest, k=1: a + b + sum(rest) + k  # noqa: E731
    return sq(x), add(x), add(x, 1, 2, 3, k=0), (lambda: x)(), list(map(lambda v: v + 1, [x, x]))


def ca_closures(n):
    def make_adder(k):
        def add(v):
            return v + k

        return add

    adders = [make_adder(i) for i in range(n)]
    return [f(100) for f in adders]


def ca_recursion(n):
    def fib(k):
        return k if k < 2 else fib(k - 1) + fib(k - 2)

    return fib(n)


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def ca_not_callable(x):
    return x(1)


def ca_partial():
    p = functools.partial(callee, 1, c=2)
    return p(), p(3, d=4), p.func is callee


def ca_classes_called():
    return int("7"), float("-0"), complex(1, -0.0), str(5), list("ab"), dict([(1, 2)]), Greeter("x").name, type(3), object.__new__(Greeter).__class__


def ca_super():
    class Base:
        def who(self, x):
            return ["base", x]

    class Child(Base):
        def who(self, x):
            return super().who(x) + ["child"]

    class Grand(Child):
        def who(self, x):
            return super(Child, self).who(x * 2) + super().who(x)

    return Grand().who(1)


def ca_many_arguments():
    def f(*args, **kwargs):
        return len(args), sum(args), sorted(kwargs.items())[:3]

    args = list(range(300))
    kwargs = {f"k{i}": i for i in range(300)}
    return f(*args, **kwargs), f(*args), max(*args)


def ca_keyword_to_builtin():
    return sorted([3, 1], reverse=True), int("11", base=2), "a,b".split(sep=","), print("x", end="!\n")


def ca_builtin_wrong_keyword():
    return len(obj=[1])


def ca_default_evaluated_once():
    def f(x, acc=[]):  # noqa: B006 - the shared default is the point
        acc.append(x)
        return list(acc)

    return f(1), f(2), f(3, [])


CALLS = [
    *cases(ca_positional, (1, 2), ("a", [3])),
    *cases(ca_keywords, (1,), (-0.0,)),
    *cases(ca_star, ((1, 2), {"d": 3}), ((1,), {"e": 5}), ([1, 2, 3], {})),
    case(ca_star, (), {}, raises=TypeError),
    case(ca_star, (1,), {"c": 1}, raises=TypeError),
    *cases(ca_posonly, (1, 2),),
    case(ca_posonly_by_keyword, raises=TypeError),
    case(ca_kwonly),
    case(ca_kwonly_positional, raises=TypeError),
    case(ca_missing_argument, raises=TypeError),
    case(ca_missing_positional, raises=TypeError),
    case(ca_too_many, raises=TypeError),
    case(ca_unexpected_keyword, raises=TypeError),
    case(ca_duplicate_keyword, raises=TypeError),
    case(ca_multiple_values, raises=TypeError),
    case(ca_non_string_keywords, raises=TypeError),
    case(ca_star_non_iterable, raises=TypeError),
    case(ca_doublestar_non_mapping, raises=TypeError),
    *cases(ca_methods, ("ann",), ("",)),
    *cases(ca_builtin_calls, ([3, 1, 2],), ([1.5, -0.0],)),
    case(ca_builtin_calls, []),
    *cases(ca_c_methods, ("a,b,c",), ("",)),
    *cases(ca_lambdas, (3,), (1.5,)),
    case(ca_lambdas, "s", raises=TypeError),
    *cases(ca_closures, (0,), (5,)),
    *cases(ca_recursion, (0,), (15,)),
    *cases(fact, (0,), (20,), (30,), (100,)),
    *cases(ackermann, (2, 3), (1, 10)),
    *cases(is_even, (10,), (101,)),
    *cases(ca_not_callable, (1,), (None,), ("s",), raises=TypeError),
    case(ca_not_callable, Greeter("g")),
    case(ca_partial),
    case(ca_classes_called),
    case(ca_super),
    case(ca_many_arguments),
    case(ca_keyword_to_builtin),
    case(ca_builtin_wrong_keyword, raises=TypeError),
    case(ca_default_evaluated_once),
    case(callee, 1, 2, 3, c=4, z=5),
    case(callee, a=1, c=2),
    case(kwonly, x=[1]),
]


@group(CALLS)
def test_calls(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Attributes: get / set / delete, properties, __getattr__, slots, descriptors, error messages
# =============================================================================================


class Point:
    kind = "point"

    def __init__(self, x, y):
        self.x = x
        self.y = y

    @property
    def norm2(self):
        return self.x * self.x + self.y * self.y

    @property
    def doubled(self):
        return self.x * 2

    @doubled.setter
    def doubled(self, value):
        self.x = value / 2

    @doubled.deleter
    def doubled(self):
        del self.x

    @property
    def broken(self):
        raise AttributeError("broken property")


class Dynamic:
    def __init__(self):
        self.real = 1

    def __getattr__(self, name):
        if name.startswith("dyn_"):
            return name[4:] * 2
        raise AttributeError(f"{type(self).__name__!r} has no {name!r} (custom)")


class Guarded:
    def __setattr__(self, name, value):
        if name == "locked":
            raise AttributeError("locked is read-only")
        object.__setattr__(self, name, value * 10 if isinstance(value, int) else value)

    def __delattr__(self, name):
        raise TypeError(f"cannot delete {name}")

    def __getattribute__(self, name):
        if name == "magic":
            return 42
        return object.__getattribute__(self, name)


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1


class Clamp:
    """A data descriptor."""

    def __set_name__(self, owner, name):
        self.name = "_" + name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.name, 0)

    def __set__(self, obj, value):
        setattr(obj, self.name, max(0, min(100, value)))


class Gauge:
    level = Clamp()


def at_get_set(p):
    p.x = p.x + 1
    p.z = "new"
    return p.x, p.y, p.z, p.kind, p.norm2, Point.kind, type(p).kind


def at_property_setter_deleter(p):
    p.doubled = 10
    a = p.x
    del p.doubled
    return a, hasattr(p, "x"), p.doubled if hasattr(p, "x") else "gone"


def at_property_raises(p):
    return p.broken


def at_instance_shadows_class(p):
    before = p.kind
    p.kind = "mine"
    after = p.kind
    del p.kind
    return before, after, p.kind


def at_getattr_fallback(obj):
    return obj.real, obj.dyn_ab, getattr(obj, "dyn_x", None), hasattr(obj, "nothing"), getattr(obj, "nothing", "default")


def at_getattr_error(obj):
    return obj.nothing


def at_setattr_override(obj):
    obj.a = 3
    obj.b = "s"
    return obj.a, obj.b, obj.magic, vars(obj)


def at_setattr_raises(obj):
    obj.locked = 1


def at_delattr_raises(obj):
    del obj.anything


def at_slots(s):
    s.b = 2
    out = [s.a, s.b]
    del s.a
    out.append(hasattr(s, "a"))
    return out


def at_slots_undeclared(s):
    s.c = 3


def at_slots_unset(s):
    return s.b


def at_descriptor(g):
    g.level = 150
    high = g.level
    g.level = -5
    return high, g.level, type(Gauge.__dict__["level"]).__name__


def at_builtin_attribute_errors(which):
    if which == 0:
        return (1).nope
    if which == 1:
        return None.upper
    if which == 2:
        (5).real = 3
    if which == 3:
        [].append = 1
    if which == 4:
        return math.nope
    if which == 5:
        return "s".uper()
    if which == 6:
        del [].append
    if which == 7:
        return Point.nope


def at_missing_instance_attribute(p):
    return p.zz


def at_delete_missing(p):
    del p.zz


def at_module_and_class_attributes():
    return math.pi, math.inf, sys.maxsize, int.__name__, Point.__name__, Point.__qualname__, Point.norm2.__class__.__name__, len.__name__


def at_method_objects(p):
    m1 = p.__init__
    m2 = p.__init__
    return m1 == m2, m1 is m2, m1.__self__ is p, m1.__func__ is Point.__init__


def at_attribute_in_loop(points):
    total = 0.0
    for p in points:
        total += p.x * p.y
        p.x, p.y = p.y, p.x
    return total


ATTRIBUTES = [
    *cases(at_get_set, (Point(1, 2),), (Point(1.5, -0.0),), (Point(2**70, 1),)),
    case(at_get_set, Point("a", "b"), raises=TypeError),
    case(at_property_setter_deleter, Point(1, 2)),
    case(at_property_raises, Point(1, 2), raises=AttributeError),
    case(at_instance_shadows_class, Point(0, 0)),
    case(at_getattr_fallback, Dynamic()),
    case(at_getattr_error, Dynamic(), raises=AttributeError),
    case(at_setattr_override, Guarded()),
    case(at_setattr_raises, Guarded(), raises=AttributeError),
    case(at_delattr_raises, Guarded(), raises=TypeError),
    case(at_slots, Slotted()),
    case(at_slots_undeclared, Slotted(), raises=AttributeError),
    case(at_slots_unset, Slotted(), raises=AttributeError),
    case(at_descriptor, Gauge()),
    *cases(at_builtin_attribute_errors, (0,), (1,), (2,), (3,), (4,), (5,), (6,), (7,), raises=AttributeError),
    case(at_missing_instance_attribute, Point(1, 2), raises=AttributeError),
    case(at_delete_missing, Point(1, 2), raises=AttributeError),
    case(at_module_and_class_attributes),
    case(at_method_objects, Point(1, 2)),
    case(at_attribute_in_loop, [Point(i, i + 0.5) for i in range(50)]),
]


@group(ATTRIBUTES)
def test_attributes(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Subscripts and slices: get / set / del on lists, dicts, strings, custom types; errors
# =============================================================================================


def sb_list_get(lst, i):
    return lst[i], lst[-1], lst[1:], lst[:i], lst[::2], lst[::-1], lst[i:-1:2], lst[-100:100], lst[5:1]


def sb_list_set(lst):
    lst[0] = "first"
    lst[-1] = -0.0
    lst[1:3] = ["a", "b", "c", "d"]
    lst[::3] = [None] * len(lst[::3])
    lst[len(lst):] = [99]
    lst[:0] = [True]
    return lst


def sb_list_del(lst):
    del lst[0]
    del lst[-1]
    del lst[::2]
    del lst[100:]
    return lst


def sb_extended_slice_wrong_size(lst):
    lst[::2] = [1]


def sb_index(seq, i):
    return seq[i]


def sb_store(seq, i, value):
    seq[i] = value
    return seq


def sb_delete(seq, i):
    del seq[i]
    return seq


class Grid:
    """Custom __getitem__/__setitem__/__delitem__ that records what it was given."""

    def __init__(self):
        self.log = []
        self.data = {}

    def __getitem__(self, key):
        self.log.append(("get", key))
        if key == "missing":
            raise KeyError(key)
        return self.data.get(repr(key), 0)

    def __setitem__(self, key, value):
        self.log.append(("set", key, value))
        self.data[repr(key)] = value  # slices are unhashable before 3.12

    def __delitem__(self, key):
        self.log.append(("del", key))
        self.data.pop(repr(key), None)


def sb_custom(g):
    g[1] = "a"
    g[1, 2] = "tuple key"
    g[1:2] = "slice"
    g[::-1] = "step"
    x = g[1], g[1, 2], g[1:2], g[:, 3], g[...]
    g[1] += "b"
    del g[1:2]
    return x, g.log, g.data


def sb_dict_ops(d):
    d["new"] = 1
    d[1.0] = "float key replaces value, keeps key"
    d[(1, 2)] = [3]
    d[(1, 2)].append(4)
    value = d.pop("gone", "default")
    del d["new"]
    return d, value, d.get(1), d.setdefault("s", -0.0), list(d)


class DefaultingDict(dict):
    def __missing__(self, key):
        return f"missing:{key}"


def sb_missing(d):
    return d["a"], d["zz"], d.get("zz"), "zz" in d


def sb_defaultdict():
    dd = collections.defaultdict(list)
    for w in ["apple", "avocado", "banana", "cherry", "blueberry"]:
        dd[w[0]].append(w)
    counter = collections.Counter("mississippi")
    return dict(dd), counter["s"], counter["z"], counter.most_common(2)


def sb_string(s, i):
    return s[i], s[-1], s[1:4], s[::-1], s[::2], s[i:], s[:-1]


def sb_str_assign(s):
    s[0] = "x"


def sb_bytes(b):
    return b[0], b[-1], b[1:], b[::-1], list(b)


def sb_bytearray(b):
    b[0] = 65
    b[1:2] = b"ZZZ"
    del b[-1]
    return b


def sb_nested(data):
    data["rows"][0][1] += 1
    data["rows"][-1].append(data["rows"][0][1:])
    data["cfg"]["depth"] = data["cfg"].get("depth", 0) + 1
    return data


class Idx:
    def __init__(self, i):
        self.i = i

    def __index__(self):
        return self.i


def sb_index_protocol(lst):
    return lst[Idx(1)], lst[Idx(-1)], lst[Idx(0):Idx(2)], "abc"[Idx(2)], range(10)[Idx(3)]


def sb_range_and_tuple(r, t):
    return r[2], r[-1], r[1:3], r[::-1], t[1], t[1:], t[::-1]


def sb_not_subscriptable(x):
    return x[0]


def sb_slice_objects(lst):
    s = slice(1, None, 2)
    return lst[s], s.indices(len(lst)), lst[slice(None)], lst[slice(-2, None)]


SUBSCRIPTS = [
    *cases(sb_list_get, ([1, 2, 3, 4, 5], 2), (list(range(20)), -5), (["a"], 0)),
    *cases(sb_list_set, ([1, 2, 3, 4, 5, 6],), ([0, 0],)),
    case(sb_list_del, list(range(10))),
    case(sb_extended_slice_wrong_size, [1, 2, 3], raises=ValueError),
    *cases(sb_index, ([1, 2, 3], 3), ([1, 2, 3], -4), ([], 0), ("abc", 10), ((1,), 1), (range(3), 3), raises=IndexError),
    *cases(sb_index, ([1, 2], 2**63), ([1, 2], 2**100), raises=IndexError),
    *cases(sb_index, ([1, 2], 1.0), ([1, 2], "0"), ((1, 2), None), ("abc", 1.5), raises=TypeError),
    *cases(sb_index, ({"a": 1}, "b"), ({1: 2}, 1.5), ({(1, 2): 3}, (1,)), raises=KeyError),
    case(sb_index, {}, [1], raises=TypeError),
    *cases(sb_index, ([1, 2], True), ([1, 2], False), ({1: "one"}, True), ({0.0: "zero"}, -0.0), ({NAN: 1}, NAN)),
    case(sb_index, {NAN: 1}, float("nan"), raises=KeyError),
    *cases(sb_store, ([1, 2], 5, 0), ([], 0, 0), raises=IndexError),
    *cases(sb_store, ((1, 2), 0, 0), ("ab", 0, "x"), raises=TypeError),
    *cases(sb_store, ({}, [1], 0), raises=TypeError),
    *cases(sb_store, ([1, 2], -1, 9), ({}, 1, 2), ({1: 1}, 1.0, 2)),
    *cases(sb_delete, ([1], 1), raises=IndexError),
    *cases(sb_delete, ({1: 1}, 2), raises=KeyError),
    *cases(sb_delete, ([1, 2], 0), ({1: 1, 2: 2}, 1)),
    case(sb_custom, Grid()),
    case(sb_index, Grid(), "missing", raises=KeyError),
    *cases(sb_dict_ops, ({1: "one", "gone": 5, "x": None},), ({},)),
    case(sb_missing, DefaultingDict(a=1)),
    case(sb_defaultdict),
    *cases(sb_string, ("hello", 1), ("héllo wörld", -3), ("x", 0)),
    case(sb_str_assign, "abc", raises=TypeError),
    case(sb_bytes, b"abc"),
    case(sb_bytearray, bytearray(b"abcd")),
    case(sb_nested, {"rows": [[1, 2, 3], [4]], "cfg": {}}),
    case(sb_index_protocol, [10, 20, 30]),
    case(sb_range_and_tuple, range(0, 20, 3), (1, "b", 2.5)),
    *cases(sb_not_subscriptable, (1,), (None,), (2.5,), (len,), raises=TypeError),
    case(sb_slice_objects, list(range(7))),
]


@group(SUBSCRIPTS)
def test_subscripts_and_slices(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Building containers, comprehensions, f-strings and string building
# =============================================================================================


def bd_displays(a, b):
    return (a, b), [a, b], {a: b, b: a}, {a, b}, (), [], {}, (a,), [*range(3), *"ab"], (*[a], *(b,)), {**{"x": 1}, "y": 2, **{"x": 3}}, {*[a, a], b}


def bd_key_collisions():
    d = {1: "int", 1.0: "float", True: "bool"}
    s = {1, 1.0, True}
    s2 = {0.0, -0.0, 0, False}
    d2 = {-0.0: "neg", 0.0: "pos"}
    return d, s, s2, d2, list(d)[0], type(list(s)[0]), type(list(s2)[0])


def bd_unhashable():
    return {[1]: 2}


def bd_unhashable_set():
    return {1, {}}


def bd_comprehensions(n):
    squares = [i * i for i in range(n)]
    evens = [i for i in range(n) if i % 2 == 0 if i % 3]
    pairs = [(i, j) for i in range(3) for j in range(i)]
    uniq = {i % 3 for i in range(n)}
    table = {i: str(i) * i for i in range(4)}
    nested = [[j for j in range(i)] for i in range(4)]
    gen = sum(i / 2 for i in range(n))
    flat = [x for row in nested for x in row]
    return squares, evens, pairs, uniq, table, nested, gen, flat


def bd_comprehension_scope(x):
    values = [x for x in range(3)]
    return x, values, [x * y for y in range(3)], {k: x for k in "ab"}


def bd_comprehension_with_closure(n):
    fns = [lambda i=i: i * n for i in range(3)]
    late = [lambda: i for i in range(3)]  # noqa: B023 - late binding is the point
    return [f() for f in fns], [f() for f in late]


def bd_generator_expression(items):
    gen = (x * 2 for x in items if x)
    first = next(gen)
    return first, list(gen), any(x > 2 for x in items), all(x for x in items), max((x for x in items), default=None)


def bd_comprehension_raises(items):
    return [1 / x for x in items]


def bd_fstrings(x, width):
    return [
        f"{x}", f"{x!r}", f"{x!s}", f"{x!a}", f"[{x:>10}]", f"[{x:<{width}}]", f"{x=}", f"{x = !r:^12}",
        f"{'nested ' + str(x)}", f"{{literal}} {x}", f"{x}{x}{x}",
    ]


def bd_number_formats(v):
    return [f"{v:.3f}", f"{v:,}", f"{v:+.2e}", f"{v:%}", f"{v:g}", f"{v:010.2f}", f"{v:_}", f"{v:.0f}", f"{v!r:>8}", format(v, ""), repr(v), str(v)]


def bd_int_formats(n):
    return [f"{n:#x}", f"{n:#o}", f"{n:#b}", f"{n:08d}", f"{n:,d}", f"{n:c}" if 0 <= n < 0x110000 else "", f"{n:X}", f"{n:+d}", f"{n:e}"]


def bd_format_errors(v, spec):
    return format(v, spec)


def bd_string_building(words):
    s = ""
    for w in words:
        s += w
        s = s + "-"
    parts = []
    for i, w in enumerate(words):
        parts.append("%s=%r" % (i, w))
    return s, "|".join(parts), "%d%%" % len(words), "%(a)s/%(b)05.1f" % {"a": "x", "b": 2.25}, "{} {name}".format(1, name="n")


class Fancy:
    def __repr__(self):
        return "Fancy<é>"

    def __str__(self):
        return "fancy"

    def __format__(self, spec):
        return f"F[{spec}]"


BUILDING = [
    *cases(bd_displays, (1, 2), ("a", -0.0), ((1,), 1)),
    case(bd_key_collisions),
    case(bd_unhashable, raises=TypeError),
    case(bd_unhashable_set, raises=TypeError),
    *cases(bd_comprehensions, (0,), (10,)),
    *cases(bd_comprehension_scope, ("outer",),),
    *cases(bd_comprehension_with_closure, (2,),),
    *cases(bd_generator_expression, ([1, 0, 3],), ([2],)),
    case(bd_generator_expression, [], raises=StopIteration),
    case(bd_comprehension_raises, [1, 2, 0, 4], raises=ZeroDivisionError),
    *cases(bd_fstrings, (1, 5), ("é\n", 3), (-0.0, 6), (Fancy(), 2)),
    *cases(bd_fstrings, ([1, "a"], 4), (None, 0), raises=TypeError),  # object.__format__ with a spec
    *cases(bd_number_formats, (0.1,), (-0.0,), (1234567.891,), (NAN,), (-INF,), (1e-300,), (12345,), (True,)),
    *cases(bd_int_formats, (255,), (-255,), (0,), (2**70,), (65,)),
    *cases(bd_format_errors, (1.5, "d"), ("s", "d"), (1, "z"), (1, ".2q"), raises=ValueError),
    *cases(bd_format_errors, (Fancy(), "abc"), (2**64, "_x"), (NAN, "+08.3f"), (1.5, "=^11,.1f")),
    *cases(bd_string_building, (["a", "bb", ""],), ([],)),
]


@group(BUILDING)
def test_building_and_formatting(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Unpacking
# =============================================================================================


def up_basic(seq):
    a, b = seq
    return a, b


def up_star(seq):
    first, *rest = seq
    *init, last = seq
    head, *middle, tail = seq
    return first, rest, init, last, head, middle, tail


def up_nested(data):
    (a, b), [c, (d, *e)] = data
    return a, b, c, d, e


def up_swap_and_rotate(a, b, c):
    a, b = b, a
    a, b, c = c, a, b
    return a, b, c


def up_for_targets(pairs):
    out = []
    for i, (k, v) in enumerate(pairs):
        out.append((i, k, v))
    for (k, *vs) in pairs:
        out.append(vs)
    return out


def up_from_iterables():
    a, b, c = "xyz"
    d, e = {"k1": 1, "k2": 2}
    f, g = (i * i for i in range(2))
    h, *i = range(5)
    (j,) = [[1]]
    return a, b, c, d, e, f, g, h, i, j


def up_into_attributes_and_items(obj, lst):
    obj.x, lst[0], lst[1:] = 1, "zero", ["rest"]
    return obj.x, lst


def up_three(seq):
    a, b, c = seq
    return a, b, c


def up_at_least_two(seq):
    a, *b, c = seq
    return a, b, c


def up_from_exploding(after):
    a, b, c = Exploding(after)
    return a, b, c


UNPACKING = [
    *cases(up_basic, ((1, 2),), ([3, 4],), ("ab",), ({1: 0, 2: 0},), (range(2),), (Countdown(2),)),
    *cases(up_basic, ((1, 2, 3),), ([1],), ((),), ("abc",), raises=ValueError),
    *cases(up_basic, (5,), (None,), (2.5,), raises=TypeError),
    *cases(up_star, ((1, 2, 3, 4, 5),), ("ab",), ([1, 2],)),
    case(up_star, [1], raises=ValueError),
    case(up_nested, ((1, 2), [3, (4, 5, 6)])),
    case(up_nested, ((1, 2), [3, (4,)])),
    case(up_nested, ((1, 2), [3, 4]), raises=TypeError),
    case(up_nested, ((1,), [3, (4,)]), raises=ValueError),
    case(up_swap_and_rotate, 1, "b", [3]),
    case(up_for_targets, [("a", 1), ("b", 2)]),
    case(up_for_targets, [("a", 1), ("b",)], raises=ValueError),
    case(up_from_iterables),
    case(up_into_attributes_and_items, Box(), [1, 2, 3]),
    *cases(up_three, ([1, 2],), ([1, 2, 3, 4],), (iter([1]),), raises=ValueError),
    *cases(up_at_least_two, ([1],), ("",), raises=ValueError),
    case(up_at_least_two, "ab"),
    *cases(up_from_exploding, (2,), (3,), raises=ValueError),  # 3: fails when checking for a 4th
]


@group(UNPACKING)
def test_unpacking(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Closures: cells, free variables, nonlocal
# =============================================================================================


def cl_counter(n):
    def make():
        count = 0

        def inc(step=1):
            nonlocal count
            count += step
            return count

        return inc

    inc = make()
    return [inc() for _ in range(n)] + [inc(2.5)]


def cl_late_binding():
    x = 1

    def get():
        return x

    first = get()
    x = "changed"
    return first, get()


def cl_three_levels(a):
    def outer(b):
        def middle(c):
            def inner(d):
                return a + b + c + d

            return inner

        return middle

    return outer(1)(2)(3)


def cl_nonlocal_chain():
    x = 0

    def f():
        nonlocal x
        x += 1

        def g():
            nonlocal x
            x *= 10

        g()
        return x

    return f(), f(), x


def cl_unbound_free_variable():
    def inner():
        return later  # noqa: F821

    result = inner()
    later = 1
    return result


def cl_deleted_cell():
    value = 1

    def get():
        return value

    del value
    return get()


def cl_cell_argument(arg):
    def get():
        return arg

    arg = arg * 2
    return get()


def cl_class_body_sees_enclosing(n):
    class C:
        size = n * 2
        items = [n] * 2

    return C.size, C.items


def cl_closure_in_loop(n):
    fns = []
    for i in range(n):
        def f(j=i):
            return j * i  # i is the cell, j the default

        fns.append(f)
    return [f() for f in fns]


def cl_shared_cell_between_closures():
    total = []

    def add(x):
        total.append(x)

    def get():
        return sum(total)

    add(1)
    add(2.5)
    return get(), total


CLOSURES = [
    *cases(cl_counter, (0,), (3,)),
    case(cl_late_binding),
    *cases(cl_three_levels, (10,), (0.5,), ),
    case(cl_three_levels, "s", raises=TypeError),
    case(cl_nonlocal_chain),
    case(cl_unbound_free_variable, raises=NameError),
    case(cl_deleted_cell, raises=NameError),
    *cases(cl_cell_argument, (3,), ("ab",), ([1],)),
    case(cl_class_body_sees_enclosing, 3),
    *cases(cl_closure_in_loop, (0,), (4,)),
    case(cl_shared_cell_between_closures),
]


@group(CLOSURES)
def test_closures(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# with statements
# =============================================================================================


class Recorder:
    """A context manager that logs its calls; optionally suppresses, or fails on enter/exit."""

    def __init__(self, log, name, suppress=False, fail_enter=False, fail_exit=False):
        self.log, self.name, self.suppress = log, name, suppress
        self.fail_enter, self.fail_exit = fail_enter, fail_exit

    def __enter__(self):
        self.log.append(("enter", self.name))
        if self.fail_enter:
            raise OSError(f"enter {self.name}")
        return self.name.upper()

    def __exit__(self, exc_type, exc, tb):
        self.log.append(("exit", self.name, exc_type.__name__ if exc_type else None, str(exc) if exc else None))
        if self.fail_exit:
            raise RuntimeError(f"exit {self.name}")
        return self.suppress


def wi_basic(log):
    with Recorder(log, "a") as value:
        log.append(("body", value))
    return log


def wi_exception(log, suppress):
    with Recorder(log, "a", suppress=suppress):
        log.append("body")
        raise KeyError("inside")
    log.append("after")
    return log


def wi_nested(log):
    with Recorder(log, "outer"), Recorder(log, "inner", suppress=True) as inner:
        log.append(inner)
        1 / 0
    with Recorder(log, "x") as x:
        with Recorder(log, "y") as y:
            log.append(x + y)
    return log


def wi_enter_fails(log):
    with Recorder(log, "a"), Recorder(log, "b", fail_enter=True):
        log.append("never")


def wi_exit_fails(log, raise_inside):
    with Recorder(log, "a", fail_exit=True):
        if raise_inside:
            raise ValueError("body")
    return log


def wi_return_inside(log):
    with Recorder(log, "a"):
        return "returned"


def wi_break_continue(log):
    for i in range(4):
        with Recorder(log, str(i)):
            if i == 1:
                continue
            if i == 3:
                break
            log.append(i)
    return log


def wi_contextmanager(log):
    @contextlib.contextmanager
    def cm(tag):
        log.append(("start", tag))
        try:
            yield tag * 2
        except ZeroDivisionError:
            log.append(("handled", tag))
        finally:
            log.append(("end", tag))

    with cm("a") as v:
        log.append(v)
    with cm("b"):
        1 / 0
    with contextlib.suppress(KeyError):
        {}["k"]
    return log


def wi_not_a_context_manager(x):
    with x:
        pass


def wi_suppress_then_continue(items):
    out = []
    for x in items:
        with contextlib.suppress(ZeroDivisionError, TypeError):
            out.append(10 / x)
    return out


WITH = [
    case(wi_basic, []),
    case(wi_exception, [], False, raises=KeyError),
    case(wi_exception, [], True),
    case(wi_nested, []),
    case(wi_enter_fails, [], raises=OSError),
    case(wi_exit_fails, [], False, raises=RuntimeError),
    case(wi_exit_fails, [], True, raises=RuntimeError),
    case(wi_return_inside, []),
    case(wi_break_continue, []),
    case(wi_contextmanager, []),
    *cases(wi_not_a_context_manager, (1,), (None,), ([],), raises=(TypeError, AttributeError)),
    case(wi_suppress_then_continue, [1, 0, "x", 4, -0.0]),
]


@group(WITH)
def test_with_statements(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# try / except / else / finally, raise, raise from, re-raise, exception groups, except*
# =============================================================================================


class AppError(Exception):
    def __init__(self, msg, code):
        super().__init__(msg)
        self.code = code


def ex_paths(x):
    log = []
    try:
        log.append("try")
        r = 10 // x
        log.append("no error")
    except ZeroDivisionError as e:
        log.append(("zde", str(e)))
        r = None
    except TypeError:
        log.append("type")
        r = "t"
    else:
        log.append("else")
    finally:
        log.append("finally")
    return r, log


def ex_tuple_and_base(x):
    try:
        return {"a": 1}[x]
    except (IndexError, KeyError) as e:
        return ("lookup", type(e).__name__, e.args)
    except Exception as e:
        return ("other", type(e).__name__)


def ex_raise_forms(kind):
    if kind == "instance":
        raise ValueError("instance", 2)
    if kind == "class":
        raise ValueError
    if kind == "custom":
        raise AppError("app failed", 42)
    if kind == "not-exception":
        raise 5
    if kind == "class-not-exception":
        raise int
    if kind == "stopiteration":
        raise StopIteration("value")
    if kind == "systemexit":
        raise SystemExit(3)
    if kind == "keyboard-ish":
        raise GeneratorExit("ge")


def ex_raise_from(kind):
    try:
        {}["missing"]
    except KeyError as e:
        if kind == "from":
            raise ValueError("converted") from e
        if kind == "none":
            raise ValueError("suppressed") from None
        if kind == "implicit":
            raise ValueError("implicit context")
        if kind == "from-other":
            raise ValueError("other cause") from TypeError("cause")


def ex_reraise(kind):
    try:
        int("x")
    except ValueError:
        if kind == "bare":
            raise
        if kind == "named":
            exc = sys.exc_info()[1]
            raise exc
        if kind == "with_traceback":
            raise TypeError("new").with_traceback(sys.exc_info()[2])


def ex_nested_handlers():
    log = []
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            log.append(sys.exc_info()[0].__name__)
            try:
                raise IndexError("deeper")
            except IndexError:
                log.append(sys.exc_info()[0].__name__)
            log.append(sys.exc_info()[0].__name__)
            raise RuntimeError("outer") from inner
    except RuntimeError as outer:
        log.append((type(outer.__cause__).__name__, type(outer.__context__).__name__))
    log.append(sys.exc_info())
    return log


def ex_name_deleted_after_handler():
    try:
        raise ValueError("x")
    except ValueError as e:
        pass
    return e  # noqa: F821 - unbound after the handler


def ex_finally_overrides(mode):
    try:
        if mode == "raise":
            raise KeyError("try")
        return "try"
    finally:
        if mode in ("raise", "return"):
            return "finally"  # noqa: B012 - swallowing is the point


def ex_exception_in_finally(x):
    try:
        1 / x
    finally:
        raise OSError("in finally")


def ex_finally_runs_on_break_continue():
    log = []
    for i in range(5):
        try:
            if i == 1:
                continue
            if i == 3:
                break
            log.append(i)
        finally:
            log.append(("f", i))
    return log


def ex_continue_in_finally():
    log = []
    for i in range(3):
        try:
            raise ValueError(i)
        finally:
            log.append(i)
            continue  # noqa: B012 - drops the exception
    return log


def ex_in_loop_with_handlers(values):
    results = []
    for v in values:
        try:
            results.append(100 / v)
        except ZeroDivisionError:
            results.append("inf")
            continue
        except TypeError as e:
            results.append(str(e))
            break
        finally:
            results.append("|")
    return results


def ex_group_raise():
    raise ExceptionGroup("many", [ValueError("v1"), TypeError("t1"), ExceptionGroup("nested", [KeyError("k")])])


def ex_except_star(which):
    log = []
    errors = {
        "both": [ValueError("v"), TypeError("t")],
        "values": [ValueError("v1"), ValueError("v2")],
        "other": [OSError("o"), ValueError("v")],
    }[which]
    try:
        try:
            raise ExceptionGroup("group", errors)
        except* ValueError as eg:
            log.append(("value", [str(e) for e in eg.exceptions]))
        except* TypeError as eg:
            log.append(("type", repr(eg.exceptions)))
    except ExceptionGroup as rest:
        log.append(("rest", rest.message, [type(e).__name__ for e in rest.exceptions]))
    return log


def ex_except_star_naked_exception():
    try:
        raise KeyError("plain")
    except* KeyError as eg:
        seen = type(eg).__name__, eg.message, [repr(e) for e in eg.exceptions]
    return seen


def ex_except_star_reraise():
    try:
        raise ExceptionGroup("g", [ValueError(1), TypeError(2)])
    except* ValueError:
        raise RuntimeError("from handler")


def ex_notes():
    try:
        raise ValueError("base")
    except ValueError as e:
        e.add_note("first note")
        e.add_note("second")
        raise


def ex_custom_attributes():
    try:
        raise AppError("bad", 7)
    except AppError as e:
        return e.code, e.args, str(e), repr(e)


def ex_generator_stopiteration():
    def gen():
        yield 1
        raise StopIteration("inside generator")

    return list(gen())


def ex_sys_exc_info_cleared():
    try:
        raise ValueError
    except ValueError:
        inside = sys.exc_info()[0]
    return inside, sys.exc_info()


def ex_exception_is_returned():
    try:
        [][1]
    except IndexError as e:
        return e


EXCEPTIONS = [
    *cases(ex_paths, (2,), (0,), ("s",), (0.0,)),
    case(ex_paths, None),
    *cases(ex_tuple_and_base, ("a",), ("b",), ([],)),
    case(ex_raise_forms, "instance", raises=ValueError),
    case(ex_raise_forms, "class", raises=ValueError),
    case(ex_raise_forms, "custom", raises=AppError),
    case(ex_raise_forms, "not-exception", raises=TypeError),
    case(ex_raise_forms, "class-not-exception", raises=TypeError),
    case(ex_raise_forms, "stopiteration", raises=StopIteration),
    case(ex_raise_forms, "systemexit", raises=SystemExit),
    case(ex_raise_forms, "keyboard-ish", raises=GeneratorExit),
    case(ex_raise_forms, "nothing"),
    *cases(ex_raise_from, ("from",), ("none",), ("implicit",), ("from-other",), raises=ValueError),
    *cases(ex_reraise, ("bare",), ("named",), raises=ValueError),
    case(ex_reraise, "with_traceback", raises=TypeError),
    case(ex_nested_handlers),
    case(ex_name_deleted_after_handler, raises=UnboundLocalError),
    case(ex_finally_overrides, "raise"),
    case(ex_finally_overrides, "return"),
    case(ex_finally_overrides, "plain"),
    *cases(ex_exception_in_finally, (0,), (1,), raises=OSError),
    case(ex_finally_runs_on_break_continue),
    case(ex_continue_in_finally),
    *cases(ex_in_loop_with_handlers, ([1, 0, 4, "x", 5],), ([2.5, -0.0],)),
    case(ex_group_raise, raises=ExceptionGroup),
    *cases(ex_except_star, ("both",), ("values",), ("other",)),
    case(ex_except_star_naked_exception),
    case(ex_except_star_reraise, raises=ExceptionGroup),
    case(ex_notes, raises=ValueError),
    case(ex_custom_attributes),
    case(ex_generator_stopiteration, raises=RuntimeError),
    case(ex_sys_exc_info_cleared),
    case(ex_exception_is_returned),
]


@group(EXCEPTIONS)
def test_exceptions(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Imports, assert, global statements
# =============================================================================================


def im_imports():
    import math as m
    import os.path
    from collections import OrderedDict as OD
    from os import path

    return m.sqrt(16.0), path is os.path, OD(a=1), m.floor(-0.5), m.copysign(0.0, -1)


def im_missing_module():
    import no_such_module_autojit_test  # noqa: F401


def im_missing_name():
    from math import no_such_name  # noqa: F401


def im_import_in_loop(n):
    total = 0.0
    for i in range(n):
        import math

        total += math.sqrt(i)
    return total


def as_assert(x):
    assert x > 0, f"x must be positive, got {x!r}"
    assert isinstance(x, int)
    return x


def as_assert_side_effect(log):
    assert log.append("evaluated") or True, log.append("message evaluated")
    assert not log, log.append("message evaluated") or "message"


G_COUNTER = 0


def gl_global_statement(n):
    global G_COUNTER, G_NEW
    G_COUNTER = 0
    for i in range(n):
        G_COUNTER += i
    G_NEW = G_COUNTER * 0.5
    return G_COUNTER, G_NEW, "G_NEW" in globals()


def gl_global_read_after_delete():
    global G_TEMP
    G_TEMP = 1
    first = G_TEMP
    del G_TEMP
    return first, "G_TEMP" in globals()


IMPORTS_ASSERTS_GLOBALS = [
    case(im_imports),
    case(im_missing_module, raises=ModuleNotFoundError),
    case(im_missing_name, raises=ImportError),
    *cases(im_import_in_loop, (5,), (0,)),
    *cases(as_assert, (1,), (2**100,)),
    *cases(as_assert, (0,), (-0.5,), (1.5,), raises=AssertionError),
    case(as_assert, "s", raises=TypeError),
    case(as_assert_side_effect, [], raises=AssertionError),
    *cases(gl_global_statement, (0,), (10,)),
    case(gl_global_read_after_delete),
]


@group(IMPORTS_ASSERTS_GLOBALS)
def test_imports_asserts_globals(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Classes defined inside functions
# =============================================================================================


def kl_local_class(x):
    class Acc:
        total = 0

        def __init__(self, start):
            self.values = [start]

        def add(self, v):
            self.values.append(v)
            type(self).total += 1
            return self

        def __repr__(self):
            return f"Acc({self.values})"

        def __len__(self):
            return len(self.values)

    a = Acc(x).add(1).add(2.5)
    return a, len(a), repr(a), Acc.total, Acc.__qualname__, [m for m in vars(Acc) if not m.startswith("__")]


def kl_inheritance_and_init_subclass():
    registry = []

    class Base:
        def __init_subclass__(cls, tag="", **kw):
            super().__init_subclass__(**kw)
            registry.append((cls.__name__, tag))

        def describe(self):
            return type(self).__name__

    class A(Base, tag="a"):
        pass

    class B(A):
        def describe(self):
            return "B:" + super().describe()

    return registry, A().describe(), B().describe(), [c.__name__ for c in B.__mro__]


def kl_metaclass():
    class Meta(type):
        def __new__(mcs, name, bases, ns):
            ns["made_by"] = "Meta"
            return super().__new__(mcs, name, bases, ns)

        def __call__(cls, *args):
            return ("intercepted", args)

    class C(metaclass=Meta):
        pass

    return C.made_by, C(1, 2), type(C).__name__


def kl_dataclass(a, b):
    @dataclasses.dataclass(order=True)
    class P:
        x: float
        y: float = 0.0

    p, q = P(a, b), P(b)
    return p, q, p < q, p == P(a, b), dataclasses.astuple(p), repr(p)


def kl_enum():
    class Color(enum.Enum):
        RED = 1
        GREEN = 2

    return Color.RED.name, Color(2).name, [c.value for c in Color], Color.RED is Color["RED"]


def kl_slots_and_class_cell():
    class S:
        __slots__ = ("v",)

        def __init__(self, v):
            self.v = v

        def cls(self):
            return __class__.__name__

    s = S(-0.0)
    return s.v, s.cls(), S.__slots__


def kl_class_raises_in_body():
    class Broken:
        value = 1 / 0

    return Broken


CLASSES = [
    *cases(kl_local_class, (1,), ("s",)),
    case(kl_inheritance_and_init_subclass),
    case(kl_metaclass),
    *cases(kl_dataclass, (1.5, -0.0), (1, 2)),
    case(kl_enum),
    case(kl_slots_and_class_cell),
    case(kl_class_raises_in_body, raises=ZeroDivisionError),
]


@group(CLASSES)
def test_classes_inside_functions(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Generators driven by compiled code
# =============================================================================================


def countdown_gen(n):
    while n > 0:
        yield n
        n -= 1
    return "done"


def ge_consume(n):
    return list(countdown_gen(n)), sum(countdown_gen(n)), [x for x in countdown_gen(n) if x % 2]


def ge_next_send_throw_close():
    def echo():
        received = []
        try:
            while True:
                value = yield len(received)
                received.append(value)
        except KeyError as e:
            yield ("caught", str(e), received)
        finally:
            received.append("closed")

    g = echo()
    out = [next(g), g.send("a"), g.send(2.5), g.throw(KeyError("k"))]
    g.close()
    out.append(next(g, "exhausted"))
    return out


def ge_return_value():
    g = countdown_gen(2)
    out = [next(g), next(g)]
    try:
        next(g)
    except StopIteration as e:
        out.append(e.value)
    return out


def ge_yield_from():
    def inner():
        got = yield 1
        yield got
        return "inner-result"

    def outer():
        result = yield from inner()
        yield result
        yield from [10, 20]

    g = outer()
    return [next(g), g.send("sent"), next(g), next(g), next(g), next(g, None)]


def ge_infinite_islice(n):
    def naturals():
        i = 0
        while True:
            yield i
            i += 1

    return list(itertools.islice(naturals(), n)), list(zip(naturals(), "abc"))


def ge_throw_unhandled():
    g = countdown_gen(3)
    next(g)
    g.throw(ValueError("thrown in"))


def ge_send_to_fresh():
    g = countdown_gen(3)
    g.send(1)


def ge_generator_finalization(log):
    def gen():
        try:
            yield 1
            yield 2
        finally:
            log.append("finalized")

    for x in gen():
        log.append(x)
        break
    return log


GENERATORS = [
    *cases(ge_consume, (0,), (5,)),
    case(ge_next_send_throw_close),
    case(ge_return_value),
    case(ge_yield_from),
    *cases(ge_infinite_islice, (5,)),
    case(ge_throw_unhandled, raises=ValueError),
    case(ge_send_to_fresh, raises=TypeError),
    case(ge_generator_finalization, []),
]


@group(GENERATORS)
def test_generators_from_compiled_code(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# The walrus operator
# =============================================================================================


def wa_in_if(data):
    if (n := len(data)) > 2:
        return "long", n
    return "short", n


def wa_in_while(items):
    out = []
    it = iter(items)
    while (x := next(it, None)) is not None:
        out.append(x)
    return out, x


def wa_in_comprehension(values):
    results = [y for v in values if (y := v * 2) > 2]
    return results, y if values else None  # y leaks into the function scope  # noqa: F821


def wa_chained(a):
    return (b := a + 1) * (c := b * 2), b, c, [(d := i) for i in range(3)], d


WALRUS = [
    *cases(wa_in_if, ([1, 2, 3],), ("ab",)),
    *cases(wa_in_while, ([1, 0, 2.5],), ([],)),
    *cases(wa_in_comprehension, ([1, 2, 3],), ([0.5],)),
    case(wa_in_comprehension, []),
    *cases(wa_chained, (1,), (1.5,)),
]


@group(WALRUS)
def test_walrus(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# match statements
# =============================================================================================


class Color(enum.Enum):
    RED = 1
    BLUE = 2


@dataclasses.dataclass
class Pt:
    x: object
    y: object = 0


class Shape:
    __match_args__ = ("kind", "size")

    def __init__(self, kind, size):
        self.kind, self.size = kind, size


def ma_literals(v):
    match v:
        case 0:
            return "zero"
        case 1 | 2 | 3:
            return "small"
        case "hello":
            return "greeting"
        case None:
            return "none"
        case True:
            return "true"
        case -1.5:
            return "minus one and a half"
        case Color.RED:
            return "red"
        case b"bytes":
            return "bytes"
        case _:
            return "other"


def ma_classes(obj):
    match obj:
        case Pt(x=0, y=0):
            return "origin"
        case Pt(x=0 | 1 as x, y=y) if y > 10:
            return ("near-axis-far", x, y)
        case Pt(x, y):
            return ("point", x, y)
        case Shape("circle", size):
            return ("circle", size)
        case Shape(kind=str(k)):
            return ("shape", k)
        case int(n) if n < 0:
            return ("negative int", n)
        case int() | float() as num:
            return ("number", num)
        case str(s):
            return ("string", s.upper())
        case _:
            return "unknown"


def ma_sequences(seq):
    match seq:
        case []:
            return "empty"
        case [x]:
            return ("one", x)
        case [x, y]:
            return ("two", x, y)
        case [0, *rest]:
            return ("starts with zero", rest)
        case [first, *_, last]:
            return ("many", first, last)
        case _:
            return "not a sequence"


def ma_nested_sequences(cmd):
    match cmd:
        case ["go", ("north" | "south") as direction]:
            return ("go", direction)
        case ["pick", [*items]] if items:
            return ("pick", items)
        case ["say", str() as text, *_]:
            return ("say", text)
        case _:
            return None


def ma_mappings(m):
    match m:
        case {"type": "point", "x": x, "y": y}:
            return ("point", x, y)
        case {"type": "circle", **rest}:
            return ("circle", rest)
        case {"id": int(i)} if i > 100:
            return ("big id", i)
        case {}:
            return "some mapping"
        case _:
            return "not a mapping"


def ma_in_loop(values):
    counts = {}
    for v in values:
        match v:
            case int() | float():
                key = "number"
            case str():
                key = "string"
            case [*_]:
                key = "sequence"
            case _:
                key = "other"
        counts[key] = counts.get(key, 0) + 1
    return counts


MATCH = [
    *cases(ma_literals, (0,), (0.0,), (False,), (2,), ("hello",), (None,), (True,), (1,), (-1.5,), (Color.RED,), (Color.BLUE,),
           (b"bytes",), ([],), (NAN,)),
    *cases(ma_classes, (Pt(0, 0),), (Pt(1, 20),), (Pt(0, 5),), (Pt("a"),), (Shape("circle", 2),), (Shape("square", 3),),
           (Shape(3, 3),), (-4,), (7,), (2.5,), (True,), ("abc",), (None,)),
    case(ma_classes, Pt(0, "s"), raises=TypeError),
    *cases(ma_sequences, ([],), ([1],), ((1, 2),), ([0, 1, 2],), ([5, 6, 7, 8],), ("abc",), (range(3),), ({1: 2},), (7,)),
    *cases(ma_nested_sequences, (["go", "north"],), (["go", "up"],), (["pick", ["a", "b"]],), (["pick", []],),
           (("say", "hi", 1),), (["say", 5],)),
    *cases(ma_mappings, ({"type": "point", "x": 1, "y": -0.0},), ({"type": "circle", "r": 2, "c": 0},), ({"id": 101},),
           ({"id": 5},), ({},), ([],), (collections.OrderedDict(type="point", x=1, y=2),)),
    case(ma_in_loop, [1, "a", [2], (3,), None, 2.5, {}, "b"]),
]


@group(MATCH)
def test_match_statements(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Recursion, frames, and tracebacks through deep call chains
# =============================================================================================


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def tree_sum(node):
    if isinstance(node, list):
        return sum(tree_sum(child) for child in node)
    return node


def runaway(n):
    return runaway(n + 1)


def fr_getframe():
    frame = sys._getframe()
    caller = frame.f_back
    return frame.f_lineno, frame.f_code.co_name, caller.f_code.co_name, caller.f_lineno, sys._getframe(0).f_lineno


def fr_getframe_in_callee():
    def where():
        f = sys._getframe(1)
        return f.f_code.co_name, f.f_lineno

    first = where()
    second = where()
    return first, second


def fr_locals_via_frame(a, b):
    c = a + b
    return sorted(sys._getframe().f_locals.items())


def chain_a(x):
    return chain_b(x) + 1


def chain_b(x):
    y = x * 2
    return chain_c(y) - 1


def chain_c(y):
    if y > 10:
        return chain_d(y)
    return y


def chain_d(y):
    data = {"k": y}
    return data["missing"] if y > 20 else 100 // (y - 12)


def tb_deep_chain(x):
    return chain_a(x)


def tb_caught_and_inspected(x):
    import traceback

    try:
        chain_a(x)
    except (KeyError, ZeroDivisionError) as e:
        return [(fs.name, fs.lineno, fs.line) for fs in traceback.extract_tb(e.__traceback__)]


def tb_reraised_through_levels(x):
    def level1():
        try:
            return level2()
        except KeyError as e:
            raise LookupError("level1") from e

    def level2():
        return chain_a(x)

    return level1()


RECURSION_FRAMES = [
    *cases(depth, (0,), (10,), (500,)),
    case(tree_sum, [[1, [2, [3, [4.5]]]], [], [[[[-0.0]]]]]),
    case(fr_getframe),
    case(fr_getframe_in_callee),
    case(fr_locals_via_frame, 1, 2.5),
    *cases(tb_deep_chain, (1,), (5,)),
    case(tb_deep_chain, 6, raises=ZeroDivisionError),
    case(tb_deep_chain, 11, raises=KeyError),
    *cases(tb_caught_and_inspected, (6,), (11,)),
    case(tb_reraised_through_levels, 11, raises=LookupError),
    case(runaway, 0, raises=RecursionError),
]


@group(RECURSION_FRAMES)
def test_recursion_frames_tracebacks(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Warnings and output
# =============================================================================================


def wn_warnings(x):
    warnings.warn(f"value {x}", UserWarning)
    warnings.warn("deprecated", DeprecationWarning, stacklevel=2)
    print("printed", x, sep=":")
    return x


def wn_warning_as_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.warn("now an error", RuntimeWarning)


def wn_in_loop(n):
    for i in range(n):
        if i % 2:
            warnings.warn(f"odd {i}")
    return n


WARNINGS_OUTPUT = [
    *cases(wn_warnings, (1,), (-0.0,)),
    case(wn_warning_as_error, raises=RuntimeWarning),
    *cases(wn_in_loop, (6,)),
]


@group(WARNINGS_OUTPUT)
def test_warnings_and_output(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Tier-1 coverage: function making, star-calls, set/dict/list displays, deletes, unpacking with
# a star, imports, super, and-or values; each with its error paths, also inside try/except
# =============================================================================================

G_DELETABLE = "sentinel"


def tc_make_function(x):
    def plain(a, b=x, *rest, c=2 * x, **kw) -> "ann":
        return a, b, rest, c, kw

    lam = lambda y=x: y + x  # noqa: E731

    def closure():
        return x

    return (
        plain(1), plain(1, 2, 3, c=4, d=5), lam(), lam(10), closure(),
        plain.__defaults__, plain.__kwdefaults__, plain.__annotations__,
        len(closure.__closure__), plain.__name__, plain.__qualname__,
    )


def tc_star_calls(args, kwargs):
    def target(*a, **k):
        return a, sorted(k.items())

    return target(*args), target(*args, **kwargs), target(**kwargs), target(1, *args, x=1, **kwargs)


def tc_star_call_errors(kind):
    def target(*a, **k):
        return a, k

    try:
        if kind == "args":
            target(*5)
        elif kind == "kwargs":
            target(**5)
        elif kind == "dup":
            target(x=1, **{"x": 2})
        elif kind == "dup2":
            target(**{"y": 1}, **{"y": 2})
        elif kind == "gen":
            return target(*(i for i in range(3)))
        elif kind == "raises":
            target(*[1], **{"a": 1}, b=1 // 0)
    except (TypeError, ZeroDivisionError) as e:
        return type(e).__name__, str(e)


def tc_star_call_uncaught(x):
    return max(*x)


def tc_displays(a, b):
    s = {a, b, 3}
    s2 = {*a, *b} if not isinstance(a, int) else {a, *[b]}
    l = [*range(3), *[a, b]]
    t = (*l, *s2)
    d = {"k": a, **{"m": b}, **dict(n=3)}
    return sorted(map(repr, s)), sorted(map(repr, s2)), l, t, d


def tc_display_errors(kind):
    try:
        if kind == "set-unhashable":
            return {1, [2]}
        if kind == "list-star":
            return [*1]
        if kind == "set-star":
            return {*None}
        if kind == "tuple-star":
            return (*1.5,)
        if kind == "dict-star":
            return {**[1]}
        if kind == "dict-star-int":
            return {**1}
        if kind == "dict-unhashable":
            return {[1]: 2, "a": 3}
    except TypeError as e:
        return str(e)


def tc_comprehensions(n):
    squares = {i * i for i in range(n)}
    table = {i: str(i) for i in range(n)}
    pairs = {(i, j): i * j for i in range(n) for j in range(2)}
    return sorted(squares), table, pairs


def tc_comprehension_errors(items):
    try:
        return {k: 1 for k in items}
    except TypeError as e:
        first = str(e)
    try:
        return first, {k for k in items}
    except TypeError as e:
        return first, str(e)


def tc_const_key_maps(x):
    small = {"a": x, "b": 2}
    big = {"a": x, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8}
    numeric = {1: x, 2: x, 3: x, 4: x, 5: x, 6: x, 7: x}
    return small, big, numeric, sys.getsizeof(big), sys.getsizeof(numeric), list(big)


def tc_big_maps(x):
    # BUILD_MAP with non-constant keys, more than 5 pairs: CPython presizes it.
    k = str(x)
    return sys.getsizeof({k + "1": 1, k + "2": 2, k + "3": 3, k + "4": 4, k + "5": 5, k + "6": 6, k + "7": 7})


class Deletable:
    def __init__(self):
        self.a = 1
        self.b = 2


def tc_deletes(kind):
    obj = Deletable()
    d = {"x": 1, "y": 2}
    lst = [1, 2, 3, 4]
    del obj.a
    del d["x"]
    del lst[1:3]
    del lst[0]
    try:
        if kind == "attr":
            del obj.missing
        elif kind == "key":
            del d["missing"]
        elif kind == "index":
            del lst[10]
        elif kind == "tuple":
            t = (1, 2)
            del t[0]
        elif kind == "slots":
            del (1).real
    except (AttributeError, KeyError, IndexError, TypeError) as e:
        return type(e).__name__, str(e), vars(obj), d, lst
    return vars(obj), d, lst


def tc_delete_uncaught(d, k):
    del d[k]
    return d


def tc_delete_global(kind):
    global G_DELETABLE
    G_DELETABLE = kind
    del G_DELETABLE
    try:
        del G_DELETABLE
    except NameError as e:
        result = (str(e), e.name)
    G_DELETABLE = "sentinel"
    return result


def tc_delete_deref(x):
    value = x

    def reader():
        return value

    first = reader()
    del value
    try:
        reader()
    except NameError as e:
        return first, type(e).__name__, str(e)


def tc_delete_deref_twice(x):
    value = x

    def reader():
        return value

    del value
    del value  # UnboundLocalError from the interpreter
    return reader


def tc_unpack_ex(seq):
    a, *b = seq
    *c, d = seq
    e, *f, g = seq
    return a, b, c, d, e, f, g, sys.getsizeof(f)


def tc_unpack_ex_errors(seq):
    try:
        a, b, *c, d = seq
        return a, b, c, d
    except (ValueError, TypeError) as e:
        return type(e).__name__, str(e)


class PointM:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class BadMatchArgs:
    __match_args__ = ["x"]
    x = 1


def tc_match(subject):
    match subject:
        case PointM(0, y):
            return "on y axis", y
        case PointM(x=x, y=0):
            return "on x axis", x
        case {"kind": "circle", "r": r, **rest}:
            return "circle", r, rest
        case [1, *middle, 9]:
            return "framed", middle
        case [_, _]:
            return "pair", len(subject)
        case int(n) | float(n) if n > 10:
            return "big", n
        case str() as s:
            return "str", s
        case _:
            return "other"


def tc_match_errors(kind):
    k = "k"
    try:
        if kind == "args-not-tuple":
            match BadMatchArgs():
                case BadMatchArgs(v):
                    return v
        elif kind == "too-many":
            match PointM(1, 2):
                case PointM(a, b, c):
                    return a
        elif kind == "dup-key":
            match {"k": 1}:
                case {PointM.__name__: 1, PointM.__name__: 2}:
                    return 0
        elif kind == "dup-attr":
            match PointM(1, 2):
                case PointM(a, x=b):
                    return a, b
        elif kind == "not-a-class":
            match 1:
                case k():
                    return 0
    except (TypeError, ValueError) as e:
        return type(e).__name__, str(e)
    return "no match"


def tc_imports(name):
    import math
    import os.path
    from collections import OrderedDict, abc
    from os import path as p

    return math.pi, os.path.join("a", "b"), OrderedDict.__name__, abc.Mapping.__name__, p is os.path, name


def tc_import_errors(kind):
    try:
        if kind == "missing-module":
            import autojit_no_such_module  # noqa: F401
        elif kind == "missing-name":
            from math import no_such_name  # noqa: F401
        elif kind == "relative":
            from . import nothing  # noqa: F401
    except ImportError as e:
        return type(e).__name__, str(e), e.name
    return "imported"


class SuperBase:
    greeting = "base-attr"

    def hello(self, x):
        return ("base", x)

    @classmethod
    def make(cls):
        return cls.__name__


class SuperChild(SuperBase):
    def hello(self, x):
        return ("child", super().hello(x), super().greeting, super(SuperChild, self).hello(-x))

    @classmethod
    def make(cls):
        return "child-" + super().make()

    def missing(self):
        try:
            return super().nothing_here
        except AttributeError as e:
            return str(e)


def tc_super(x):
    c = SuperChild()
    return c.hello(x), SuperChild.make(), c.missing()


class Truthy:
    def __init__(self, value, fail=False):
        self.value = value
        self.fail = fail

    def __bool__(self):
        if self.fail:
            raise ValueError("no truth")
        return self.value

    def __repr__(self):
        return f"Truthy({self.value})"


def tc_and_or(a, b):
    return a and b, a or b, (a and b) or a, not (a or b)


def tc_and_or_errors(a, b):
    try:
        return a and b
    except ValueError as e:
        first = str(e)
    try:
        return first, (a or b)
    except ValueError as e:
        return first, str(e)


def tc_with(mgr_kind):
    class Mgr:
        def __enter__(self):
            if mgr_kind == "enter-fails":
                raise KeyError("enter")
            return "entered"

        def __exit__(self, *exc):
            return mgr_kind == "suppress"

    class NoExit:
        def __enter__(self):
            return 1

    try:
        with (NoExit() if mgr_kind == "no-exit" else Mgr()) as v:
            if mgr_kind == "suppress":
                raise RuntimeError("suppressed")
            return v
    except (KeyError, TypeError, AttributeError) as e:
        return type(e).__name__, str(e)
    return "after"


TIER1_COVERAGE = [
    *cases(tc_make_function, (1,), (2.5,)),
    *cases(tc_star_calls, ((), {}), ((1, 2), {"a": 3}), ([1], {"b": 2})),
    *cases(tc_star_call_errors, ("args",), ("kwargs",), ("dup",), ("dup2",), ("gen",), ("raises",)),
    *cases(tc_star_call_uncaught, ([3, 1, 2],), ([],), (5,), raises=ANY),
    *cases(tc_displays, ("ab", "cd"), (1, 2), ((1, 2), (3,))),
    *cases(tc_display_errors, ("set-unhashable",), ("list-star",), ("set-star",), ("tuple-star",), ("dict-star",),
           ("dict-star-int",), ("dict-unhashable",)),
    *cases(tc_comprehensions, (0,), (4,)),
    *cases(tc_comprehension_errors, ([1, [2]],), ([[1]],), ([1, 2],)),
    *cases(tc_const_key_maps, (1,), ("x",)),
    *cases(tc_big_maps, (1,), ("k",)),
    *cases(tc_deletes, ("none",), ("attr",), ("key",), ("index",), ("tuple",), ("slots",)),
    *cases(tc_delete_uncaught, ({"a": 1}, "a"), ({"a": 1}, "b"), ([1], 5), raises=ANY),
    *cases(tc_delete_global, ("x",)),
    *cases(tc_delete_deref, (1,)),
    case(tc_delete_deref_twice, 1, raises=UnboundLocalError),
    *cases(tc_unpack_ex, ([1, 2, 3, 4],), ((1, 2),), ("abcdef",), (range(5),), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10],)),
    *cases(tc_unpack_ex_errors, ([1, 2, 3],), ((1, 2),), ([1],), (5,), (iter([1, 2, 3, 4]),), ({1: 2, 3: 4, 5: 6},)),
    *cases(tc_match, (PointM(0, 5),), (PointM(3, 0),), ({"kind": "circle", "r": 2, "c": 1},), ([1, 2, 3, 9],),
           ((1, 2),), (11,), (11.5,), ("s",), (None,), ({"kind": "square"},), ([1, 9],)),
    *cases(tc_match_errors, ("args-not-tuple",), ("too-many",), ("dup-key",), ("dup-attr",), ("not-a-class",)),
    *cases(tc_imports, ("x",)),
    *cases(tc_import_errors, ("missing-module",), ("missing-name",), ("relative",), ("none",)),
    *cases(tc_super, (1,), (2.5,)),
    *cases(tc_and_or, (1, 2), (0, 2), ("", []), (Truthy(True), Truthy(False)), (Truthy(False), 0), ([1], None)),
    *cases(tc_and_or_errors, (Truthy(True, fail=True), 1), (0, Truthy(True, fail=True)), (1, 2)),
    *cases(tc_with, ("plain",), ("enter-fails",), ("no-exit",), ("suppress",)),
]


@group(TIER1_COVERAGE)
def test_tier1_coverage(fn, args, kwargs, raises):
    run(fn, args, kwargs, raises)


# =============================================================================================
# Every function above, once more: all its inputs in one sequence, on one compiled copy, so that
# code compiled for the first input meets the others (other types, other paths)
# =============================================================================================

ALL_GROUPS = [
    LOADS_STORES, ARITHMETIC, UNARY_ERRORS, COMPARISONS, TRUTHINESS, CONTROL_FLOW, LONG_LOOPS, CALLS, ATTRIBUTES,
    SUBSCRIPTS, BUILDING, UNPACKING, CLOSURES, WITH, EXCEPTIONS, IMPORTS_ASSERTS_GLOBALS, CLASSES, GENERATORS, WALRUS,
    MATCH, RECURSION_FRAMES, WARNINGS_OUTPUT, TIER1_COVERAGE,
]


def _sequences():
    by_function = {}
    for group_cases in ALL_GROUPS:
        for param in group_cases:
            fn, args, kwargs, _ = param.values
            by_function.setdefault(fn, []).append((args, kwargs))
    return [pytest.param(fn, calls, id=fn.__name__) for fn, calls in by_function.items() if len(calls) > 1]


@pytest.mark.parametrize("fn,calls", _sequences())
def test_call_sequences(fn, calls):
    for result in check_calls(fn, calls):
        COMPILED[result.compiled_calls > 0] += 1

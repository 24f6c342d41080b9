"""Tier 1's shortcuts that CPython's own specializer also takes: in-place string append into
a local, `list.append` on exact lists, and calls through the callee's vectorcall entry.
Each is checked against the interpreter, including the cases that must not take them.
"""

from autojit.testing import check, check_calls


def test_string_append_into_a_local():
    def build(n, piece):
        s = ""
        for i in range(n):
            s += piece
            s = s + str(i)
        return s

    check_calls(build, [((0, "a"), {}), ((5, "ab"), {}), ((50, ""), {}), ((3, "é€"), {})])


def test_string_append_leaves_other_references_alone():
    def aliases(s, t):
        alias = s
        keep = [s]
        s += t
        s = s + t
        return s, alias, keep, alias is keep[0]

    check_calls(aliases, [(("x", "y"), {}), (("", ""), {}), (("long" * 100, "z"), {})])


def test_string_append_with_other_types_and_subclasses():
    class S(str):
        def __add__(self, other):
            return "S.__add__"

    def mixed(s, t):
        try:
            s += t
        except TypeError as e:
            return "TypeError", str(e)
        return s, type(s).__name__

    check_calls(mixed, [(("a", 1), {}), ((S("a"), "b"), {}), (("a", S("b")), {}), ((1, "a"), {}), (([1], [2]), {})])


def test_string_append_into_another_local_is_a_plain_add():
    def other(s, t):
        u = s + t
        s += t
        return u, s

    check(other, "a", "b")


def test_list_append_and_its_look_alikes():
    class L(list):
        def append(self, x):
            super().append(("L", x))

    def appends(items, x):
        items.append(x)
        list.append(items, x)
        return items

    def wrong_self():
        try:
            list.append(5, 1)
        except TypeError as e:
            return str(e)

    check_calls(appends, [(([], 1), {}), ((L(), 2), {}), (([1, 2], [3]), {})])
    check(wrong_self)


def test_calls_of_c_functions_and_callables():
    class Callable:
        def __call__(self, *args):
            return ("called", args)

    def calls(f, *args):
        return f(*args), f(args[0]) if args else f()

    check_calls(
        calls,
        [((len, "abc"), {}), ((max, 3, 9), {}), ((Callable(), 1, 2), {}), ((str.upper, "x"), {}),
         ((dict.fromkeys, "ab"), {}), ((print.__call__,), {}), ((int, "12"), {}), ((sorted, [3, 1]), {})],
    )

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


def test_list_append_to_a_list_being_sorted():
    # During list.sort() the list is emptied, with no item array and allocated = -1: an
    # append then takes CPython's general path, and the sort raises ValueError afterwards.
    from functools import cmp_to_key

    def append_while_sorting(n):
        z = list(range(n))

        def compare(x, y):
            z.append(1)
            return (x > y) - (x < y)

        try:
            z.sort(key=cmp_to_key(compare))
        except ValueError as error:
            return "raised", str(error), len(z)
        return "sorted", z

    def append_in_key(n):
        z = list(range(n, 0, -1))

        def key(x):
            z.append(x)
            return -x

        try:
            z.sort(key=key)
        except ValueError as error:
            return "raised", str(error), len(z)
        return "sorted", z

    for n in (2, 12, 40):
        check(append_while_sorting, n)
        check(append_in_key, n)


def test_list_append_growth_and_release_order():
    # Appends across every capacity step, and lists that die in their own append: the
    # destructors run in the interpreter's order, seeing the frame's line.
    import sys

    def grow(n):
        items = []
        for i in range(n):
            items.append(i)
        return items, len(items)

    def dying(tag):
        log = []

        class Dies:
            def __init__(self, name):
                self.name = name

            def __del__(self):
                log.append((self.name, sys._getframe(1).f_lineno))

        [Dies(tag + "-in-list")].append(Dies(tag + "-appended"))
        keep = [Dies(tag + "-kept")]
        keep.append(
            Dies(tag + "-second")
        )
        del keep
        return log

    check_calls(grow, [((n,), {}) for n in (0, 1, 4, 5, 8, 9, 17, 100)])
    # One call: once CPython specializes the site (CALL_NO_KW_LIST_APPEND moves the item
    # into the list), a list dying in its append releases the item first; the generic call,
    # whose order autojit keeps, releases it last.
    check_calls(dying, [(("a",), {})])


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


def test_for_over_lists_and_ranges():
    # List and range iterators step in line: lists growing and shrinking while iterated,
    # ranges of every step sign and size (values beyond the small ints, near 2**63), and
    # iterators reused after they are exhausted.
    def over_list(items, grow):
        seen = []
        for x in items:
            seen.append(x)
            if grow and len(items) < 12:
                items.append(x * 2)
            elif not grow and items:
                items.pop()
        return seen, items

    def over_range(r):
        out = []
        for v in r:
            out.append(v)
            if len(out) > 40:
                break
        return out, [v for v in r][:5]

    def reuse(items):
        it = iter(items)
        first = [x for x in it]
        second = [x for x in it]
        r = iter(range(3))
        return first, second, [x for x in r], [x for x in r]

    check_calls(over_list, [(([1, 2, 3], g), {}) for g in (True, False)] + [(([], True), {})])
    ranges = [range(0), range(5), range(250, 262), range(-10, 10, 3), range(10, -10, -4), range(300, 0, -7),
              range(2**62, 2**62 + 5), range(-(2**63), -(2**63) + 3), range(2**63 - 3, 2**63 - 1), range(0, 2**40, 2**35)]
    check_calls(over_range, [((r,), {}) for r in ranges])
    check_calls(reuse, [(([1, 2],), {}), (([],), {})])


def test_str_of_one_argument():
    # str(x) of exact ints, floats and strs is PyObject_Str; anything else goes through the
    # constructor, which also runs a str subclass's __init__ on the result of __str__.
    log = []

    class S(str):
        def __init__(self, *args):
            log.append(("S.__init__", args))

    class Custom:
        def __str__(self):
            return S("custom")

    class Plain:
        def __str__(self):
            return "plain"

    def convert(x):
        del log[:]
        result = str(x)
        return type(result).__name__, result, list(log)

    values = [0, -5, 2**70, 1.5, -0.0, float("nan"), float("inf"), "text", True, S("sub"), Plain(), None, b"bytes"]
    check_calls(convert, [((v,), {}) for v in values])
    # One call: once CPython specializes the site (CALL_NO_KW_STR_1, PyObject_Str), it no
    # longer runs the subclass's __init__ that the generic constructor, which autojit keeps
    # for anything but exact ints, floats and strs, runs.
    def convert_once(x):
        del log[:]
        result = str(x)
        return type(result).__name__, result, list(log)

    check_calls(convert_once, [((Custom(),), {})])


def test_method_descriptor_calls():
    # Method descriptors called directly through their vectorcall entry: bound and unbound
    # forms, wrong self types, argument errors, exceptions from the method, a result that
    # is the last reference to an argument.
    import sys

    class D(dict):
        pass

    def calls(d, key):
        out = []
        for call in (
            lambda: d.get(key),
            lambda: d.get(key, "default"),
            lambda: dict.get(d, key),
            lambda: dict.get(5, key),
            lambda: d.get(),
            lambda: d.pop(key),
            lambda: d.setdefault(key, [key]),
            lambda: str.join(",", [str(key), "x"]),
            lambda: ",".join([key]),
            lambda: "abc".startswith(key) if isinstance(key, str) else "abc".startswith(("a", "b")),
            lambda: [3, 1, 2].index(key),
        ):
            try:
                out.append(call())
            except Exception as e:
                out.append((type(e).__name__, str(e)))
        return out, sorted(d.items(), key=repr)

    def dying(n):
        log = []

        class Dies:
            def __del__(self):
                log.append(sys._getframe(1).f_lineno)

        d = {}
        for i in range(n):
            d.setdefault(i, Dies())
            d.pop(
                i
            )
        return log

    check_calls(calls, [(({"a": 1, 1: 2}, k), {}) for k in ("a", 1, "missing", 2)] + [((D(a=1), "a"), {})])
    check_calls(dying, [((3,), {})])


def test_method_descriptor_calls_keep_reference_counts():
    import sys

    def lookups(d, key, n):
        for _ in range(n):
            d.get(key, key)
            dict.get(d, key)
        return sys.getrefcount(key), sys.getrefcount(d)

    import autojit

    key, d = object(), {}
    autojit.enable(threshold=0)
    try:
        first = lookups(d, key, 1)
        again = lookups(d, key, 500)
    finally:
        autojit.disable()
    assert autojit.stats()["compiled_calls"] > 0
    assert first == again


def _unspecialized(fn):
    """``fn`` on a new code object: its sites not yet run, so not yet specialized by CPython
    (a code object's specialization outlives the call, and check runs the function given)."""
    import types

    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _run_compiled(fn, *args):
    """``fn(*args)`` with autojit compiling it at once; asserts tier 1 compiled it."""
    import autojit

    autojit.enable(threshold=0, loop_threshold=0)
    try:
        result = fn(*args)
    finally:
        autojit.disable()
    assert autojit.explain(fn, format="dict")["compiled"]
    return result


def test_list_item_store_releases_the_old_item_before_the_stored_value():
    # The generic STORE_SUBSCR: the list takes its own reference to the value, the old item
    # is released, then the stack's value, list and index. An old item whose destructor
    # empties the list must not destroy the new value inside that destructor. (One call:
    # CPython's specialized STORE_SUBSCR_LIST_INT moves the stack's reference into the
    # list instead; autojit keeps the generic order. Each check on a new code object.)
    def store(index, how):
        log = []

        class V:
            def __del__(self):
                log.append("V dies")

        class Old:
            def __del__(self):
                log.append("Old.__del__ start")
                if how == "clear":
                    items.clear()
                elif how == "replace":
                    items[index] = "other"
                else:
                    del items[index]
                log.append("Old.__del__ end")

        items = ["a", Old(), "b"]
        items[index] = V()
        log.append(("after", len(items)))
        return log

    def dying_list():
        log = []

        class Dies:
            def __init__(self, name):
                self.name = name

            def __del__(self):
                log.append(self.name)

        [Dies("old"), Dies("other")][0] = Dies("new")
        return log

    for index in (1, -2):
        for how in ("clear", "replace", "del"):
            check(_unspecialized(store), index, how)
    check(dying_list)


def _attribute_store_logs(make_owner, n):
    """At one STORE_ATTR site, in a loop: Old values whose destructor overwrites the owner's
    attribute, alternating with V values stored over them (from the second store on, a hit
    in autojit's cache)."""

    def site(n):
        log = []

        class V:
            def __init__(self, n):
                self.n = n

            def __del__(self):
                log.append(("V dies", self.n))

        class Old:
            def __del__(self):
                log.append("Old.__del__ start")
                owner.a = None
                log.append("Old.__del__ end")

        owner = make_owner()
        owner.a = None
        for i in range(n):
            owner.a = Old() if i % 2 == 0 else V(i)
        return log

    return site


def test_attribute_store_cache_hits_release_the_old_value_before_the_stored_value():
    # The generic STORE_ATTR: the owner takes its own reference to the value, the old value
    # is released, then the stack's value and the owner. A V stored over an Old survives
    # Old's destructor (which drops the owner's reference to it) and dies after it.
    import sys

    class Plain:
        pass

    class Slotted:
        __slots__ = ("a",)

    n = 6
    expected = []
    for i in range(1, n, 2):
        expected += ["Old.__del__ start", "Old.__del__ end", ("V dies", i)]
    for make_owner in (Plain, Slotted):
        site = _attribute_store_logs(make_owner, n)
        assert _run_compiled(_unspecialized(site), n) == expected
        if sys.version_info < (3, 12):
            # 3.11 does not quicken a new code object in these few iterations: its STORE_ATTR
            # is the generic one. (3.12 specializes the site at its second execution, and its
            # STORE_ATTR_INSTANCE_VALUE and STORE_ATTR_SLOT move the stack's reference into
            # the owner, as CALL_NO_KW_LIST_APPEND does for list.append: autojit keeps the
            # generic order, which the interpreter shows only here.)
            assert check(_unspecialized(site), n).result == expected


def test_unpacking_objects_other_than_tuples_and_lists():
    # The inline unpack checks the type before it reads a length: an object() has no
    # ob_size, a float's value lies where a tuple's would be (here: bits that read as 2).
    import struct

    tiny = struct.unpack("<d", struct.pack("<q", 2))[0]

    def unpack(x):
        try:
            a, b = x
        except (TypeError, ValueError) as e:
            return type(e).__name__, str(e)
        return a, b

    values = [(1, 2), [3, 4], (1,), [1, 2, 3], object(), tiny, 2, "ab", {"k": 1, "v": 2}, iter([5, 6]), range(2)]
    check_calls(unpack, [((v,), {}) for v in values])

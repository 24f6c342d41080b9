"""LOAD_GLOBAL's per-site cache (src/runtime/global_cache.rs): every change to the module's
globals or to builtins between or during calls is seen, exactly as by the interpreter.
Each scenario runs once with autojit off and once compiled, and the outputs must agree.
"""

import builtins
import autojit
import pytest
from conftest import run_scenario

SCENARIOS = {
    "rebind a global between calls": """
        G = 1
        def f():
            return G
        out = [f()]
        G = 2
        out.append(f())
        G = "three"
        out.append(f())
    """,
    "rebind a global inside the loop that reads it": """
        G = 0
        def f():
            global G
            total = 0
            for i in range(50):
                total += G
                G = i
            return total
        out = [f(), f()]
    """,
    "delete a global: NameError": """
        G = 1
        def f():
            return G
        out = [f()]
        del G
        try:
            f()
        except NameError as e:
            out.append(str(e))
    """,
    "a global shadows a builtin, then goes away": """
        def f(x):
            return len(x)
        out = [f("abc")]
        len = lambda x: 42
        out.append(f("abc"))
        del len
        out.append(f("abc"))
    """,
    "builtins change": """
        import builtins
        def f():
            return autojit_test_builtin
        try:
            f()
        except NameError as e:
            out = [str(e)]
        builtins.autojit_test_builtin = 5
        out.append(f())
        builtins.autojit_test_builtin = 6
        out.append(f())
        del builtins.autojit_test_builtin
        try:
            f()
        except NameError as e:
            out.append(str(e))
    """,
    "a function with other globals shares the code": """
        import types
        def f():
            return G
        G = "mine"
        other = types.FunctionType(f.__code__, {"G": "theirs", "__builtins__": __builtins__})
        out = [f(), other(), f(), other()]
    """,
    "globals mutated through globals()": """
        G = 1
        def f():
            globals()["G"] = G + 1
            return G
        out = [f() for _ in range(5)]
    """,
    "globals mutated between two loads in the same function": """
        G = 1
        def f():
            a = G
            globals()["G"] = a + 1
            b = G
            globals()["H"] = b * 10
            c = H
            del globals()["H"]
            try:
                d = H
            except NameError as e:
                d = str(e)
            return a, b, c, d
        out = [f(), f(), f()]
    """,
    "a call between two loads rebinds the global": """
        G = 1
        def bump():
            global G
            G += 1
        def f():
            a = G
            bump()
            return a, G, G
        out = [f() for _ in range(4)]
    """,
    "builtins change between two loads in the same function": """
        import builtins
        def f(n):
            a = len("ab")
            original = builtins.len
            builtins.len = lambda x: -n
            try:
                b = len("ab")
                builtins.autojit_test_builtin = n
                c = autojit_test_builtin
            finally:
                builtins.len = original
                del builtins.autojit_test_builtin
            try:
                d = autojit_test_builtin
            except NameError as e:
                d = str(e)
            return a, b, c, d, len("abc")
        out = [f(1), f(2), f(3)]
    """,
    "a global shadows a builtin between two loads": """
        def f():
            a = len("ab")
            globals()["len"] = lambda x: "shadow"
            b = len("ab")
            del globals()["len"]
            return a, b, len("xyz")
        out = [f(), f()]
    """,
    "the same code with exact-dict and dict-subclass globals": """
        import types
        class D(dict):
            def __missing__(self, key):
                return "missing " + key
        def f():
            return G, len
        G = "mine"
        sub = types.FunctionType(f.__code__, D(__builtins__=__builtins__))
        plain = types.FunctionType(f.__code__, {"G": "theirs", "__builtins__": __builtins__})
        out = [f(), plain(), f(), sub(), f(), plain(), sub()]
    """,
    # Builtins that are not a dict (any object in globals["__builtins__"] becomes a function's
    # builtins): a complex keeps its imaginary part where a dict keeps its version tag, so
    # this one looks, at that offset, exactly like the builtins dict the cache was filled from.
    "builtins not a dict, forged to show the cached version": """
        import builtins, struct, types
        import _testcapi
        def f():
            return len
        G = {}
        version = _testcapi.dict_get_version(builtins.__dict__)
        G["__builtins__"] = complex(0.0, struct.unpack("d", struct.pack("Q", version))[0])
        forged = types.FunctionType(f.__code__, G)
        G["__builtins__"] = builtins
        real = types.FunctionType(f.__code__, G)
        out = [real() is len]
        assert _testcapi.dict_get_version(builtins.__dict__) == version
        try:
            out.append(forged())
        except TypeError as e:
            out.append(str(e))
    """,
    "a global read in a loop, rebound every few iterations": """
        G = 0
        def f():
            global G
            seen = []
            for i in range(40):
                seen.append(G)
                if i % 7 == 0:
                    G = i
            return seen
        out = [f(), f()]
    """,
}




@pytest.mark.parametrize("name", SCENARIOS)
def test_global_cache_sees_every_change(name):
    before = autojit.stats()["compiled_calls"]
    plain = run_scenario(SCENARIOS[name], jit=False)
    jitted = run_scenario(SCENARIOS[name], jit=True)
    assert jitted == plain
    assert autojit.stats()["compiled_calls"] > before
    assert not hasattr(builtins, "autojit_test_builtin")

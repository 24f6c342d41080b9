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
}




@pytest.mark.parametrize("name", SCENARIOS)
def test_global_cache_sees_every_change(name):
    before = autojit.stats()["compiled_calls"]
    plain = run_scenario(SCENARIOS[name], jit=False)
    jitted = run_scenario(SCENARIOS[name], jit=True)
    assert jitted == plain
    assert autojit.stats()["compiled_calls"] > before
    assert not hasattr(builtins, "autojit_test_builtin")

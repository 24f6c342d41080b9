"""LOAD_ATTR's per-site cache (src/runtime/attr_cache.rs): instance attributes read from
inline values, and methods pushed without a lookup, must follow every change CPython allows
mid-run: attributes added, deleted or shadowed, classes changed, dicts materialized,
`__class__` reassigned, `__getattr__` added. Each scenario runs with autojit off and then
compiled; the outputs must agree.
"""

import autojit
import pytest
from conftest import run_scenario

SCENARIOS = {
    "instance attribute deleted mid-loop": """
        class P:
            def __init__(self):
                self.x = 1
        def f(p):
            out = []
            for i in range(6):
                try:
                    out.append(p.x)
                except AttributeError as e:
                    out.append(str(e))
                if i == 2:
                    del p.x
                if i == 4:
                    p.x = "back"
            return out
        out = f(P())
    """,
    "a property added to the class shadows the instance value": """
        class P:
            def __init__(self):
                self.x = 1
        def f(p):
            return p.x
        p = P()
        out = [f(p), f(p)]
        P.x = property(lambda self: "property")
        out.append(f(p))
        del P.x
        out.append(f(p))
    """,
    "the instance dict is materialized": """
        class P:
            def __init__(self):
                self.x = 1
                self.y = 2
        def f(p):
            return p.x + p.y
        p = P()
        out = [f(p)]
        d = p.__dict__
        d["x"] = 10
        out.append(f(p))
        vars(p)["z"] = 3
        out.append(f(p))
    """,
    "an instance attribute shadows a method": """
        class P:
            def m(self):
                return "method"
        def f(p):
            return p.m()
        p, q = P(), P()
        out = [f(p), f(q)]
        p.m = lambda: "instance"
        out += [f(p), f(q)]
        del p.m
        out += [f(p), f(q)]
    """,
    "a method replaced on the class": """
        class P:
            def m(self):
                return 1
        def f(p):
            return p.m()
        p = P()
        out = [f(p)]
        P.m = lambda self: 2
        out.append(f(p))
        class Q(P):
            pass
        out.append(f(Q()))
        P.m = lambda self: 3
        out.append(f(Q()))
    """,
    "__getattr__ and __getattribute__ added later": """
        class P:
            def __init__(self):
                self.x = 1
        def f(p):
            return (p.x, getattr(p, "missing", None))
        p = P()
        out = [f(p)]
        P.__getattr__ = lambda self, name: "from __getattr__"
        out.append(f(p))
        P.__getattribute__ = lambda self, name: "from __getattribute__"
        out.append(f(p))
    """,
    "__class__ reassigned": """
        class A:
            def who(self):
                return "A"
        class B:
            def who(self):
                return "B"
        def f(o):
            return o.who()
        o = A()
        out = [f(o)]
        o.__class__ = B
        out.append(f(o))
    """,
    "many types at one site": """
        class A:
            def __init__(self):
                self.v = "A"
        class B:
            __slots__ = ("v",)
            def __init__(self):
                self.v = "B"
        class C(dict):
            v = "C"
        def f(objs):
            return [o.v for o in objs] + [len(o.__class__.__name__) for o in objs]
        out = f([A(), B(), C(), A(), B(), C()])
    """,
    "builtin methods and their subclasses": """
        class L(list):
            def append(self, x):
                super().append(("wrapped", x))
        def f(items):
            for i in range(3):
                items.append(i)
            return items
        out = [f([]), f(L())]
        l = L()
        l.append = lambda x: None
        out.append(f(l))
    """,
    "instances with many attributes": """
        class P:
            def __init__(self, n):
                for i in range(n):
                    setattr(self, f"a{i}", i)
            def total(self):
                return self.a0 + self.a1
        def f(p):
            return p.total() + p.a1
        out = [f(P(n)) for n in (2, 40, 2, 100)]
    """,
    "the class changes between two reads in one function": """
        class P:
            def __init__(self):
                self.x = 1
            def m(self):
                return "m"
        def f(p):
            out = []
            for i in range(8):
                out.append(p.x)
                try:
                    out.append(p.m())
                except AttributeError as e:
                    out.append(str(e))
                if i == 1:
                    P.x = property(lambda self: "property")
                elif i == 2:
                    P.m = lambda self: "new m"
                elif i == 3:
                    del P.x
                elif i == 4:
                    P.unrelated = 5
                elif i == 5:
                    del P.m
                elif i == 6:
                    P.m = staticmethod(lambda: "static")
            return out
        out = [f(P()), f(P())]
    """,
    "a base class changes under a subclass's instances": """
        class Base:
            def m(self):
                return "base"
        class Sub(Base):
            def __init__(self):
                self.x = 1
        def f(objs):
            out = []
            for i, o in enumerate(objs):
                out.append((o.m(), o.x))
                if i == 2:
                    Base.x = property(lambda self: "base property")
                if i == 4:
                    Base.m = lambda self: "replaced"
            return out
        out = f([Sub() for _ in range(7)])
    """,
    "methods of a class without instance dicts change": """
        class S:
            __slots__ = ("v",)
            def __init__(self, v):
                self.v = v
            def get(self):
                return self.v
        def f(objs):
            out = []
            for i, o in enumerate(objs):
                out.append(o.get())
                if i == 2:
                    S.get = lambda self: -self.v
            return out
        out = f([S(i) for i in range(5)])
    """,
    "the owner's last reference goes with the read": """
        import sys
        log = []
        class T:
            def __init__(self, v):
                self.v = v
            def __del__(self):
                log.append(("del", self.v, sys._getframe(1).f_lineno))
        def f():
            out = []
            for i in range(3):
                out.append(
                    T(i)
                    .v
                )
                out.append(T(i * 10).v)
            return out
        out = [f(), log]
    """,
    "a destructor run by the read changes the class": """
        class P:
            def __init__(self):
                self.x = 1
        class Dies:
            def __init__(self):
                self.x = "dies"
            def __del__(self):
                P.x = property(lambda self: "changed by __del__")
        def f(p):
            return [p.x, Dies().x, p.x]
        p, q = P(), P()
        out = [f(p), f(q)]
    """,
    "slots read, deleted, stored and shadowed": """
        class S:
            __slots__ = ("a", "b")
            def __init__(self, a):
                self.a = a
        class Sub(S):
            pass
        def read(o):
            try:
                return o.a, o.b
            except AttributeError as e:
                return str(e)
        def write(o, v):
            o.a = v
            o.b = -v
        out = []
        s = S(1)
        for i in range(8):
            out.append(read(s))
            write(s, i)
            if i == 2:
                del s.a
            if i == 4:
                del s.b
                out.append(read(s))
            if i == 5:
                s = Sub(10)
                s.__dict__["a"] = "in dict"  # the slot (a data descriptor) still wins
        S.a = property(lambda self: "property", lambda self, v: None)
        out += [read(S(3)), read(s)]
    """,
    "instance attributes replaced, added, and intercepted": """
        class P:
            def __init__(self):
                self.x = 1
        def set_x(p, v):
            p.x = v
            return vars(p).copy() if hasattr(p, "__dict__") else None
        def set_y(p, v):
            p.y = v
            return list(vars(p))
        out = []
        p, q, r = P(), P(), P()
        for i in range(4):
            out.append(set_x(p, i))
            out.append(set_y(q if i % 2 else p, i))
        del p.x
        out.append(set_x(p, "re-added"))
        d = q.__dict__
        out.append(set_x(q, "dict materialized"))
        P.x = property(lambda self: "prop", lambda self, v: out.append(("setter", v)))
        out.append(set_x(P(), "through the property"))
        out.append(set_x(r, "through the property, with a value"))
        del P.x
        P.__setattr__ = lambda self, k, v: out.append(("__setattr__", k, v))
        out.append(set_x(p, "intercepted"))
    """,
    "stores into read-only members": """
        def set_start(r, v):
            try:
                r.start = v
                return "stored"
            except AttributeError as e:
                return str(e)
        def get_start(r):
            return r.start
        rs = [range(i, 10) for i in range(4)]
        out = [(set_start(r, -1), get_start(r)) for r in rs]
    """,
    "a store's old value dies, its destructor looks at the line": """
        import sys
        log = []
        class Dies:
            def __del__(self):
                log.append(sys._getframe(1).f_lineno)
        class P:
            __slots__ = ("s",)
        class Q:
            pass
        def f(p, q):
            for i in range(3):
                p.s = Dies()
                q.v = Dies()
                p.s = (
                    None
                )
                q.v = None
        p, q = P(), Q()
        p.s = 0
        q.v = 0
        f(p, q)
        out = log
    """,
    "attribute read while values change": """
        class Counter:
            def __init__(self):
                self.n = 0
            def bump(self):
                self.n += 1
                return self.n
        def f(c):
            total = 0
            for _ in range(100):
                total += c.bump() + c.n
            return total
        out = [f(Counter()), f(Counter())]
    """,
}




@pytest.mark.parametrize("name", SCENARIOS)
def test_attribute_cache_sees_every_change(name):
    before = autojit.stats()["compiled_calls"]
    plain = run_scenario(SCENARIOS[name], jit=False)
    jitted = run_scenario(SCENARIOS[name], jit=True)
    assert jitted == plain
    assert autojit.stats()["compiled_calls"] > before

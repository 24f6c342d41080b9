"""Random sequences of changes to classes and instances, interleaved with attribute reads and
method calls from compiled code, against the interpreter (the LOAD_ATTR cache of
src/runtime/attr_cache.rs and the direct calls of src/tier1/calls.rs). Hypothesis builds a
script of steps; it runs once with autojit off and once compiled, and the logs must agree.
"""

import textwrap

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import autojit

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

PRELUDE = """
class Base:
    k = "class k"
    def m(self):
        return ("Base.m", self.x if hasattr(self, "x") else None)
    def n(self, a, b=2):
        return ("Base.n", a, b)

class Child(Base):
    def m(self):
        return ("Child.m", super().m())

class Slotted:
    __slots__ = ("x", "y")
    def m(self):
        return "Slotted.m"

def read(o):
    out = []
    for name in ("x", "y", "k"):
        try:
            out.append(getattr(o, name) if name == "k" else (o.x if name == "x" else o.y))
        except AttributeError as e:
            out.append(("AttributeError", str(e)))
    return out

def call(o):
    try:
        return (o.m(), o.n(1) if hasattr(o, "n") else None)
    except Exception as e:
        return (type(e).__name__, str(e))

objs = [Base(), Base(), Child(), Slotted()]
log = []
"""

STEPS = [
    "objs[{i}].x = {v}",
    "objs[{i}].y = {v}",
    "del objs[{i}].x",
    "objs[{i}].m = lambda: 'instance m'",
    "del objs[{i}].m",
    "objs[{i}].__dict__",
    "Base.x = property(lambda self: 'property x')",
    "del Base.x",
    "Base.m = lambda self: 'replaced m'",
    "Child.k = {v}",
    "Base.__getattr__ = lambda self, name: ('getattr', name)",
    "del Base.__getattr__",
    "objs[{i}].__class__ = Child",
    "objs[{i}].__class__ = Base",
    "for _j in range(40): objs[{i}].__dict__['z{v}'] = _j",
]


@st.composite
def scripts(draw):
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        step = draw(st.sampled_from(STEPS)).format(i=draw(st.integers(0, 3)), v=draw(st.integers(0, 9)))
        lines.append(f"try:\n    {step}\nexcept Exception as e:\n    log.append(('step failed', type(e).__name__))")
        lines.append("for _o in objs:\n    log.append((read(_o), call(_o)))")
    return "\n".join(lines)


def run(script, jit):
    namespace = {"__name__": "scenario"}
    if jit:
        autojit.enable(threshold=0)
    try:
        exec(textwrap.dedent(PRELUDE) + script, namespace)
    finally:
        if jit:
            autojit.disable()
    return namespace["log"]


@SETTINGS
@given(scripts())
def test_random_changes_to_classes_and_instances(script):
    note(script)
    assert run(script, jit=True) == run(script, jit=False)

"""On a Python autojit has no version layer for: it imports, enable() warns exactly once and
does nothing, and the program runs normally (also under AUTOJIT=1)."""

import os
import subprocess
import sys
import warnings

import autojit

assert not autojit.supported(), "this check is for unsupported interpreters"
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    autojit.enable()
    autojit.enable()
messages = [str(w.message) for w in caught if "autojit" in str(w.message)]
assert len(messages) == 1, messages
assert not autojit.enabled()
assert autojit.stats()["calls"] == 0
try:
    autojit.enable(threshold=-1)
except ValueError:
    pass
else:
    raise AssertionError("bad options must still be rejected")

env = dict(os.environ, AUTOJIT="1")
out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], env=env, capture_output=True, text=True)
assert out.returncode == 0 and out.stdout.strip() == "42", out
print(f"unsupported Python {sys.version.split()[0]}: imports, warns once ({messages[0]!r}), runs unjitted")

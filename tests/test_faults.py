"""Fault paths of compiled code: Ctrl-C in long compiled loops, other threads and signal
handlers making progress, tracing switched on from inside compiled code, out of memory for
code. Each runs in a fresh interpreter so a hang or crash shows as a failure, not a stuck suite."""

import sys

import pytest

from conftest import run_python

LOOPS = {
    # An int loop tier 2 takes over.
    "tier2_int": "def spin():\n    i = 0\n    while True:\n        i += 1\n",
    # A float loop over range, tier 2.
    "tier2_float": "def spin():\n    x = 0.0\n    for i in range(10**12):\n        x += i * 0.5\n",
    # A loop with a call in it: stays in tier 1.
    "tier1": "def spin():\n    i = 0\n    while True:\n        i = abs(i) + 1\n",
}


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_ctrl_c_interrupts_a_compiled_loop(loop):
    out = run_python(
        LOOPS[loop]
        + """
import os, signal, threading, autojit
autojit.enable()
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    spin()
except KeyboardInterrupt as error:
    import traceback
    frames = [f.name for f in traceback.extract_tb(error.__traceback__)]
    print("interrupted in", frames[-1])
s = autojit.stats()
print("compiled", s["compiled"] > 0)
""",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "interrupted in spin" in out.stdout
    assert "compiled True" in out.stdout


@pytest.mark.parametrize("loop", ["tier2_int", "tier1"])
def test_another_thread_progresses_while_a_compiled_loop_runs(loop):
    out = run_python(
        """
import threading, time, autojit
autojit.enable()
stop = False
def worker():
    i = 0
    while not stop:
        i += 1
    return i
progress = []
def other():
    for k in range(50):
        progress.append(k)
        time.sleep(0.001)
t = threading.Thread(target=worker)
t.start()
time.sleep(0.05)
o = threading.Thread(target=other)
o.start()
o.join(timeout=20)
stop = True
t.join(timeout=20)
print("progress", len(progress), "worker alive", t.is_alive())
""",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "progress 50 worker alive False" in out.stdout


def test_signal_handler_and_pending_calls_run_during_a_compiled_loop():
    out = run_python(
        """
import os, signal, threading, autojit
autojit.enable()
seen = []
signal.signal(signal.SIGUSR1, lambda *a: seen.append("signal"))
def spin(n):
    total = 0.0
    for i in range(n):
        total += i * 0.25
    return total
threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGUSR1)).start()
import time
deadline = time.monotonic() + 10
while not seen and time.monotonic() < deadline:
    spin(2_000_000)
print(seen, spin(10) == 11.25)
""",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "['signal'] True" in out.stdout


def test_tracing_started_inside_compiled_code_sees_the_rest_of_the_function():
    out = run_python(
        """
import sys, autojit
autojit.enable(threshold=0)
events = []
def tracer(frame, event, arg):
    if frame.f_code.co_name == "work":
        events.append((event, frame.f_lineno))
    return tracer
def start():
    sys.settrace(tracer)
def work():
    a = 1
    start()
    b = a + 1
    return b
def run():
    r = work()
    sys.settrace(None)
    return r
first = run()
got = list(events)
events.clear()
autojit.disable()
second = run()
print(first == second, got == events, got)
""",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("True True"), out.stdout


def test_out_of_memory_for_code_keeps_running_interpreted():
    out = run_python(
        """
import autojit
autojit.enable(threshold=0, code_limit=4096)
def f(n):
    return sum(i * i for i in range(n))
results = [f(100) for _ in range(3)]
def g(x):
    y = x + 1
    z = y * 2
    return [z, y, x]
print(results, g(3), autojit.stats()["code_limit_refusals"] > 0)
""",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "[328350, 328350, 328350] [8, 4, 3] True" in out.stdout

"""A program that starts a debugging or profiling tool in the middle of a run, from inside a
function running compiled code (tier 1: `work`; tier 2: the loop in `loop`), and prints what
the tool saw as JSON. tests/test_tools.py runs it with and without autojit and compares.

    python tool_script.py TOOL WHERE       (TOOL: settrace, setprofile, monitoring, cprofile,
                                            coverage, pdb; WHERE: tier1, tier2)
With TOOL_JIT=1 in the environment it enables autojit first.
"""

import json
import os
import sys

JIT = os.environ.get("TOOL_JIT") == "1"
if JIT:
    import autojit

    autojit.enable(threshold=5)

TOOL, WHERE = sys.argv[1], sys.argv[2]
HERE = os.path.abspath(__file__)
events = []
proof = {}
tool = {}


def ours(code):
    return os.path.abspath(code.co_filename) == HERE


# --- the tools: start() and stop() -------------------------------------------------------


def tracer(frame, event, arg):
    if ours(frame.f_code):
        events.append([event, frame.f_code.co_name, frame.f_lineno])
    return tracer


def profiler(frame, event, arg):
    if ours(frame.f_code):
        name = getattr(arg, "__qualname__", None) if event.startswith("c_") else None
        events.append([event, frame.f_code.co_name, name])


def start():
    if TOOL == "settrace":
        # As pdb does: the frames already running are traced too.
        frame = sys._getframe(1)
        while frame is not None:
            if ours(frame.f_code):
                frame.f_trace = tracer
            frame = frame.f_back
        sys.settrace(tracer)
    elif TOOL == "setprofile":
        sys.setprofile(profiler)
    elif TOOL == "monitoring":
        mon = sys.monitoring
        E = mon.events
        mon.use_tool_id(3, "tool_script")

        def record(kind):
            def callback(code, *args):
                if ours(code):
                    events.append([kind, code.co_name, args[0] if args else None])

            return callback

        def line(code, lineno):
            if ours(code):
                events.append(["line", code.co_name, lineno])

        mon.register_callback(3, E.LINE, line)
        mon.register_callback(3, E.PY_START, record("start"))
        mon.register_callback(3, E.PY_RETURN, record("return"))
        mon.register_callback(3, E.CALL, record("call"))
        mon.register_callback(3, E.JUMP, record("jump"))
        mon.set_events(3, E.LINE | E.PY_START | E.PY_RETURN | E.CALL | E.JUMP)
    elif TOOL == "cprofile":
        import cProfile

        tool["profile"] = cProfile.Profile()
        tool["profile"].enable()
    elif TOOL == "coverage":
        import coverage

        tool["coverage"] = coverage.Coverage(data_file=None, include=[HERE])
        tool["coverage"].start()
    elif TOOL == "pdb":
        breakpoint()
    else:
        raise SystemExit(f"unknown tool {TOOL}")


def stop():
    if TOOL == "settrace":
        sys.settrace(None)
    elif TOOL == "setprofile":
        sys.setprofile(None)
    elif TOOL == "monitoring":
        sys.monitoring.set_events(3, 0)
        sys.monitoring.free_tool_id(3)
    elif TOOL == "cprofile":
        import pstats

        tool["profile"].disable()
        stats = pstats.Stats(tool["profile"]).stats
        for (filename, line, name), (primitive, calls, _, _, _) in sorted(stats.items()):
            if os.path.abspath(filename) == HERE:
                events.append([name, line, primitive, calls])
    elif TOOL == "coverage":
        tool["coverage"].stop()
        events.append(sorted(tool["coverage"].get_data().lines(HERE) or []))


# --- the program ---------------------------------------------------------------------------


def check_compiled(where):
    """In the JIT run: the caller is running compiled code (the proof printed at the end)."""
    if JIT:
        caller = sys._getframe(1).f_code
        info = autojit._core.code_info(caller)
        counters = autojit._core.stats()
        proof[where] = {
            "compiled": info["compiled"],
            "compiled_calls": counters["compiled_calls"],
            "tier2_entries": counters["tier2_entries"],
        }


def helper(x):
    y = x * 2
    return y + 1


def work(n, go):
    a = n + 1
    if go:
        check_compiled("tier1")
        start()
    b = helper(a)
    c = b * 3
    total = 0
    for k in range(3):
        total += helper(k) + c
    return total


def loop(n):
    s = 0.0
    for i in range(n):
        s += i * 0.5
        if i == 3000:
            check_compiled("tier2")
            start()
        if i > 3000 and i % 500 == 0:
            s += helper(i)
    return s


def main():
    if WHERE == "tier1":
        results = [work(k, False) for k in range(40)]
        results.append(work(7, True))
        results.append(work(8, False))
    else:
        results = [loop(4000)]
        results.append(loop(10))
    stop()
    return results


results = main()
print(json.dumps({"results": results, "events": events, "proof": proof}))

"""Run a program with the JIT on, as plain ``python`` would run it.

    python -m autojit [--report] script.py [args...]
    python -m autojit [--report] -m module [args...]

argv, ``__main__``, exit codes and tracebacks are those of ``python script.py``.
"""

import os
import runpy
import sys

USAGE = "usage: python -m autojit [--report] (script.py | -m module) [args...]"


def _strip_our_frames(tb, first_user_file):
    """Drop the traceback entries of this launcher and runpy, so the traceback starts
    where ``python script.py`` would start it."""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if first_user_file is None or os.path.abspath(filename) == first_user_file:
            break
        if filename != __file__ and "runpy" not in filename:
            break
        tb = tb.tb_next
    return tb


def main(argv):
    report = False
    while argv and argv[0].startswith("-") and argv[0] != "-m":
        flag = argv.pop(0)
        if flag == "--report":
            report = True
        elif flag in ("-h", "--help"):
            print(USAGE)
            print(__doc__)
            return 0
        else:
            print(f"autojit: unknown option {flag}\n{USAGE}", file=sys.stderr)
            return 2
    if not argv or (argv[0] == "-m" and len(argv) < 2):
        print(USAGE, file=sys.stderr)
        return 2

    import autojit

    autojit.enable(**({"stats_at_exit": True} if report else {}))

    if argv[0] == "-m":
        module = argv[1]
        sys.argv = [module] + argv[2:]
        # As `python -m`: the current directory comes first on the path.
        sys.path[0] = os.getcwd()
        runner, target, user_file = runpy.run_module, module, None
        kwargs = {"run_name": "__main__", "alter_sys": True}
    else:
        script = argv[0]
        sys.argv = argv[:]
        # As `python script.py`: the script's directory comes first on the path.
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runner, target, user_file = runpy.run_path, script, os.path.abspath(script)
        kwargs = {"run_name": "__main__"}

    try:
        runner(target, **kwargs)
    except SystemExit:
        raise
    except OSError as error:
        if runner is runpy.run_path and not os.path.exists(target):
            print(
                f"{sys.orig_argv[0]}: can't open file {os.path.abspath(target)!r}: "
                f"[Errno {error.errno}] {error.strerror}",
                file=sys.stderr,
            )
            return 2
        _report_uncaught(error, user_file)
    except BaseException as error:  # as the interpreter reports an uncaught exception
        _report_uncaught(error, user_file)
    return 0


def _report_uncaught(error, user_file):
    error.__traceback__ = _strip_our_frames(error.__traceback__, user_file)
    sys.excepthook(type(error), error, error.__traceback__)
    if isinstance(error, KeyboardInterrupt):
        # Plain python dies of SIGINT after an uncaught KeyboardInterrupt.
        import signal

        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

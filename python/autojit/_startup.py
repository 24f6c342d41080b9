"""Whole-program mode: imported by autojit.pth at interpreter start-up when AUTOJIT is set."""

import warnings

try:
    import autojit

    autojit.enable()
except Exception as error:  # start-up must never fail because of us
    warnings.warn(f"autojit: AUTOJIT is set but the JIT could not be enabled: {error}", RuntimeWarning)

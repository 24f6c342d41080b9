//! Running compiled code for a frame: the bookkeeping `_PyEval_EvalFrameDefault` does on
//! entry and exit, done identically, around the compiled unit.

use super::Compiled;
use crate::cpython::{self, InterpreterFrame};
use crate::stats::STATS;
use pyo3_ffi::{PyObject, PyThreadState};

/// Run `compiled` for `frame` (fresh, owned by the thread, not yet linked).
#[inline]
pub unsafe fn run(tstate: *mut PyThreadState, frame: *mut InterpreterFrame, compiled: &Compiled) -> *mut PyObject {
    // The recursion unit the interpreter takes when it starts a frame. When the budget is
    // spent, the interpreter itself raises RecursionError (or re-syncs a raised limit).
    if !cpython::enter_recursive_py(tstate) {
        return cpython::eval_default(tstate, frame, 0);
    }
    // Link the frame as the thread's current frame, so sys._getframe(), tracebacks,
    // warnings and profilers see it while compiled code calls out.
    let cframe = cpython::tstate_cframe(tstate);
    let current = cpython::field::<*mut InterpreterFrame>(cframe, cpython::CFRAME_CURRENT_FRAME);
    let previous = *current;
    *cpython::field::<*mut InterpreterFrame>(frame.cast(), cpython::FRAME_PREVIOUS) = previous;
    *current = frame;
    STATS.compiled_calls.incr();

    let result = (compiled.entry)(tstate, frame);

    // Unlink before anything can release the frame's values (GH-99729), give the unit back.
    *current = previous;
    cpython::leave_recursive_py(tstate);
    if !result.is_null() {
        return cpython::finish_returned_frame(tstate, frame, result);
    }
    continue_in_interpreter(tstate, frame)
}

/// After an exit (compiled code returned null, the frame unlinked and the recursion unit
/// given back): the frame holds the exact interpreter state. With an exception set the
/// interpreter unwinds it (handlers, traceback); otherwise it continues the function.
#[inline]
pub unsafe fn continue_in_interpreter(tstate: *mut PyThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    let throwflag = !pyo3_ffi::PyErr_Occurred().is_null();
    if throwflag {
        STATS.exception_exits.incr();
    } else {
        STATS.interpreter_exits.incr();
    }
    cpython::eval_default(tstate, frame, throwflag as i32)
}

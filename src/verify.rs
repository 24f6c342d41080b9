//! Verify mode (the `verify` and `verify_calls` options): the first calls of each compiled
//! function also run in CPython's interpreter, and the two runs are compared bit for bit.
//!
//! Order: the interpreter runs first, on deep copies of the arguments, with the JIT stepping
//! aside for every frame of that run; then the compiled code runs on the real arguments, so
//! the program's own objects see exactly one run, the compiled one. `python/autojit/verify.py`
//! decides whether a call can be replayed, copies, runs and compares; a difference sends the
//! function back to the interpreter for good and warns (`autojit.VerifyWarning`).

use crate::codestate;
use crate::hook::aside;
use crate::cpython::{self, InterpreterFrame};
use crate::tier1::{self, Compiled};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyModule, PyTuple};
use pyo3_ffi::{PyObject, PyThreadState};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The `verify` option.
pub static VERIFY: AtomicBool = AtomicBool::new(false);
/// The `verify_calls` option: calls checked per compiled function and per tier-2 variant.
pub static VERIFY_CALLS: AtomicU64 = AtomicU64::new(3);
/// For tests: the next checked compiled result of this code object (its address) is replaced
/// by a different object.
pub static CORRUPT: AtomicUsize = AtomicUsize::new(0);

/// What verify mode did with one code object (explain()).
#[derive(Default)]
pub struct VerifyState {
    /// Calls that went through the verify decision (checked or skipped).
    pub attempted: u64,
    /// Calls compared with an interpreter run.
    pub checked: u64,
    /// Calls that could not be checked, and the last reason.
    pub skipped: u64,
    pub skip_reason: Option<String>,
    /// Why this code can never be checked (its effects cannot be replayed).
    pub never: Option<String>,
}

/// Call `func(*args, **kwargs)` entirely in the interpreter (no frame of it compiled or
/// counted).
pub fn interpreted<'py>(func: &Bound<'py, PyAny>, args: &Bound<'py, PyTuple>, kwargs: Option<&Bound<'py, pyo3::types::PyDict>>) -> PyResult<Bound<'py, PyAny>> {
    aside(|| func.call(args, kwargs))
}

/// Run `compiled` for `frame`, checking the call against the interpreter while the code's
/// quota of checked calls is not used up.
#[inline]
pub unsafe fn run(tstate: *mut PyThreadState, frame: *mut InterpreterFrame, code: *mut PyObject, compiled: &Compiled) -> *mut PyObject {
    let state = &mut *codestate::get(code);
    let variants = state.tier2.as_ref().map_or(0, |t| t.loops.len() as u64);
    let quota = VERIFY_CALLS.load(Relaxed).saturating_mul(1 + variants);
    if state.verify.never.is_some() || state.verify.attempted >= quota {
        return tier1::entry::run(tstate, frame, compiled);
    }
    state.verify.attempted += 1;
    check(tstate, frame, code, compiled)
}

fn verify_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    MODULE.get_or_try_init(py, || py.import("autojit.verify").map(Bound::unbind)).map(|m| m.bind(py))
}

const CO_VARARGS: i32 = 0x4;
const CO_VARKEYWORDS: i32 = 0x8;

/// The frame's arguments (positional, keyword-only, *args, **kwargs), as a tuple.
unsafe fn arguments<'py>(py: Python<'py>, frame: *mut InterpreterFrame, code: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let count = |attr: &str| code.getattr(attr).and_then(|v| v.extract::<usize>());
    let flags = cpython::code_flags(code.as_ptr());
    let n = count("co_argcount")?
        + count("co_kwonlyargcount")?
        + (flags & CO_VARARGS != 0) as usize
        + (flags & CO_VARKEYWORDS != 0) as usize;
    let slots = cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS);
    let items: Vec<Bound<'py, PyAny>> = (0..n)
        .map(|i| {
            let obj = *slots.add(i);
            if obj.is_null() { py.None().into_bound(py) } else { Bound::from_borrowed_ptr(py, obj) }
        })
        .collect();
    PyTuple::new(py, items)
}

/// What `check` ends with.
enum Outcome<'py> {
    /// Run the compiled code without a check.
    Unchecked,
    /// Raise this in the frame, at its start (a KeyboardInterrupt during the reference run).
    Throw(PyErr),
    /// The call returned this.
    Return(Bound<'py, PyAny>),
    /// The call raised this.
    Raise(PyErr),
}

#[cold]
unsafe fn check(tstate: *mut PyThreadState, frame: *mut InterpreterFrame, code: *mut PyObject, compiled: &Compiled) -> *mut PyObject {
    let py = Python::assume_attached();
    // Every temporary is released inside `checked`, before an exception is set here: a
    // destructor must never run with an exception pending.
    match checked(py, tstate, frame, code, compiled) {
        Outcome::Unchecked => tier1::entry::run(tstate, frame, compiled),
        Outcome::Throw(error) => {
            error.restore(py);
            cpython::eval_default(tstate, frame, 1)
        }
        Outcome::Return(value) => value.into_ptr(),
        Outcome::Raise(error) => {
            error.restore(py);
            std::ptr::null_mut()
        }
    }
}

unsafe fn checked<'py>(
    py: Python<'py>,
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    code: *mut PyObject,
    compiled: &Compiled,
) -> Outcome<'py> {
    // Our own references: the frame releases its function and code when it finishes.
    let func = Bound::from_borrowed_ptr(py, *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_FUNCTION));
    let code_obj = Bound::from_borrowed_ptr(py, code);
    // Verify mode's own Python code runs aside (uncounted, never compiled), like the
    // reference run itself.
    let plan = aside(|| {
        let module = verify_module(py)?;
        let args = arguments(py, frame, &code_obj)?;
        module.call_method1("reference", (&func, args))?.extract::<(String, Bound<'_, PyAny>)>()
    });
    let record = match plan {
        Ok((kind, payload)) if kind == "ref" => payload,
        Ok((kind, payload)) => {
            let state = &mut *codestate::get(code);
            let reason = payload.str().map(|s| s.to_string()).unwrap_or_default();
            state.verify.skipped += 1;
            crate::stats::STATS.verify_skipped.incr();
            if kind == "never" {
                state.verify.never = Some(reason);
            } else {
                state.verify.skip_reason = Some(reason);
            }
            return Outcome::Unchecked;
        }
        // Ctrl-C during the reference run: the program gets it.
        Err(error) if error.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) => return Outcome::Throw(error),
        // Verify mode itself failed (e.g. at interpreter shutdown): the call is not checked.
        Err(error) => {
            let state = &mut *codestate::get(code);
            state.verify.skipped += 1;
            crate::stats::STATS.verify_skipped.incr();
            state.verify.skip_reason = Some(format!("verify mode failed: {error}"));
            return Outcome::Unchecked;
        }
    };

    let result = tier1::entry::run(tstate, frame, compiled);
    let (mut value, error) = if result.is_null() {
        (None, PyErr::take(py))
    } else {
        (Some(Bound::from_owned_ptr(py, result)), None)
    };
    if value.is_some() && CORRUPT.load(Relaxed) == code as usize {
        CORRUPT.store(0, Relaxed);
        if let Ok(corrupted) = aside(|| verify_module(py)?.call_method1("_corrupted", (value.as_ref(),))) {
            value = Some(corrupted);
        }
    }
    let exception = error.as_ref().map(|e| e.value(py).clone().into_any());
    let verdict = aside(|| {
        verify_module(py)?.call_method1("compare", (record, value.as_ref(), exception))?.extract::<Option<String>>()
    });
    {
        let state = &mut *codestate::get(code);
        state.verify.checked += 1;
        crate::stats::STATS.verified_calls.incr();
    }
    match verdict {
        Ok(None) => {}
        Ok(Some(difference)) => {
            send_back(py, code, &difference);
            // The warning may be turned into an error by the filters: the call raises it.
            if let Err(raised) = aside(|| verify_module(py)?.call_method1("warn_mismatch", (&code_obj, &difference))) {
                return Outcome::Raise(raised);
            }
        }
        Err(raised) => return Outcome::Raise(raised),
    }
    match (value, error) {
        (Some(value), _) => Outcome::Return(value),
        (None, Some(error)) => Outcome::Raise(error),
        (None, None) => Outcome::Raise(pyo3::exceptions::PySystemError::new_err("error return without exception set")),
    }
}

/// Send `code` back to the interpreter for good: its compiled code is retired (frames still
/// running it finish in it; tier 2 is never entered again) and it is never compiled again.
pub unsafe fn send_back(py: Python<'_>, code: *mut PyObject, why: &str) {
    let state = &mut *codestate::get(code);
    if state.sent_back.is_none() {
        state.sent_back = Some(why.to_owned());
        if let Some(compiled) = state.compiled.take() {
            state.retired.push(compiled);
            crate::tier1::calls::invalidate_call_caches();
        }
        crate::stats::STATS.sent_back.incr();
        crate::observe::sent_back(py, code, why);
    }
}

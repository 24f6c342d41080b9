//! Tier 0: the PEP 523 frame-evaluation function.
//!
//! CPython hands every Python frame it evaluates to `eval_frame` once the hook is installed.
//! For cold code the hook must be cheap: find the code's state, count, and hand the frame to
//! CPython's own eval loop. Frames it never takes: generator and coroutine frames (their
//! resumptions too), module and class bodies, code in excluded modules, and any frame while
//! tracing, profiling or monitoring is active.

use crate::codestate::{self, CodeState, Eligibility};
use crate::cpython::ffi::{
    EvalFrameFn, InterpreterState, _PyEval_EvalFrameDefault, _PyInterpreterState_GetEvalFrameFunc,
    _PyInterpreterState_SetEvalFrameFunc,
};
use crate::cpython::{self, InterpreterFrame};
use crate::options::THRESHOLD;
use crate::stats::STATS;
use crate::{exclusion, stack_guard, tier1, verify};
use pyo3_ffi::{PyObject, PyThreadState};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// The frame-evaluation function autojit installs.
pub unsafe extern "C" fn eval_frame(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    throwflag: c_int,
) -> *mut PyObject {
    // autojit's own Python code (verify mode's reference run, the compile-event log): the
    // interpreter's, uncounted.
    if stack_guard::exhausted() {
        return refuse_too_deep(tstate, frame);
    }
    if stepping_aside() {
        return cpython::eval_default(tstate, frame, throwflag);
    }
    STATS.frames_seen.incr();
    // A thrown-into frame or a generator resumption goes straight to the interpreter.
    if throwflag != 0 || cpython::frame_owner(frame) != cpython::FRAME_OWNED_BY_THREAD {
        return cpython::eval_default(tstate, frame, throwflag);
    }
    let code = cpython::frame_code(frame);
    if code == POLL_CODE.load(Relaxed) {
        return cpython::eval_default(tstate, frame, throwflag);
    }
    if cpython::tracing_active(tstate, code) {
        STATS.frames_while_tracing.incr();
        suspend_for_tracing();
        return cpython::eval_default(tstate, frame, throwflag);
    }
    let state = codestate::get_or_create(code);
    if state.is_null() {
        return cpython::eval_default(tstate, frame, throwflag);
    }
    let state = &mut *state;
    if state.exclusion_generation != exclusion::generation() {
        decide_eligibility(state, code, frame);
    }
    match state.eligibility {
        Eligibility::Eligible => {}
        Eligibility::Excluded => {
            STATS.frames_excluded.incr();
            return cpython::eval_default(tstate, frame, throwflag);
        }
        _ => {
            STATS.frames_ineligible.incr();
            return cpython::eval_default(tstate, frame, throwflag);
        }
    }
    let calls_before = state.calls;
    state.calls = calls_before + 1;
    STATS.calls.incr();
    if let Some(compiled) = state.compiled.as_deref() {
        if COMPILE.load(Relaxed) {
            return run_compiled(tstate, frame, code, compiled);
        }
    }
    if !state.hot && (calls_before >= THRESHOLD.load(Relaxed) || state.has_loop) {
        if let Some(compiled) = become_hot(state, code) {
            return run_compiled(tstate, frame, code, compiled);
        }
    }
    cpython::eval_default(tstate, frame, throwflag)
}

/// Threads running `aside`, in any thread (the hook's cheap test before the thread-local).
static ASIDE_THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static ASIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[inline(always)]
fn stepping_aside() -> bool {
    ASIDE_THREADS.load(Relaxed) != 0 && ASIDE.with(std::cell::Cell::get)
}

/// May compiled code enter a compiled callee directly, as the hook itself would run it? Not
/// in verify mode (the hook checks calls) nor while some thread steps aside.
#[inline(always)]
pub fn direct_calls_allowed() -> bool {
    !verify::VERIFY.load(Relaxed) && ASIDE_THREADS.load(Relaxed) == 0
}

/// Run `f` with the hook stepping aside for every frame this thread evaluates meanwhile:
/// all of it runs in the interpreter, compiling and counting nothing.
pub fn aside<R>(f: impl FnOnce() -> R) -> R {
    let was = ASIDE.with(|c| c.replace(true));
    if !was {
        ASIDE_THREADS.fetch_add(1, Relaxed);
        tier1::calls::invalidate_call_caches();
    }
    let result = f();
    if !was {
        // (Caches are never filled while a thread steps aside: nothing to invalidate.)
        ASIDE_THREADS.fetch_sub(1, Relaxed);
    }
    ASIDE.with(|c| c.set(was));
    result
}

/// Run compiled code for the frame (checked against the interpreter in verify mode).
#[inline(always)]
unsafe fn run_compiled(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    code: *mut PyObject,
    compiled: &crate::tier1::Compiled,
) -> *mut PyObject {
    if verify::VERIFY.load(Relaxed) {
        return verify::run(tstate, frame, code, compiled);
    }
    tier1::entry::run(tstate, frame, compiled)
}

/// The code reached its threshold: compile it (once; a failure is recorded, not retried).
#[cold]
unsafe fn become_hot(state: &mut CodeState, code: *mut PyObject) -> Option<&crate::tier1::Compiled> {
    if !COMPILE.load(Relaxed) {
        return None;
    }
    state.hot = true;
    STATS.hot_functions.incr();
    let counter = std::ptr::addr_of_mut!(state.backedges) as usize;
    let py = pyo3::Python::assume_attached();
    let _no_python_code = crate::gc_pause::GcPaused::new();
    match tier1::compile(code, Some(counter)) {
        Ok(compiled) => {
            state.compiled_at_call = state.calls;
            let compiled: *const tier1::Compiled = &**state.compiled.insert(Box::new(compiled));
            // The log may run Python code; the boxed code stays put while it does.
            crate::observe::function_compiled(py, code, &*compiled, state.compiled_at_call);
            Some(&*compiled)
        }
        Err(why) => {
            STATS.compile_failures.incr();
            crate::observe::function_refused(py, code, &why);
            state.compile_error = Some(why);
            None
        }
    }
}

/// Whether hot code is compiled (an internal switch for measuring the hook alone).
pub static COMPILE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Decide (again, if the exclusion list changed) whether the code may ever be compiled.
#[cold]
unsafe fn decide_eligibility(state: &mut CodeState, code: *mut PyObject, frame: *mut InterpreterFrame) {
    let first_decision = state.eligibility == Eligibility::Undecided;
    state.exclusion_generation = exclusion::generation();
    let flags = cpython::code_flags(code);
    let generator_flags = cpython::CO_GENERATOR
        | cpython::CO_COROUTINE
        | cpython::CO_ITERABLE_COROUTINE
        | cpython::CO_ASYNC_GENERATOR;
    if flags & generator_flags != 0 {
        state.eligibility = Eligibility::Generator;
    } else if flags & cpython::CO_OPTIMIZED == 0 {
        state.eligibility = Eligibility::NotAFunction;
    } else {
        if state.module.is_none() {
            state.module = module_name(cpython::frame_globals(frame));
        }
        state.excluded_by = state.module.as_deref().and_then(exclusion::excluding_prefix);
        let was_excluded = state.eligibility == Eligibility::Excluded;
        state.has_loop = has_backward_jump(code);
        state.eligibility = if state.excluded_by.is_some() {
            Eligibility::Excluded
        } else {
            Eligibility::Eligible
        };
        match (was_excluded, state.eligibility == Eligibility::Excluded) {
            (false, true) => STATS.code_objects_excluded.add(1),
            (true, false) => STATS.code_objects_excluded.sub(1),
            _ => {}
        }
        return;
    }
    if first_decision {
        STATS.code_objects_ineligible.incr();
    }
}

/// `globals['__name__']` as a Rust string, if it is one.
unsafe fn module_name(globals: *mut PyObject) -> Option<String> {
    if globals.is_null() || pyo3_ffi::PyDict_Check(globals) == 0 {
        return None;
    }
    let name = pyo3_ffi::PyDict_GetItemString(globals, c"__name__".as_ptr());
    if name.is_null() || pyo3_ffi::PyUnicode_Check(name) == 0 {
        pyo3_ffi::PyErr_Clear();
        return None;
    }
    let mut size: pyo3_ffi::Py_ssize_t = 0;
    let data = pyo3_ffi::PyUnicode_AsUTF8AndSize(name, &mut size);
    if data.is_null() {
        pyo3_ffi::PyErr_Clear();
        return None;
    }
    let bytes = std::slice::from_raw_parts(data as *const u8, size as usize);
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// The C stack is nearly exhausted: raise RecursionError in the frame, through CPython's own
/// throw path, which unwinds and releases the frame exactly as for any other error.
#[cold]
unsafe fn refuse_too_deep(tstate: *mut PyThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    STATS.stack_guard_trips.incr();
    pyo3_ffi::PyErr_SetString(
        pyo3_ffi::PyExc_RecursionError,
        c"maximum recursion depth exceeded".as_ptr(),
    );
    cpython::eval_default(tstate, frame, 1)
}

/// What `install` found.
#[derive(Debug, PartialEq, Eq)]
pub enum InstallOutcome {
    Installed,
    AlreadyInstalled,
    /// Another frame-evaluation function is installed; we left it alone.
    Foreign(usize),
}

/// The user asked for the JIT (enable() without a later disable()).
static USER_ENABLED: AtomicBool = AtomicBool::new(false);
/// The hook is out of the way because tracing, profiling or monitoring is active.
static SUSPENDED: AtomicBool = AtomicBool::new(false);
/// The thread that asks the main thread to re-arm the hook is running.
static REARMER_RUNNING: AtomicBool = AtomicBool::new(false);

fn interp() -> *mut InterpreterState {
    unsafe { crate::cpython::ffi::PyInterpreterState_Get() }
}

fn ours() -> EvalFrameFn {
    eval_frame
}

fn default_eval() -> EvalFrameFn {
    _PyEval_EvalFrameDefault
}

unsafe fn current_eval() -> usize {
    _PyInterpreterState_GetEvalFrameFunc(interp()) as usize
}

/// Install the hook in the current interpreter (all its threads). While tracing or
/// monitoring is active the hook stays out of the way and arms itself once it ends.
pub fn install() -> InstallOutcome {
    unsafe {
        let current = current_eval();
        if current == ours() as usize {
            USER_ENABLED.store(true, Relaxed);
            return InstallOutcome::AlreadyInstalled;
        }
        if current != default_eval() as usize {
            return InstallOutcome::Foreign(current);
        }
        USER_ENABLED.store(true, Relaxed);
        if cpython::tracing_anywhere(interp()) {
            SUSPENDED.store(true, Relaxed);
            start_rearmer();
        } else {
            _PyInterpreterState_SetEvalFrameFunc(interp(), ours());
        }
        InstallOutcome::Installed
    }
}

/// Remove the hook, restoring CPython's default. Returns whether the JIT was enabled. A
/// foreign hook installed after ours is left in place.
pub fn uninstall() -> bool {
    let was_enabled = USER_ENABLED.swap(false, Relaxed);
    SUSPENDED.store(false, Relaxed);
    if installed() {
        unsafe { _PyInterpreterState_SetEvalFrameFunc(interp(), default_eval()) };
    }
    was_enabled
}

/// The hook is installed right now (not suspended, not replaced).
pub fn installed() -> bool {
    unsafe { current_eval() == ours() as usize }
}

/// Would the hook run compiled code for a frame of `tstate` now (installed, compiling
/// allowed)? Reads the interpreter through `tstate` (no thread-local lookup).
#[inline(always)]
pub unsafe fn runs_compiled_code(tstate: *mut PyThreadState) -> bool {
    COMPILE.load(Relaxed)
        && _PyInterpreterState_GetEvalFrameFunc(cpython::tstate_interp(tstate) as *mut InterpreterState) as usize
            == ours() as usize
}

/// The user enabled the JIT (it may be suspended while tracing is active).
pub fn enabled() -> bool {
    USER_ENABLED.load(Relaxed)
}

pub fn suspended() -> bool {
    SUSPENDED.load(Relaxed)
}

/// Tracing, profiling or monitoring became active: take the hook out of CPython's way, so
/// that every event is exactly what plain CPython produces (some differ merely because a
/// PEP 523 function is installed, e.g. 3.12's `async for` under sys.settrace). Compiled
/// frames still running notice it after their next call and continue in the interpreter.
#[cold]
fn suspend_for_tracing() {
    if installed() {
        unsafe { _PyInterpreterState_SetEvalFrameFunc(interp(), default_eval()) };
        SUSPENDED.store(true, Relaxed);
        STATS.tracing_suspensions.incr();
        start_rearmer();
    }
}

/// Re-install the hook if it was suspended for tracing and no tracing, profiling or
/// monitoring is active any more. Returns whether it did.
pub fn resume_if_quiet() -> bool {
    unsafe {
        if SUSPENDED.load(Relaxed)
            && USER_ENABLED.load(Relaxed)
            && current_eval() == default_eval() as usize
            && !cpython::tracing_anywhere(interp())
        {
            _PyInterpreterState_SetEvalFrameFunc(interp(), ours());
            SUSPENDED.store(false, Relaxed);
            return true;
        }
    }
    false
}

/// While suspended, a native thread (invisible to `threading`) asks the main thread every
/// few milliseconds, through a pending call, to re-arm the hook when tracing has ended.
fn start_rearmer() {
    if REARMER_RUNNING.swap(true, Relaxed) {
        return;
    }
    let spawned = std::thread::Builder::new().name("autojit-rearm".into()).spawn(|| loop {
        std::thread::sleep(std::time::Duration::from_millis(10));
        if !SUSPENDED.load(Relaxed) || STOPPING.load(Relaxed) {
            REARMER_RUNNING.store(false, Relaxed);
            // A suspension that raced with this exit needs a rearmer again.
            if SUSPENDED.load(Relaxed) && !STOPPING.load(Relaxed) && !REARMER_RUNNING.swap(true, Relaxed) {
                continue;
            }
            return;
        }
        unsafe {
            if pyo3_ffi::Py_IsInitialized() != 0 {
                pyo3_ffi::Py_AddPendingCall(Some(rearm_pending_call), std::ptr::null_mut());
            }
        }
    });
    if spawned.is_err() {
        REARMER_RUNNING.store(false, Relaxed);
    }
}

extern "C" fn rearm_pending_call(_: *mut std::os::raw::c_void) -> c_int {
    resume_if_quiet();
    0
}

/// Set at interpreter shutdown (atexit) so the rearmer never touches a finalizing interpreter.
static STOPPING: AtomicBool = AtomicBool::new(false);

pub fn shutdown() {
    STOPPING.store(true, Relaxed);
}

/// In a forked child no rearmer thread exists: start one again if suspended.
pub fn after_fork_in_child() {
    REARMER_RUNNING.store(false, Relaxed);
    if SUSPENDED.load(Relaxed) {
        start_rearmer();
    }
}

/// Does the code contain a backward jump (a loop)?
unsafe fn has_backward_jump(code: *mut PyObject) -> bool {
    let Some(bytes) = cpython::code_bytes(code) else { return false };
    let table = crate::bytecode::opcodes::table();
    bytes.chunks(2).any(|unit| {
        use crate::bytecode::Op::*;
        matches!(
            table.ops[unit[0] as usize],
            JUMP_BACKWARD
                | POP_JUMP_BACKWARD_IF_FALSE
                | POP_JUMP_BACKWARD_IF_TRUE
                | POP_JUMP_BACKWARD_IF_NONE
                | POP_JUMP_BACKWARD_IF_NOT_NONE
        )
    })
}

/// The code object of the do-nothing function compiled code calls to let CPython handle
/// pending work (see `runtime::handle_eval_breaker`); the hook always passes it through.
static POLL_CODE: std::sync::atomic::AtomicPtr<PyObject> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
static POLL_FUNCTION: std::sync::atomic::AtomicPtr<PyObject> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
static EVAL_BREAKER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static INTERP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Address of the main interpreter's `PyInterpreterState`.
pub fn interp_address() -> usize {
    INTERP.load(Relaxed)
}

/// Create the poll function and note the eval breaker's address. Called once at import.
pub fn init_runtime(py: pyo3::Python<'_>) -> pyo3::PyResult<()> {
    use pyo3::prelude::*;
    if POLL_FUNCTION.load(Relaxed).is_null() {
        let namespace = pyo3::types::PyDict::new(py);
        py.run(c"def _autojit_poll():\n    pass\n", Some(&namespace), None)?;
        let function = namespace.get_item("_autojit_poll")?.expect("defined");
        let code = function.getattr("__code__")?;
        POLL_CODE.store(code.into_ptr(), Relaxed);
        POLL_FUNCTION.store(function.into_ptr(), Relaxed);
    }
    unsafe {
        let interp = crate::cpython::ffi::PyInterpreterState_Main() as usize;
        EVAL_BREAKER.store(interp + cpython::INTERP_EVAL_BREAKER, Relaxed);
        INTERP.store(interp, Relaxed);
    }
    Ok(())
}

pub fn poll_function() -> *mut PyObject {
    POLL_FUNCTION.load(Relaxed)
}

/// Address of the interpreter's `ceval.eval_breaker` (a 32-bit flag).
pub fn eval_breaker_address() -> usize {
    EVAL_BREAKER.load(Relaxed)
}

//! autojit's per-code-object state, kept in a code-extra slot (PEP 523's `co_extra`).
//!
//! CPython calls our free function when the code object dies, so the state (and, later, the
//! compiled code it owns) lives exactly as long as the code.

#[cfg(not(autojit_supported))]
use crate::cpython::ffi::_PyCode_GetExtra;
use crate::cpython::ffi::{_PyCode_SetExtra, _PyEval_RequestCodeExtraIndex};
use crate::stats::STATS;
use pyo3_ffi::{PyObject, Py_ssize_t};
use std::os::raw::c_void;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Whether the code may ever be compiled, decided once per code object.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Eligibility {
    Undecided,
    Eligible,
    /// Generator, coroutine or async generator code.
    Generator,
    /// Module or class body (not an optimized function body).
    NotAFunction,
    /// In a module the user excluded.
    Excluded,
}

impl Eligibility {
    pub fn describe(self) -> &'static str {
        match self {
            Eligibility::Undecided => "not yet run",
            Eligibility::Eligible => "eligible",
            Eligibility::Generator => "generator or coroutine code (not compiled)",
            Eligibility::NotAFunction => "module or class body (not compiled)",
            Eligibility::Excluded => "in an excluded module",
        }
    }
}

pub struct CodeState {
    /// Calls counted (frames evaluated through the hook while not tracing).
    pub calls: u64,
    /// Loop back-edges counted (counted by compiled code).
    pub backedges: u64,
    pub eligibility: Eligibility,
    /// The exclusion-list generation `eligibility` was decided under.
    pub exclusion_generation: u64,
    /// The module the code was first seen in (from its frame's globals).
    pub module: Option<String>,
    /// The prefix that excluded it.
    pub excluded_by: Option<String>,
    /// Reached the call threshold (or has a loop).
    pub hot: bool,
    /// The code contains a loop (a backward jump): compiled on its first call.
    pub has_loop: bool,
    /// Tier-1 machine code, once compiled.
    pub compiled: Option<Box<crate::tier1::Compiled>>,
    /// Why compilation failed, if it did (it is not retried).
    pub compile_error: Option<String>,
    /// Tier-2 loop variants.
    pub tier2: Option<crate::tier2::Tier2State>,
    /// Calls counted when tier 1 compiled the code.
    pub compiled_at_call: u64,
    /// Verify mode: calls checked against the interpreter, calls that could not be checked
    /// (with the last reason), and a reason that rules out checking this code at all.
    pub verify: crate::verify::VerifyState,
    /// Sent back to the interpreter for good (why): never compiled or run compiled again.
    pub sent_back: Option<String>,
    /// Compiled code taken out of service; kept alive while frames may still run it.
    pub retired: Vec<Box<crate::tier1::Compiled>>,
}

static EXTRA_INDEX: AtomicIsize = AtomicIsize::new(-1);

/// Reserve our code-extra slot. Called once, at module import.
pub fn init() -> Result<(), &'static str> {
    if EXTRA_INDEX.load(Relaxed) >= 0 {
        return Ok(());
    }
    let index = unsafe { _PyEval_RequestCodeExtraIndex(free_state) };
    if index < 0 {
        return Err("no code-extra slot left in this interpreter");
    }
    EXTRA_INDEX.store(index, Relaxed);
    Ok(())
}

unsafe extern "C" fn free_state(state: *mut c_void) {
    if !state.is_null() {
        // Call-site caches may name this code object (and count into its state).
        crate::tier1::calls::invalidate_call_caches();
        drop(Box::from_raw(state as *mut CodeState));
        STATS.code_objects_live.sub(1);
    }
}

fn index() -> Py_ssize_t {
    EXTRA_INDEX.load(Relaxed)
}

/// A code object's extra slots (`_PyCodeObjectExtra` in CPython's code.h).
#[repr(C)]
struct CodeExtra {
    ce_size: Py_ssize_t,
    ce_extras: [*mut c_void; 1],
}

/// The state of `code`, or null if it has none yet. The GIL must be held. Reads the slot as
/// `_PyCode_GetExtra` does, without the call (this is on every call's path).
#[inline(always)]
pub unsafe fn get(code: *mut PyObject) -> *mut CodeState {
    #[cfg(autojit_supported)]
    {
        let extra = *crate::cpython::field::<*const CodeExtra>(code.cast(), crate::cpython::CODE_CO_EXTRA);
        let i = index();
        if extra.is_null() || i < 0 || i >= (*extra).ce_size {
            return std::ptr::null_mut();
        }
        *(*extra).ce_extras.as_ptr().offset(i) as *mut CodeState
    }
    #[cfg(not(autojit_supported))]
    {
        let mut extra: *mut c_void = std::ptr::null_mut();
        if _PyCode_GetExtra(code, index(), &mut extra) != 0 {
            pyo3_ffi::PyErr_Clear();
            return std::ptr::null_mut();
        }
        extra as *mut CodeState
    }
}

/// The state of `code`, created if missing; null only if CPython could not store it
/// (out of memory), with no exception left set. The GIL must be held.
#[inline(always)]
pub unsafe fn get_or_create(code: *mut PyObject) -> *mut CodeState {
    let state = get(code);
    if !state.is_null() {
        return state;
    }
    create(code)
}

#[cold]
unsafe fn create(code: *mut PyObject) -> *mut CodeState {
    if index() < 0 {
        return std::ptr::null_mut();
    }
    let state = Box::into_raw(Box::new(CodeState {
        calls: 0,
        backedges: 0,
        eligibility: Eligibility::Undecided,
        exclusion_generation: 0,
        module: None,
        excluded_by: None,
        hot: false,
        has_loop: false,
        compiled: None,
        compile_error: None,
        tier2: None,
        compiled_at_call: 0,
        verify: Default::default(),
        sent_back: None,
        retired: Vec::new(),
    }));
    if _PyCode_SetExtra(code, index(), state as *mut c_void) != 0 {
        pyo3_ffi::PyErr_Clear();
        drop(Box::from_raw(state));
        return std::ptr::null_mut();
    }
    STATS.code_objects_seen.incr();
    STATS.code_objects_live.add(1);
    state
}

//! Direct calls between compiled functions.
//!
//! A CALL whose callee is a Python function with compiled code does not go back through
//! CPython's call machinery (`PyObject_Vectorcall` → `_PyFunction_Vectorcall` →
//! `_PyEval_Vector` → the PEP 523 hook): it pushes and initializes the callee's frame on the
//! thread's data stack exactly as `_PyEvalFramePushAndInit` would, moving the caller's
//! stack references into it, and runs the compiled code through `entry::run`, the same
//! path the hook takes. Any case this does not cover (keywords, `*args`, a full data-stack
//! chunk, tracing, a callee not compiled yet) takes the ordinary path, which behaves the
//! same, only slower.

use super::entry;
use crate::codestate::{self, Eligibility};
use crate::cpython::{self, field, InterpreterFrame};
use crate::stats::STATS;
use pyo3_ffi::{PyObject, PyThreadState, Py_INCREF, Py_TYPE};

extern "C" {
    static mut PyMethod_Type: pyo3_ffi::PyTypeObject;
    fn _Py_CheckFunctionResult(
        tstate: *mut PyThreadState,
        callable: *mut PyObject,
        result: *mut PyObject,
        where_: *const std::os::raw::c_char,
    ) -> *mut PyObject;
}

/// `co_flags` bits that need argument packing the direct path does not do.
const CO_VARARGS: i32 = 0x4;
const CO_VARKEYWORDS: i32 = 0x8;

/// CALL without keyword names. `slots` = `[method or NULL, callable or self, args...]`, all
/// consumed, as `runtime::call` takes them.
pub unsafe extern "C" fn call_positional(
    tstate: *mut PyThreadState,
    slots: *mut *mut PyObject,
    nargs: u64,
) -> *mut PyObject {
    let mut method = *slots;
    let mut callable = *slots.add(1);
    // A bound method object: call its function with `self` first, as CALL does.
    if method.is_null() && Py_TYPE(callable) == std::ptr::addr_of_mut!(PyMethod_Type) {
        let func = *field::<*mut PyObject>(callable.cast(), cpython::METHOD_IM_FUNC);
        let self_ = *field::<*mut PyObject>(callable.cast(), cpython::METHOD_IM_SELF);
        Py_INCREF(func);
        Py_INCREF(self_);
        *slots = func;
        *slots.add(1) = self_;
        pyo3_ffi::Py_DECREF(callable);
        method = func;
        callable = self_;
    }
    let (func, args, total) = if method.is_null() {
        (callable, slots.add(2), nargs as usize)
    } else {
        (method, slots.add(1), nargs as usize + 1)
    };
    if Py_TYPE(func) == std::ptr::addr_of_mut!(pyo3_ffi::PyFunction_Type) {
        if let Some(result) = try_direct(tstate, func, args, total) {
            return result;
        }
    } else if func == list_append_descriptor() && total == 2 && pyo3_ffi::PyList_CheckExact(*args) != 0 {
        // `items.append(x)` on an exact list, as CPython's CALL_NO_KW_LIST_APPEND.
        let status = pyo3_ffi::PyList_Append(*args, *args.add(1));
        release(slots, nargs);
        return if status < 0 { std::ptr::null_mut() } else { pyo3_ffi::Py_NewRef(pyo3_ffi::Py_None()) };
    }
    // Anything else through its vectorcall entry with this thread's state, as
    // `_PyObject_VectorcallTstate` does (PyObject_Vectorcall would look the state up).
    let result = match pyo3_ffi::PyVectorcall_Function(func) {
        Some(vectorcall) => {
            let res = vectorcall(func, args, total | pyo3_ffi::PY_VECTORCALL_ARGUMENTS_OFFSET, std::ptr::null_mut());
            _Py_CheckFunctionResult(tstate, func, res, std::ptr::null())
        }
        None => return crate::runtime::call(slots, nargs, std::ptr::null_mut()),
    };
    release(slots, nargs);
    result
}

/// Drop the references CALL consumed: `[method or NULL, callable or self, args...]`.
#[inline(always)]
unsafe fn release(slots: *mut *mut PyObject, nargs: u64) {
    pyo3_ffi::Py_XDECREF(*slots);
    for i in 1..nargs as usize + 2 {
        pyo3_ffi::Py_DECREF(*slots.add(i));
    }
}

/// `list.append`, the method descriptor (static types' dicts never change).
fn list_append_descriptor() -> *mut PyObject {
    static DESCR: std::sync::atomic::AtomicPtr<PyObject> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
    let mut descr = DESCR.load(std::sync::atomic::Ordering::Relaxed);
    if descr.is_null() {
        unsafe {
            let list_type = std::ptr::addr_of_mut!(pyo3_ffi::PyList_Type) as *mut PyObject;
            descr = pyo3_ffi::PyObject_GetAttrString(list_type, c"append".as_ptr());
            if descr.is_null() {
                pyo3_ffi::PyErr_Clear();
                return std::ptr::NonNull::dangling().as_ptr(); // never equal to a callable
            }
            // The type's dict keeps it alive; drop the reference we got.
            pyo3_ffi::Py_DECREF(descr);
        }
        DESCR.store(descr, std::sync::atomic::Ordering::Relaxed);
    }
    descr
}

/// Enter `func`'s compiled code with `total` positional arguments at `args` (owned, like
/// the reference to `func`, and moved into the new frame). None, with nothing consumed,
/// when the direct path does not apply.
#[inline(always)]
unsafe fn try_direct(
    tstate: *mut PyThreadState,
    func: *mut PyObject,
    args: *mut *mut PyObject,
    total: usize,
) -> Option<*mut PyObject> {
    let code = *field::<*mut PyObject>(func.cast(), cpython::FUNC_CODE);
    let state = codestate::get(code);
    if state.is_null() {
        return None;
    }
    let state = &mut *state;
    let compiled = state.compiled.as_deref()?;
    if state.eligibility != Eligibility::Eligible
        || state.exclusion_generation != crate::exclusion::generation()
        || !crate::hook::direct_calls_allowed()
        || !crate::hook::runs_compiled_code(tstate)
        || cpython::tracing_active(tstate, code)
        || crate::stack_guard::exhausted()
    {
        return None;
    }
    let flags = cpython::code_flags(code);
    let argcount = *field::<i32>(code.cast(), cpython::CODE_CO_ARGCOUNT) as usize;
    let kwonly = *field::<i32>(code.cast(), cpython::CODE_CO_KWONLYARGCOUNT);
    if flags & (CO_VARARGS | CO_VARKEYWORDS) != 0 || kwonly != 0 || total > argcount {
        return None;
    }
    // Missing arguments come from the defaults, when there are enough of them.
    let missing = argcount - total;
    let defaults = *field::<*mut PyObject>(func.cast(), cpython::FUNC_DEFAULTS);
    let ndefaults = if defaults.is_null() { 0 } else { pyo3_ffi::PyTuple_GET_SIZE(defaults) as usize };
    if missing > ndefaults {
        return None;
    }
    let frame = push_frame(tstate, code)?;
    init_frame(frame, func, code);
    let locals = field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS);
    for i in 0..total {
        // One at a time: a handful of pointers, where a memcpy call would cost more.
        std::ptr::write_volatile(locals.add(i), *args.add(i));
    }
    for i in 0..missing {
        let value = pyo3_ffi::PyTuple_GET_ITEM(defaults, (ndefaults - missing + i) as isize);
        Py_INCREF(value);
        *locals.add(total + i) = value;
    }
    state.calls += 1;
    STATS.calls.incr();
    STATS.direct_calls.incr();
    let result = entry::run(tstate, frame, compiled);
    cpython::clear_and_pop_called_frame(tstate, frame);
    Some(result)
}

/// Room for a frame of `code` on the current data-stack chunk, taken; None when the chunk is
/// full (CPython's own path then allocates a new chunk) or the frame would start a chunk
/// (popping it would free the chunk, which only CPython does).
#[inline(always)]
unsafe fn push_frame(tstate: *mut PyThreadState, code: *mut PyObject) -> Option<*mut InterpreterFrame> {
    let words = cpython::frame_words(code);
    let top = field::<*mut *mut PyObject>(tstate.cast(), cpython::TSTATE_DATASTACK_TOP);
    let base = *top;
    let limit = *field::<*mut *mut PyObject>(tstate.cast(), cpython::TSTATE_DATASTACK_LIMIT);
    if base.is_null() || (limit as usize - base as usize) / 8 <= words {
        return None;
    }
    let chunk = *field::<*mut u8>(tstate.cast(), cpython::TSTATE_DATASTACK_CHUNK);
    if chunk.add(cpython::STACK_CHUNK_DATA) as *mut *mut PyObject == base {
        return None;
    }
    *top = base.add(words);
    Some(base as *mut InterpreterFrame)
}

/// `_PyFrame_Initialize` (3.12) / `_PyFrame_InitializeSpecials` (3.11) for a function call:
/// takes the reference to `func`; locals start NULL (the caller fills the arguments).
#[inline(always)]
unsafe fn init_frame(frame: *mut InterpreterFrame, func: *mut PyObject, code: *mut PyObject) {
    let f = frame as *mut u8;
    Py_INCREF(code);
    *field::<*mut PyObject>(f, cpython::FRAME_F_CODE) = code;
    *field::<*mut PyObject>(f, cpython::FRAME_FUNCTION) = func;
    *field::<*mut PyObject>(f, cpython::FRAME_F_GLOBALS) = *field::<*mut PyObject>(func.cast(), cpython::FUNC_GLOBALS);
    *field::<*mut PyObject>(f, cpython::FRAME_F_BUILTINS) = *field::<*mut PyObject>(func.cast(), cpython::FUNC_BUILTINS);
    *field::<*mut PyObject>(f, cpython::FRAME_F_LOCALS) = std::ptr::null_mut();
    let nlocalsplus = *field::<i32>(code.cast(), cpython::CODE_CO_NLOCALSPLUS);
    *field::<i32>(f, cpython::FRAME_STACKTOP) = nlocalsplus;
    *field::<*mut PyObject>(f, cpython::FRAME_FRAME_OBJ) = std::ptr::null_mut();
    *field::<*mut u8>(f, cpython::FRAME_PREV_INSTR) = (code as *mut u8).add(cpython::CODE_CO_CODE_ADAPTIVE - 2);
    *field::<u8>(f, cpython::FRAME_OWNER) = cpython::FRAME_OWNED_BY_THREAD;
    cpython::init_version_specials(frame);
    let locals = field::<*mut PyObject>(f, cpython::FRAME_LOCALSPLUS);
    for i in 0..nlocalsplus as usize {
        // As above: no memset call for a few slots.
        std::ptr::write_volatile(locals.add(i), std::ptr::null_mut());
    }
}

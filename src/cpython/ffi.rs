//! Declarations of CPython functions that libpython exports but pyo3-ffi does not declare.

#![allow(non_snake_case)]

use pyo3_ffi::{PyObject, PyThreadState, Py_ssize_t};
use std::os::raw::{c_int, c_void};

/// `_PyInterpreterState` is opaque to us: only pointers to it are passed around.
pub type InterpreterState = c_void;

/// PEP 523's `_PyFrameEvalFunction`. The frame is CPython's `_PyInterpreterFrame`.
#[cfg(autojit_supported)]
pub type EvalFrameFn = unsafe extern "C" fn(
    tstate: *mut PyThreadState,
    frame: *mut super::InterpreterFrame,
    throwflag: c_int,
) -> *mut PyObject;

#[cfg(autojit_supported)]
extern "C" {
    pub fn _PyEval_EvalFrameDefault(
        tstate: *mut PyThreadState,
        frame: *mut super::InterpreterFrame,
        throwflag: c_int,
    ) -> *mut PyObject;
    pub fn _PyInterpreterState_GetEvalFrameFunc(interp: *mut InterpreterState) -> EvalFrameFn;
    pub fn _PyInterpreterState_SetEvalFrameFunc(interp: *mut InterpreterState, f: EvalFrameFn);
}

extern "C" {
    /// The unspecialised bytecode (`co_code`), a new reference to bytes.
    pub fn PyCode_GetCode(code: *mut PyObject) -> *mut PyObject;
    pub fn _Py_Dealloc(object: *mut PyObject);
    pub fn PyInterpreterState_Get() -> *mut InterpreterState;
    pub fn PyInterpreterState_Main() -> *mut InterpreterState;
}

// The code-extra API was renamed to PyUnstable_* in 3.12 (the old names are macros there).
#[cfg(autojit_supported)]
extern "C" {
    #[cfg_attr(autojit_py312, link_name = "PyUnstable_Eval_RequestCodeExtraIndex")]
    pub fn _PyEval_RequestCodeExtraIndex(free: unsafe extern "C" fn(*mut c_void)) -> Py_ssize_t;
    #[cfg_attr(autojit_py312, link_name = "PyUnstable_Code_GetExtra")]
    pub fn _PyCode_GetExtra(code: *mut PyObject, index: Py_ssize_t, extra: *mut *mut c_void) -> c_int;
    #[cfg_attr(autojit_py312, link_name = "PyUnstable_Code_SetExtra")]
    pub fn _PyCode_SetExtra(code: *mut PyObject, index: Py_ssize_t, extra: *mut c_void) -> c_int;
}

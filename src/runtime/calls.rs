//! Helpers for function-making, calling and protocol instructions: MAKE_FUNCTION,
//! CALL_FUNCTION_EX, LOAD_SUPER_ATTR (3.12), BEFORE_WITH, IMPORT_NAME, IMPORT_FROM,
//! LOAD_BUILD_CLASS. Each does what the interpreter's own case does, with the same calls
//! and messages, in the same order.

use crate::cpython::{self, InterpreterFrame};
use pyo3_ffi::*;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicPtr, Ordering};

extern "C" {
    fn _PyObject_FunctionStr(func: *mut PyObject) -> *mut PyObject;
    fn _PyObject_LookupSpecial(obj: *mut PyObject, name: *mut PyObject) -> *mut PyObject;
    fn _PyLong_AsInt(obj: *mut PyObject) -> c_int;
    fn _PyType_Lookup(tp: *mut PyTypeObject, name: *mut PyObject) -> *mut PyObject;
    #[cfg(autojit_py311)]
    fn _PyDict_MergeEx(a: *mut PyObject, b: *mut PyObject, override_: c_int) -> c_int;
}

/// An interned string, made once (the GIL serializes the first calls).
unsafe fn interned(cache: &AtomicPtr<PyObject>, text: &'static std::ffi::CStr) -> *mut PyObject {
    let mut s = cache.load(Ordering::Relaxed);
    if s.is_null() {
        s = PyUnicode_InternFromString(text.as_ptr() as *const c_char);
        cache.store(s, Ordering::Relaxed);
    }
    s
}

static STR_ENTER: AtomicPtr<PyObject> = AtomicPtr::new(std::ptr::null_mut());
static STR_EXIT: AtomicPtr<PyObject> = AtomicPtr::new(std::ptr::null_mut());
static STR_IMPORT: AtomicPtr<PyObject> = AtomicPtr::new(std::ptr::null_mut());
static STR_BUILD_CLASS: AtomicPtr<PyObject> = AtomicPtr::new(std::ptr::null_mut());

/// MAKE_FUNCTION. `slots` holds, bottom to top, the defaults (oparg & 1), keyword defaults
/// (& 2), annotations (& 4), closure (& 8) and the code object; all are consumed (moved
/// into the function). The fields are set directly, as the interpreter sets them (not
/// through PyFunction_Set*, which would reset the function's version and notify watchers);
/// on 3.12 `func_version` becomes the code's `co_version`.
pub unsafe extern "C" fn make_function(frame: *mut InterpreterFrame, slots: *mut *mut PyObject, oparg: u64) -> *mut PyObject {
    let n = 1 + (oparg & 0xf).count_ones() as usize;
    let code = *slots.add(n - 1);
    let func = PyFunction_New(code, cpython::frame_globals(frame));
    Py_DECREF(code);
    if func.is_null() {
        for i in 0..n - 1 {
            Py_DECREF(*slots.add(i));
        }
        return std::ptr::null_mut();
    }
    let mut top = n - 1;
    let base = func as *const u8;
    for (bit, offset) in [
        (8, cpython::FUNC_CLOSURE),
        (4, cpython::FUNC_ANNOTATIONS),
        (2, cpython::FUNC_KWDEFAULTS),
        (1, cpython::FUNC_DEFAULTS),
    ] {
        if oparg & bit != 0 {
            top -= 1;
            *cpython::field::<*mut PyObject>(base, offset) = *slots.add(top);
        }
    }
    #[cfg(autojit_py312)]
    {
        *cpython::field::<u32>(base, cpython::FUNC_VERSION) =
            *cpython::field::<u32>(code as *const u8, cpython::CODE_CO_VERSION);
    }
    func
}

/// The interpreter's `check_args_iterable`: -1 with its message if `args` cannot be
/// iterated.
unsafe fn check_args_iterable(func: *mut PyObject, args: *mut PyObject) -> c_int {
    let tp = Py_TYPE(args);
    if (*tp).tp_iter.is_none() && PySequence_Check(args) == 0 {
        PyErr_Clear();
        let funcstr = _PyObject_FunctionStr(func);
        if !funcstr.is_null() {
            PyErr_Format(
                PyExc_TypeError,
                c"%U argument after * must be an iterable, not %.200s".as_ptr(),
                funcstr,
                (*tp).tp_name,
            );
            Py_DECREF(funcstr);
        }
        return -1;
    }
    0
}

/// CALL_FUNCTION_EX: `slots` = [func, callargs, kwargs if has_kwargs], all consumed.
pub unsafe extern "C" fn call_function_ex(slots: *mut *mut PyObject, has_kwargs: u64) -> *mut PyObject {
    let func = *slots;
    let mut callargs = *slots.add(1);
    #[allow(unused_mut)]
    let mut kwargs = if has_kwargs != 0 { *slots.add(2) } else { std::ptr::null_mut() };
    // 3.11 converts a kwargs that is not an exact dict first (3.12's compiler guarantees one
    // through DICT_MERGE, and its interpreter asserts it).
    #[cfg(autojit_py311)]
    if !kwargs.is_null() && PyDict_CheckExact(kwargs) == 0 {
        let d = PyDict_New();
        if d.is_null() {
            Py_DECREF(kwargs);
            Py_DECREF(callargs);
            Py_DECREF(func);
            return std::ptr::null_mut();
        }
        if _PyDict_MergeEx(d, kwargs, 2) < 0 {
            Py_DECREF(d);
            super::containers::format_kwargs_error(func, kwargs);
            Py_DECREF(kwargs);
            Py_DECREF(callargs);
            Py_DECREF(func);
            return std::ptr::null_mut();
        }
        Py_DECREF(kwargs);
        kwargs = d;
    }
    if PyTuple_CheckExact(callargs) == 0 {
        if check_args_iterable(func, callargs) < 0 {
            Py_DECREF(callargs);
            Py_XDECREF(kwargs);
            Py_DECREF(func);
            return std::ptr::null_mut();
        }
        let tuple = PySequence_Tuple(callargs);
        Py_DECREF(callargs);
        if tuple.is_null() {
            Py_XDECREF(kwargs);
            Py_DECREF(func);
            return std::ptr::null_mut();
        }
        callargs = tuple;
    }
    let result = PyObject_Call(func, callargs, kwargs);
    Py_DECREF(func);
    Py_DECREF(callargs);
    Py_XDECREF(kwargs);
    result
}

/// LOAD_SUPER_ATTR (3.12), the interpreter's generic case: call `global_super` with no
/// arguments or with (class, self) (oparg & 2), then get the attribute from the super
/// object. `slots` = [global_super, class, self], all consumed; on success `slots[0]` holds
/// the attribute, or `slots[0..2]` = [NULL, attribute] in method form (oparg & 1).
pub unsafe extern "C" fn load_super_attr(slots: *mut *mut PyObject, name: *mut PyObject, oparg: u64) -> i64 {
    let (global_super, class, self_) = (*slots, *slots.add(1), *slots.add(2));
    let stack = [class, self_];
    let sup = PyObject_Vectorcall(global_super, stack.as_ptr(), (oparg & 2) as usize, std::ptr::null_mut());
    Py_DECREF(global_super);
    Py_DECREF(class);
    Py_DECREF(self_);
    if sup.is_null() {
        return -1;
    }
    let res = PyObject_GetAttr(sup, name);
    Py_DECREF(sup);
    if res.is_null() {
        return -1;
    }
    if oparg & 1 != 0 {
        *slots = std::ptr::null_mut();
        *slots.add(1) = res;
    } else {
        *slots = res;
    }
    0
}

/// BEFORE_WITH: `slots[0]` holds the context manager (consumed). On success `slots[0..2]`
/// = [__exit__, result of __enter__()]; -1 with an exception set otherwise (nothing left).
pub unsafe extern "C" fn before_with(slots: *mut *mut PyObject) -> i64 {
    let mgr = *slots;
    let enter = _PyObject_LookupSpecial(mgr, interned(&STR_ENTER, c"__enter__"));
    if enter.is_null() {
        if PyErr_Occurred().is_null() {
            PyErr_Format(
                PyExc_TypeError,
                c"'%.200s' object does not support the context manager protocol".as_ptr(),
                (*Py_TYPE(mgr)).tp_name,
            );
        }
        Py_DECREF(mgr);
        return -1;
    }
    let exit = _PyObject_LookupSpecial(mgr, interned(&STR_EXIT, c"__exit__"));
    if exit.is_null() {
        if PyErr_Occurred().is_null() {
            PyErr_Format(
                PyExc_TypeError,
                c"'%.200s' object does not support the context manager protocol (missed __exit__ method)".as_ptr(),
                (*Py_TYPE(mgr)).tp_name,
            );
        }
        Py_DECREF(enter);
        Py_DECREF(mgr);
        return -1;
    }
    *slots = exit;
    Py_DECREF(mgr);
    let res = PyObject_CallNoArgs(enter);
    Py_DECREF(enter);
    if res.is_null() {
        *slots = std::ptr::null_mut();
        Py_DECREF(exit);
        return -1;
    }
    *slots.add(1) = res;
    0
}

/// LOAD_BUILD_CLASS: `builtins.__build_class__`, as the interpreter looks it up.
pub unsafe extern "C" fn load_build_class(frame: *mut InterpreterFrame) -> *mut PyObject {
    let builtins = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_BUILTINS);
    let name = interned(&STR_BUILD_CLASS, c"__build_class__");
    if PyDict_CheckExact(builtins) != 0 {
        let bc = PyDict_GetItemWithError(builtins, name);
        if bc.is_null() {
            if PyErr_Occurred().is_null() {
                PyErr_SetString(PyExc_NameError, c"__build_class__ not found".as_ptr());
            }
            return std::ptr::null_mut();
        }
        return Py_NewRef(bc);
    }
    let bc = PyObject_GetItem(builtins, name);
    if bc.is_null() && PyErr_ExceptionMatches(PyExc_KeyError) != 0 {
        PyErr_SetString(PyExc_NameError, c"__build_class__ not found".as_ptr());
    }
    bc
}

/// IMPORT_NAME: the interpreter's `import_name`. `slots` = [level, fromlist], consumed.
pub unsafe extern "C" fn import_name(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    name: *mut PyObject,
    slots: *mut *mut PyObject,
) -> *mut PyObject {
    let (level, fromlist) = (*slots, *slots.add(1));
    let res = import_name_impl(tstate, frame, name, fromlist, level);
    Py_DECREF(level);
    Py_DECREF(fromlist);
    res
}

unsafe fn import_name_impl(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    name: *mut PyObject,
    fromlist: *mut PyObject,
    level: *mut PyObject,
) -> *mut PyObject {
    let builtins = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_BUILTINS);
    let import_func = PyObject_GetItem(builtins, interned(&STR_IMPORT, c"__import__"));
    if import_func.is_null() {
        if PyErr_ExceptionMatches(PyExc_KeyError) != 0 {
            PyErr_SetString(PyExc_ImportError, c"__import__ not found".as_ptr());
        }
        return std::ptr::null_mut();
    }
    let globals = cpython::frame_globals(frame);
    let locals = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_LOCALS);
    let locals = if locals.is_null() { Py_None() } else { locals };
    // Fast path for the original __import__.
    let original = *cpython::field::<*mut PyObject>(cpython::tstate_interp(tstate), cpython::INTERP_IMPORT_FUNC);
    if import_func == original {
        Py_DECREF(import_func);
        let ilevel = _PyLong_AsInt(level);
        if ilevel == -1 && !PyErr_Occurred().is_null() {
            return std::ptr::null_mut();
        }
        return PyImport_ImportModuleLevelObject(name, globals, locals, fromlist, ilevel);
    }
    let stack = [name, globals, locals, fromlist, level];
    let res = PyObject_Vectorcall(import_func, stack.as_ptr(), 5, std::ptr::null_mut());
    Py_DECREF(import_func);
    res
}

/// Returned by `import_from` when the interpreter must do the instruction.
pub const IMPORT_FROM_EXIT: usize = 1;

/// IMPORT_FROM's common case: `from` is an exact module whose dict holds `name`, and the
/// module type has no attribute of that name. Then `getattr(module, name)` (what the
/// interpreter's `import_from` does first) is exactly the dict's value, found without
/// running any code. Anything else returns `IMPORT_FROM_EXIT` having done nothing: the
/// interpreter does it, with its fallback to sys.modules and its messages.
pub unsafe extern "C" fn import_from(from: *mut PyObject, name: *mut PyObject) -> *mut PyObject {
    let exit = IMPORT_FROM_EXIT as *mut PyObject;
    if PyModule_CheckExact(from) == 0 || PyUnicode_CheckExact(name) == 0 {
        return exit;
    }
    let dict = PyModule_GetDict(from);
    if dict.is_null() || PyDict_CheckExact(dict) == 0 {
        return exit;
    }
    if !_PyType_Lookup(std::ptr::addr_of_mut!(PyModule_Type), name).is_null() {
        return exit;
    }
    let value = PyDict_GetItemWithError(dict, name);
    if value.is_null() {
        // Not there (or a lookup error, impossible for exact str keys): the interpreter's
        // slow path decides.
        PyErr_Clear();
        return exit;
    }
    Py_NewRef(value)
}

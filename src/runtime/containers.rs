//! Helpers for the container-building and container-changing instructions: BUILD_SET,
//! SET_ADD, SET_UPDATE, LIST_EXTEND, LIST_TO_TUPLE, MAP_ADD, DICT_UPDATE, DICT_MERGE,
//! BUILD_CONST_KEY_MAP, DELETE_SUBSCR, DELETE_ATTR, DELETE_GLOBAL, GET_LEN, UNPACK_EX.
//! Each does what the interpreter's own case does (Python/ceval.c on 3.11,
//! Python/bytecodes.c on 3.12), with the same calls and messages.

use crate::cpython::{self, InterpreterFrame};
use pyo3_ffi::*;
use std::os::raw::c_int;

extern "C" {
    fn _PyList_Extend(list: *mut PyObject, iterable: *mut PyObject) -> *mut PyObject;
    fn _PySet_Update(set: *mut PyObject, iterable: *mut PyObject) -> c_int;
    fn _PyDict_MergeEx(a: *mut PyObject, b: *mut PyObject, override_: c_int) -> c_int;
    fn _PyStack_AsDict(values: *const *mut PyObject, kwnames: *mut PyObject) -> *mut PyObject;
    fn _PyObject_FunctionStr(func: *mut PyObject) -> *mut PyObject;
}

/// BUILD_SET: a set of `n` items, consuming them (all are released even after an error, as
/// the interpreter does).
pub unsafe extern "C" fn build_set(items: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let set = PySet_New(std::ptr::null_mut());
    if set.is_null() {
        for i in 0..n as usize {
            Py_DECREF(*items.add(i));
        }
        return std::ptr::null_mut();
    }
    let mut err = 0;
    for i in 0..n as usize {
        let item = *items.add(i);
        if err == 0 {
            err = PySet_Add(set, item);
        }
        Py_DECREF(item);
    }
    if err != 0 {
        Py_DECREF(set);
        return std::ptr::null_mut();
    }
    set
}

/// SET_ADD: adds `value` (consumed). 0, or -1 with an exception set.
pub unsafe extern "C" fn set_add(set: *mut PyObject, value: *mut PyObject) -> i64 {
    let err = PySet_Add(set, value);
    Py_DECREF(value);
    if err != 0 {
        -1
    } else {
        0
    }
}

/// SET_UPDATE: consumes `iterable`. 0 or -1.
pub unsafe extern "C" fn set_update(set: *mut PyObject, iterable: *mut PyObject) -> i64 {
    let err = _PySet_Update(set, iterable);
    Py_DECREF(iterable);
    if err < 0 {
        -1
    } else {
        0
    }
}

/// LIST_EXTEND: consumes `iterable`. 0 or -1, with the interpreter's message for a value
/// that is not iterable.
pub unsafe extern "C" fn list_extend(list: *mut PyObject, iterable: *mut PyObject) -> i64 {
    let none_val = _PyList_Extend(list, iterable);
    if none_val.is_null() {
        let tp = Py_TYPE(iterable);
        if PyErr_ExceptionMatches(PyExc_TypeError) != 0
            && (*tp).tp_iter.is_none()
            && PySequence_Check(iterable) == 0
        {
            PyErr_Clear();
            PyErr_Format(
                PyExc_TypeError,
                c"Value after * must be an iterable, not %.200s".as_ptr(),
                (*tp).tp_name,
            );
        }
        Py_DECREF(iterable);
        return -1;
    }
    Py_DECREF(none_val);
    Py_DECREF(iterable);
    0
}

/// LIST_TO_TUPLE (3.11) and CALL_INTRINSIC_1 INTRINSIC_LIST_TO_TUPLE (3.12). Borrows.
pub unsafe extern "C" fn list_to_tuple(list: *mut PyObject) -> *mut PyObject {
    PyList_AsTuple(list)
}

/// MAP_ADD: `dict[key] = value`, consuming key and value. 0 or -1.
pub unsafe extern "C" fn map_add(dict: *mut PyObject, key: *mut PyObject, value: *mut PyObject) -> i64 {
    // The interpreter's _PyDict_SetItem_Take2 (not exported) is PyDict_SetItem that steals
    // both references.
    let err = PyDict_SetItem(dict, key, value);
    Py_DECREF(key);
    Py_DECREF(value);
    if err != 0 {
        -1
    } else {
        0
    }
}

/// DICT_UPDATE: consumes `update`. 0 or -1.
pub unsafe extern "C" fn dict_update(dict: *mut PyObject, update: *mut PyObject) -> i64 {
    if PyDict_Update(dict, update) < 0 {
        if PyErr_ExceptionMatches(PyExc_AttributeError) != 0 {
            PyErr_Format(
                PyExc_TypeError,
                c"'%.200s' object is not a mapping".as_ptr(),
                (*Py_TYPE(update)).tp_name,
            );
        }
        Py_DECREF(update);
        return -1;
    }
    Py_DECREF(update);
    0
}

/// DICT_MERGE: consumes `update`; `func` is the callable the `**` argument is for (borrowed).
pub unsafe extern "C" fn dict_merge(func: *mut PyObject, dict: *mut PyObject, update: *mut PyObject) -> i64 {
    if _PyDict_MergeEx(dict, update, 2) < 0 {
        format_kwargs_error(func, update);
        Py_DECREF(update);
        return -1;
    }
    Py_DECREF(update);
    0
}

/// The interpreter's `format_kwargs_error`: better messages for a failed `**` merge.
pub unsafe fn format_kwargs_error(func: *mut PyObject, kwargs: *mut PyObject) {
    if PyErr_ExceptionMatches(PyExc_AttributeError) != 0 {
        PyErr_Clear();
        let funcstr = _PyObject_FunctionStr(func);
        if !funcstr.is_null() {
            PyErr_Format(
                PyExc_TypeError,
                c"%U argument after ** must be a mapping, not %.200s".as_ptr(),
                funcstr,
                (*Py_TYPE(kwargs)).tp_name,
            );
            Py_DECREF(funcstr);
        }
    } else if PyErr_ExceptionMatches(PyExc_KeyError) != 0 {
        format_kwargs_key_error(func);
    }
}

/// 3.11: the KeyError's raw (unnormalized) value must be a 1-tuple holding the key.
#[cfg(autojit_py311)]
unsafe fn format_kwargs_key_error(func: *mut PyObject) {
    let mut exc = std::ptr::null_mut();
    let mut val = std::ptr::null_mut();
    let mut tb = std::ptr::null_mut();
    PyErr_Fetch(&mut exc, &mut val, &mut tb);
    if !val.is_null() && PyTuple_Check(val) != 0 && PyTuple_GET_SIZE(val) == 1 {
        PyErr_Clear();
        let funcstr = _PyObject_FunctionStr(func);
        if !funcstr.is_null() {
            let key = PyTuple_GET_ITEM(val, 0);
            PyErr_Format(
                PyExc_TypeError,
                c"%U got multiple values for keyword argument '%S'".as_ptr(),
                funcstr,
                key,
            );
            Py_DECREF(funcstr);
        }
        Py_XDECREF(exc);
        Py_XDECREF(val);
        Py_XDECREF(tb);
    } else {
        PyErr_Restore(exc, val, tb);
    }
}

/// 3.12: the raised KeyError's `args` must be a 1-tuple holding the key.
#[cfg(autojit_py312)]
unsafe fn format_kwargs_key_error(func: *mut PyObject) {
    let exc = PyErr_GetRaisedException();
    let args = *cpython::field::<*mut PyObject>(exc.cast(), cpython::EXC_ARGS);
    if !exc.is_null() && PyTuple_Check(args) != 0 && PyTuple_GET_SIZE(args) == 1 {
        PyErr_Clear();
        let funcstr = _PyObject_FunctionStr(func);
        if !funcstr.is_null() {
            let key = PyTuple_GET_ITEM(args, 0);
            PyErr_Format(
                PyExc_TypeError,
                c"%U got multiple values for keyword argument '%S'".as_ptr(),
                funcstr,
                key,
            );
            Py_DECREF(funcstr);
        }
        Py_XDECREF(exc);
    } else {
        PyErr_SetRaisedException(exc);
    }
}

/// BUILD_CONST_KEY_MAP: `slots[0..n]` are the values, `slots[n]` the tuple of keys; all
/// consumed. `_PyStack_AsDict` is exactly the interpreter's `_PyDict_FromItems(keys, 1,
/// values, 1, n)` (same presizing, same insertion order).
pub unsafe extern "C" fn build_const_key_map(slots: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let n = n as usize;
    let keys = *slots.add(n);
    let map = if PyTuple_CheckExact(keys) == 0 || PyTuple_GET_SIZE(keys) as usize != n {
        PyErr_SetString(PyExc_SystemError, c"bad BUILD_CONST_KEY_MAP keys argument".as_ptr());
        std::ptr::null_mut()
    } else {
        _PyStack_AsDict(slots, keys)
    };
    for i in 0..=n {
        Py_DECREF(*slots.add(i));
    }
    map
}

/// DELETE_SUBSCR: `del container[sub]`. Borrows. 0 or -1.
pub unsafe extern "C" fn delete_subscr(container: *mut PyObject, sub: *mut PyObject) -> i64 {
    if PyObject_DelItem(container, sub) != 0 {
        -1
    } else {
        0
    }
}

/// DELETE_ATTR: `del owner.name`. Borrows. 0 or -1.
pub unsafe extern "C" fn delete_attr(owner: *mut PyObject, name: *mut PyObject) -> i64 {
    if PyObject_SetAttr(owner, name, std::ptr::null_mut()) != 0 {
        -1
    } else {
        0
    }
}

/// DELETE_GLOBAL. 0, or -1 (a missing name is NameError with the interpreter's message).
pub unsafe extern "C" fn delete_global(frame: *mut InterpreterFrame, name: *mut PyObject) -> i64 {
    let globals = cpython::frame_globals(frame);
    if PyDict_DelItem(globals, name) != 0 {
        if PyErr_ExceptionMatches(PyExc_KeyError) != 0 {
            super::raise_name_error(name);
        }
        return -1;
    }
    0
}

/// GET_LEN: `len(obj)` as an int (obj borrowed).
pub unsafe extern "C" fn get_len(obj: *mut PyObject) -> *mut PyObject {
    let len = PyObject_Length(obj);
    if len < 0 {
        return std::ptr::null_mut();
    }
    PyLong_FromSsize_t(len)
}

/// UNPACK_EX for an exact list or tuple with enough items: the interpreter's
/// `unpack_iterable`, call for call (so the starred list is allocated exactly as CPython
/// allocates it). `slots[0]` holds the sequence; the results fill `slots[0..before + 1 +
/// after]`. Returns 0; 1 (nothing done) for any other value, which the interpreter unpacks;
/// -1 with an exception set (the sequence released, nothing left in the slots).
pub unsafe extern "C" fn unpack_ex(slots: *mut *mut PyObject, oparg: u64) -> i64 {
    let seq = *slots;
    let before = (oparg & 0xff) as usize;
    let after = (oparg >> 8) as usize;
    let size = if PyList_CheckExact(seq) != 0 {
        PyList_GET_SIZE(seq) as usize
    } else if PyTuple_CheckExact(seq) != 0 {
        PyTuple_GET_SIZE(seq) as usize
    } else {
        return 1;
    };
    if size < before + after {
        return 1;
    }
    let total = before + 1 + after;
    let it = PyObject_GetIter(seq);
    if it.is_null() {
        Py_DECREF(seq);
        return -1;
    }
    let mut sp = slots.add(total);
    let mut pushed = 0;
    let fail = |sp: *mut *mut PyObject, pushed: usize| {
        for i in 0..pushed {
            Py_DECREF(*sp.add(i));
        }
        Py_DECREF(it);
        Py_DECREF(seq);
        -1
    };
    for _ in 0..before {
        let w = PyIter_Next(it);
        if w.is_null() {
            // Only a memory error can stop an exact list's or tuple's iterator early.
            if PyErr_Occurred().is_null() {
                PyErr_SetString(PyExc_SystemError, c"autojit: sequence changed size during UNPACK_EX".as_ptr());
            }
            return fail(sp, pushed);
        }
        sp = sp.sub(1);
        *sp = w;
        pushed += 1;
    }
    let l = PySequence_List(it);
    if l.is_null() {
        return fail(sp, pushed);
    }
    sp = sp.sub(1);
    *sp = l;
    let ll = PyList_GET_SIZE(l) as usize;
    for j in (1..=after).rev() {
        sp = sp.sub(1);
        *sp = PyList_GET_ITEM(l, (ll - j) as Py_ssize_t);
    }
    (*(l as *mut PyVarObject)).ob_size = (ll - after) as Py_ssize_t;
    Py_DECREF(it);
    Py_DECREF(seq);
    0
}

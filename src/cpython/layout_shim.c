/*
 * The interpreter's own view of its internal structs.
 *
 * Compiled with Py_BUILD_CORE against the internal headers of the Python the
 * extension is built for, this file reports the offsets and constants that the
 * Rust mirrors in src/cpython/ hard-code. The extension compares the two at
 * import time (and the test suite does too), so a wrong offset can never go
 * unnoticed: on a mismatch the JIT refuses to enable.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_long.h"
#include "internal/pycore_dict.h"
#endif

#include "autojit_layout.h"

#define OFF(type, field) {#type "." #field, (long long)offsetof(type, field)}
#define SIZE(type) {"sizeof " #type, (long long)sizeof(type)}
#define CONST(name) {#name, (long long)(name)}

static const autojit_layout_entry layout[] = {
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
    /* _PyInterpreterFrame */
    OFF(_PyInterpreterFrame, f_code),
    OFF(_PyInterpreterFrame, previous),
    OFF(_PyInterpreterFrame, f_globals),
    OFF(_PyInterpreterFrame, f_builtins),
    OFF(_PyInterpreterFrame, f_locals),
    OFF(_PyInterpreterFrame, frame_obj),
    OFF(_PyInterpreterFrame, prev_instr),
    OFF(_PyInterpreterFrame, stacktop),
    OFF(_PyInterpreterFrame, owner),
    OFF(_PyInterpreterFrame, localsplus),
#if PY_VERSION_HEX >= 0x030C0000
    OFF(_PyInterpreterFrame, f_funcobj),
    OFF(_PyInterpreterFrame, return_offset),
#else
    OFF(_PyInterpreterFrame, f_func),
    OFF(_PyInterpreterFrame, is_entry),
    OFF(PyCodeObject, co_warmup),
    CONST(QUICKENING_WARMUP_DELAY),
#endif
    SIZE(_PyInterpreterFrame),
    CONST(FRAME_OWNED_BY_THREAD),
    CONST(FRAME_OWNED_BY_GENERATOR),
    CONST(FRAME_OWNED_BY_FRAME_OBJECT),
#if PY_VERSION_HEX >= 0x030C0000
    CONST(FRAME_OWNED_BY_CSTACK),
#endif

    /* PyCodeObject */
    OFF(PyCodeObject, co_consts),
    OFF(PyCodeObject, co_names),
    OFF(PyCodeObject, co_exceptiontable),
    OFF(PyCodeObject, co_flags),
    OFF(PyCodeObject, co_argcount),
    OFF(PyCodeObject, co_stacksize),
    OFF(PyCodeObject, co_firstlineno),
    OFF(PyCodeObject, co_nlocalsplus),
    OFF(PyCodeObject, co_nlocals),
#if PY_VERSION_HEX >= 0x030C0000
    OFF(PyCodeObject, co_framesize),
#endif
    OFF(PyCodeObject, co_localsplusnames),
    OFF(PyCodeObject, co_linetable),
    OFF(PyCodeObject, _co_firsttraceable),
    OFF(PyCodeObject, co_extra),
    OFF(PyCodeObject, co_code_adaptive),
    CONST(CO_OPTIMIZED),
    CONST(CO_NEWLOCALS),
    CONST(CO_GENERATOR),
    CONST(CO_COROUTINE),
    CONST(CO_ITERABLE_COROUTINE),
    CONST(CO_ASYNC_GENERATOR),

    /* PyThreadState and its C frame */
    OFF(PyThreadState, interp),
    OFF(PyInterpreterState, eval_frame),
    OFF(PyThreadState, cframe),
    OFF(_PyCFrame, current_frame),
    OFF(_PyCFrame, previous),
#if PY_VERSION_HEX >= 0x030C0000
    OFF(PyThreadState, py_recursion_remaining),
    OFF(PyThreadState, py_recursion_limit),
    OFF(PyThreadState, c_recursion_remaining),
    CONST(C_RECURSION_LIMIT),
    OFF(PyInterpreterState, monitors),
    OFF(PyCodeObject, _co_monitoring),
    OFF(_PyCoMonitoringData, local_monitors),
    {"sizeof local_monitors.tools", (long long)sizeof(((_PyCoMonitoringData *)0)->local_monitors.tools)},
    CONST(_PY_MONITORING_LOCAL_EVENTS),
    OFF(PyInterpreterState, monitoring_tool_names),
    CONST(PY_MONITORING_TOOL_IDS),
    {"sizeof monitors.tools", (long long)sizeof(((PyInterpreterState *)0)->monitors.tools)},
#else
    OFF(PyThreadState, recursion_remaining),
    OFF(PyThreadState, c_profilefunc),
    OFF(PyThreadState, c_tracefunc),
    OFF(PyThreadState, recursion_limit),
    OFF(_PyCFrame, use_tracing),
#endif
    /* PyFunctionObject fields MAKE_FUNCTION sets, the exception args format_kwargs_error reads */
    OFF(PyFunctionObject, func_defaults),
    OFF(PyFunctionObject, func_kwdefaults),
    OFF(PyFunctionObject, func_closure),
    OFF(PyFunctionObject, func_annotations),
    /* ... and those a direct call between compiled functions reads */
    OFF(PyFunctionObject, func_globals),
    OFF(PyFunctionObject, func_builtins),
    OFF(PyFunctionObject, func_code),
    OFF(PyCodeObject, co_kwonlyargcount),
    OFF(PyMethodObject, im_func),
    OFF(PyMethodObject, im_self),
    OFF(PyThreadState, datastack_chunk),
    OFF(PyThreadState, datastack_top),
    OFF(PyThreadState, datastack_limit),
    OFF(_PyStackChunk, data),
    /* ... and those the exact-int, exact-float and global-cache fast paths read */
    OFF(PyDictObject, ma_version_tag),
    /* ... and the attribute caches: shared (split) dict keys and instance values */
    OFF(PyHeapTypeObject, ht_cached_keys),
    OFF(PyDictKeysObject, dk_log2_index_bytes),
    OFF(PyDictKeysObject, dk_kind),
    OFF(PyDictKeysObject, dk_nentries),
    OFF(PyDictKeysObject, dk_indices),
    SIZE(PyDictUnicodeEntry),
    CONST(DICT_KEYS_SPLIT),
    CONST(Py_TPFLAGS_MANAGED_DICT),
    CONST(PyLong_SHIFT),
#if PY_VERSION_HEX >= 0x030C0000
    {"PyLongObject.long_value.lv_tag", (long long)offsetof(PyLongObject, long_value.lv_tag)},
    {"PyLongObject.long_value.ob_digit", (long long)offsetof(PyLongObject, long_value.ob_digit)},
    CONST(_PyLong_NON_SIZE_BITS),
#else
    {"PyLongObject.ob_base.ob_size", (long long)offsetof(PyLongObject, ob_base.ob_size)},
    OFF(PyLongObject, ob_digit),
#endif
#if PY_VERSION_HEX < 0x030C0000
    CONST(FRAME_SPECIALS_SIZE),
    OFF(PyFrameObject, f_back),
    OFF(PyFrameObject, f_frame),
    OFF(PyFrameObject, _f_frame_data),
#endif
    OFF(PyBaseExceptionObject, args),
#if PY_VERSION_HEX >= 0x030C0000
    OFF(PyFunctionObject, func_version),
    OFF(PyCodeObject, co_version),
    {"PyInterpreterState.imports.import_func",
     (long long)offsetof(PyInterpreterState, imports.import_func)},
#else
    OFF(PyInterpreterState, import_func),
#endif
    OFF(PyInterpreterState, ceval),
    {"PyInterpreterState.ceval.eval_breaker",
     (long long)offsetof(PyInterpreterState, ceval) +
         (long long)offsetof(struct _ceval_state, eval_breaker)},
#endif
    {NULL, 0},
};

/* The table above, terminated by an entry whose name is NULL. */
const autojit_layout_entry *autojit_layout_table(void) { return layout; }

/* The version of the headers this shim was compiled against. */
long autojit_layout_hexversion(void) { return PY_VERSION_HEX; }

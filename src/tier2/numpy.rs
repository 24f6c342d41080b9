//! numpy, read directly: the ndarray struct and the float64 scalar, checked against numpy
//! itself before tier 2 touches either. numpy stays optional: nothing here runs until numpy
//! is imported, and a layout that does not match turns array support off.

use once_cell::sync::OnceCell;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `PyArrayObject_fields` (numpy's public ndarraytypes.h).
pub const ARRAY_DATA: i32 = 16;
pub const ARRAY_ND: i32 = 24;
pub const ARRAY_DIMS: i32 = 32;
pub const ARRAY_STRIDES: i32 = 40;
pub const ARRAY_DESCR: i32 = 56;
pub const ARRAY_FLAGS: i32 = 64;
/// `PyArray_Descr`: byteorder and type_num (the same in numpy 1.x and 2.x).
pub const DESCR_BYTEORDER: usize = 26;
pub const DESCR_TYPE_NUM: usize = 28;
pub const NPY_DOUBLE: i32 = 12;
pub const NPY_ARRAY_ALIGNED: i32 = 0x100;
pub const NPY_ARRAY_WRITEABLE: i32 = 0x400;
/// `PyDoubleScalarObject.obval` (every numeric scalar keeps its value there).
pub const SCALAR_VALUE: usize = 16;

/// The element types tier 2 reads and writes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Dtype {
    F64,
    F32,
    I64,
    I32,
}

impl Dtype {
    pub fn size(self) -> i64 {
        match self {
            Dtype::F64 | Dtype::I64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
        }
    }
}

pub struct Numpy {
    pub ndarray: usize,
    pub float64: usize,
    /// numpy.int64, numpy.int32, numpy.float32: the scalar types of the other dtypes.
    pub int64: usize,
    pub int32: usize,
    pub float32: usize,
    /// Type numbers of the int64, int32 and float32 dtypes (int64 is C long or long long
    /// depending on the platform: numpy says which).
    pub type_nums: [(i32, Dtype); 4],
    /// numpy 2's promotion rules (NEP 50: a Python int or float operand takes the numpy
    /// scalar's type); tier 2 only does arithmetic on numpy integer scalars under them.
    pub nep50: bool,
    pub bool_true: usize,
    pub bool_false: usize,
    geterr: Py<PyAny>,
    default_errstate: Py<PyAny>,
    /// numpy 2's error state lives in a context variable holding a capsule; when its layout
    /// checked out, it is read directly (no Python code runs: a pending signal's handler
    /// must not run inside a tier-2 entry). None: ask `np.geterr()`.
    extobj: Option<Extobj>,
}

/// numpy 2's `numpy.ufunc.extobj` context variable and the capsule of its default state.
struct Extobj {
    var: Py<PyAny>,
    default: Py<PyAny>,
}

/// The capsule's name and the error mask of numpy's default state (divide, over and
/// invalid warn, under ignored: `UFUNC_ERR_WARN` = 1 at shifts 0, 3 and 9), the first field
/// of numpy 2's `npy_extobj`.
const EXTOBJ_CAPSULE: &std::ffi::CStr = c"numpy.ufunc.extobj";
const DEFAULT_ERRMASK: i32 = 1 | (1 << 3) | (1 << 9);

static NUMPY: OnceCell<Option<Numpy>> = OnceCell::new();

/// numpy's types, once numpy has been imported and `prepare` has checked its layout; None
/// otherwise. Runs no Python code.
pub fn get(_py: Python<'_>) -> Option<&'static Numpy> {
    NUMPY.get().and_then(|n| n.as_ref())
}

/// Once numpy is imported (we never import it ourselves), check its layout, once. The check
/// runs numpy's Python code: an exception raised in it (by a signal's handler that ran
/// there, say) is returned, to be raised in the program, and the check is made again later.
pub fn prepare(py: Python<'_>) -> PyResult<()> {
    if NUMPY.get().is_some() || super::state::loaded_module(py, c"numpy").is_none() {
        return Ok(());
    }
    // A failing check means an unsupported numpy, unless the exception came from elsewhere (a
    // signal's handler): a second check then succeeds, or fails differently.
    let first = crate::hook::aside(|| check(py));
    let (checked, raised) = match first {
        Ok(checked) => (checked, None),
        Err(error) => match crate::hook::aside(|| check(py)) {
            Ok(checked) => (checked, Some(error)),
            Err(again) if again.get_type(py).is(error.get_type(py)) => (None, None),
            Err(_) => (None, Some(error)),
        },
    };
    let _ = NUMPY.set(checked);
    raised.map_or(Ok(()), Err)
}

/// Build the table and check every offset against numpy's own view of a real array.
fn check(py: Python<'_>) -> PyResult<Option<Numpy>> {
    let np = py.import("numpy")?;
    let array = np.call_method1("arange", (6.0,))?.call_method1("reshape", ((2, 3),))?;
    let addr = array.as_ptr() as usize;
    unsafe {
        let read = |off: i32| *((addr as isize + off as isize) as *const usize);
        let data: usize = array.getattr("ctypes")?.getattr("data")?.extract()?;
        let shape: (usize, usize) = array.getattr("shape")?.extract()?;
        let strides: (usize, usize) = array.getattr("strides")?.extract()?;
        let dims = read(ARRAY_DIMS) as *const usize;
        let strides_ptr = read(ARRAY_STRIDES) as *const usize;
        let nd = *((addr + ARRAY_ND as usize) as *const i32);
        let descr = read(ARRAY_DESCR);
        let type_num = *((descr + DESCR_TYPE_NUM) as *const i32);
        let ok = read(ARRAY_DATA) == data
            && nd == 2
            && (*dims, *dims.add(1)) == shape
            && (*strides_ptr, *strides_ptr.add(1)) == strides
            && type_num == NPY_DOUBLE;
        let scalar = np.getattr("float64")?.call1((1.5,))?;
        let (i64_scalar, i32_scalar, f32_scalar) = (
            np.getattr("int64")?.call1((-5_000_000_000_000i64,))?,
            np.getattr("int32")?.call1((-7,))?,
            np.getattr("float32")?.call1((-2.5,))?,
        );
        let at = |obj: &Bound<'_, PyAny>| obj.as_ptr() as usize + SCALAR_VALUE;
        let scalar_ok = *((scalar.as_ptr() as usize + SCALAR_VALUE) as *const f64) == 1.5
            && *(at(&i64_scalar) as *const i64) == -5_000_000_000_000
            && *(at(&i32_scalar) as *const i32) == -7
            && *(at(&f32_scalar) as *const f32) == -2.5;
        if !ok || !scalar_ok {
            return Ok(None);
        }
    }
    let default_errstate = PyDict::new(py);
    for (k, v) in [("divide", "warn"), ("over", "warn"), ("under", "ignore"), ("invalid", "warn")] {
        default_errstate.set_item(k, v)?;
    }
    let num = |name: &str| -> PyResult<i32> { np.getattr("dtype")?.call1((np.getattr(name)?,))?.getattr("num")?.extract() };
    let major: u32 = np.getattr("__version__")?.extract::<String>()?.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Ok(Some(Numpy {
        ndarray: np.getattr("ndarray")?.as_ptr() as usize,
        float64: np.getattr("float64")?.as_ptr() as usize,
        int64: np.getattr("int64")?.as_ptr() as usize,
        int32: np.getattr("int32")?.as_ptr() as usize,
        float32: np.getattr("float32")?.as_ptr() as usize,
        type_nums: [(NPY_DOUBLE, Dtype::F64), (num("int64")?, Dtype::I64), (num("int32")?, Dtype::I32), (num("float32")?, Dtype::F32)],
        nep50: major >= 2,
        bool_true: np.getattr("True_")?.as_ptr() as usize,
        bool_false: np.getattr("False_")?.as_ptr() as usize,
        extobj: extobj(py, &np, &default_errstate),
        geterr: np.getattr("geterr")?.unbind(),
        default_errstate: default_errstate.into_any().unbind(),
    }))
}

/// numpy 2's error-state context variable, trusted only when, with numpy's error state at
/// its default as `np.geterr()` says, the variable holds a capsule whose error mask is the
/// default one.
fn extobj(py: Python<'_>, np: &Bound<'_, PyModule>, default_errstate: &Bound<'_, PyDict>) -> Option<Extobj> {
    let var = py.import("numpy._core._multiarray_umath").ok()?.getattr("_extobj_contextvar").ok()?;
    let state = np.getattr("geterr").ok()?.call0().ok()?;
    if !state.eq(default_errstate).ok()? {
        return None;
    }
    let current = var.call_method0("get").ok()?;
    // SAFETY: the object is a live capsule, checked by name before its pointer is read.
    if unsafe { capsule_errmask(current.as_ptr()) } != Some(DEFAULT_ERRMASK) {
        return None;
    }
    Some(Extobj { var: var.unbind(), default: current.unbind() })
}

/// The error mask in a `numpy.ufunc.extobj` capsule; None for anything else.
unsafe fn capsule_errmask(obj: *mut pyo3_ffi::PyObject) -> Option<i32> {
    if pyo3_ffi::PyCapsule_IsValid(obj, EXTOBJ_CAPSULE.as_ptr()) == 0 {
        return None;
    }
    let fields = pyo3_ffi::PyCapsule_GetPointer(obj, EXTOBJ_CAPSULE.as_ptr()) as *const i32;
    (!fields.is_null()).then(|| *fields)
}

impl Numpy {
    /// numpy's floating-point error handling is the default (warn, warn, ignore, warn), the
    /// only setting under which tier 2's exits reproduce numpy's warnings exactly.
    pub fn errstate_is_default(&self, py: Python<'_>) -> PyResult<bool> {
        if let Some(extobj) = &self.extobj {
            // SAFETY: C-level reads of a context variable and a capsule: no Python code runs.
            unsafe {
                let mut value = std::ptr::null_mut();
                if pyo3_ffi::PyContextVar_Get(extobj.var.as_ptr(), std::ptr::null_mut(), &mut value) < 0 {
                    return Err(PyErr::fetch(py));
                }
                if value.is_null() {
                    return Ok(false);
                }
                let default = value == extobj.default.as_ptr() || capsule_errmask(value) == Some(DEFAULT_ERRMASK);
                pyo3_ffi::Py_DECREF(value);
                return Ok(default);
            }
        }
        self.geterr.call0(py).and_then(|state| state.bind(py).eq(self.default_errstate.bind(py)))
    }
}

//! autojit: a just-in-time compiler for CPython, shipped as an ordinary extension module.
//!
//! This file is the Python-facing surface of the Rust core (`autojit._core`); the public API
//! with its documentation lives in `python/autojit/__init__.py`.

// Generated code calls helpers by address: casting functions to integers is the point.
#![allow(unknown_lints, function_casts_as_integer)]

pub mod backend;
pub mod bytecode;
pub mod codemem;
pub mod cpython;
pub mod exclusion;
pub mod gc_pause;
pub mod libm;
pub mod options;
pub mod stats;

#[cfg(autojit_supported)]
pub mod codestate;
#[cfg(autojit_supported)]
pub mod hook;
#[cfg(autojit_supported)]
pub mod observe;
#[cfg(autojit_supported)]
pub mod runtime;
#[cfg(autojit_supported)]
pub mod tier1;
#[cfg(autojit_supported)]
pub mod tier2;
#[cfg(autojit_supported)]
pub mod stack_guard;
#[cfg(autojit_supported)]
pub mod verify;

mod api;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Which pow the C library has: asked once, here.
    libm::pow_bound_known();
    api::register(m)
}

//! Compile steps run no Python code: not ours, not the program's.
//!
//! A compile step holds the code's state mutably and cannot hand an exception to the program.
//! Python code running inside it could re-enter the same code, and could run a signal's
//! handler whose exception would be lost. Our own compile code only calls C-level lookups,
//! but on 3.11 any allocation of a container may start a garbage collection, which runs
//! finalizers (`__del__`, weakref callbacks): Python code. The collector is therefore
//! paused for the length of a compile step; the collection simply happens at a later
//! allocation, as it would have with a slightly different allocation pattern.

/// The garbage collector, paused until this value is dropped (if it was running).
pub struct GcPaused {
    was_enabled: bool,
}

impl GcPaused {
    /// Needs the GIL (attached thread state).
    pub fn new() -> GcPaused {
        // SAFETY: PyGC_Disable only flips the collector's flag; the caller holds the GIL.
        GcPaused { was_enabled: unsafe { pyo3_ffi::PyGC_Disable() } != 0 }
    }
}

impl Drop for GcPaused {
    fn drop(&mut self) {
        if self.was_enabled {
            // SAFETY: as in new(); the GIL is still held (the value lives in a compile step).
            unsafe { pyo3_ffi::PyGC_Enable() };
        }
    }
}

//! Counters, exposed to Python by `autojit.stats()`.
//!
//! Every counter is only changed with the GIL held (from the frame-evaluation hook or from
//! module functions), so a relaxed load and store is enough: no locked instruction on the
//! hook's path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Self {
        Counter(AtomicU64::new(0))
    }
    /// Add one. Callers hold the GIL.
    #[inline(always)]
    pub fn incr(&self) {
        self.add(1)
    }
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed)
    }
    #[inline(always)]
    pub fn sub(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_sub(n), Relaxed)
    }
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
    /// The counter's address, for compiled code that counts (with the GIL held).
    pub fn address(&self) -> usize {
        self.0.as_ptr() as usize
    }
    fn reset(&self) {
        self.0.store(0, Relaxed)
    }
}

macro_rules! counters {
    ($( $(#[doc = $doc:expr])* $name:ident $(, resettable = $reset:expr)? ;)*) => {
        pub struct Counters { $( $(#[doc = $doc])* pub $name: Counter, )* }
        pub static STATS: Counters = Counters { $( $name: Counter::new(), )* };
        impl Counters {
            /// Every counter by name, in declaration order.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![ $( (stringify!($name), self.$name.get()), )* ]
            }
            /// Zero the counters of events; gauges such as live code objects keep their value.
            pub fn reset(&self) {
                $( if counters!(@resettable $($reset)?) { self.$name.reset(); } )*
            }
        }
    };
    (@resettable) => { true };
    (@resettable $reset:expr) => { $reset };
}

counters! {
    /// Frames the hook was handed, of any kind.
    frames_seen;
    /// Calls counted: frames of eligible, non-excluded functions evaluated while not tracing.
    calls;
    /// Frames passed straight to the interpreter because tracing, profiling or monitoring was on.
    frames_while_tracing;
    /// Frames of generators, coroutines, module and class bodies (never compiled).
    frames_ineligible;
    /// Frames of code in excluded modules.
    frames_excluded;
    /// Code objects that got autojit state.
    code_objects_seen;
    /// Code objects with autojit state still alive (a gauge: reset_stats() leaves it).
    code_objects_live, resettable = false;
    /// Code objects found to be in an excluded module.
    code_objects_excluded;
    /// Code objects that can never be compiled (generators, coroutines, module or class bodies).
    code_objects_ineligible;
    /// Functions that reached the call or loop threshold.
    hot_functions;
    /// RecursionError raised because the C stack ran low (deep recursion with a raised limit).
    stack_guard_trips;
    /// Times the hook stepped aside because tracing, profiling or monitoring became active.
    tracing_suspensions;
    /// Loop variants compiled by tier 2.
    compiled_tier2;
    /// Entries into tier-2 code (on-stack replacements from tier 1).
    tier2_entries;
    /// Functions compiled (all tiers).
    compiled;
    /// Compilations that failed or were refused (see explain() for the reason).
    compile_failures;
    /// Nanoseconds spent compiling.
    compile_ns;
    /// Bytes of machine code alive (a gauge).
    code_bytes, resettable = false;
    /// Bytes of executable memory mapped for it, whole pages (a gauge).
    code_bytes_mapped, resettable = false;
    /// Compilations refused because the code_limit option was reached.
    code_limit_refusals;
    /// Instructions compiled as a fallback into the interpreter (no template for them).
    fallback_instructions;
    /// Calls that ran compiled code.
    compiled_calls;
    /// Of those, calls from compiled code entered directly (not through CPython's call path).
    direct_calls;
    /// Exits from compiled code into the interpreter before the function finished (not errors).
    interpreter_exits;
    /// Exceptions handed from compiled code to the interpreter's unwinder.
    exception_exits;
    /// Calls of compiled code checked against an interpreter run (verify mode).
    verified_calls;
    /// Calls verify mode could not check (arguments not deep-copyable, effects not replayable).
    verify_skipped;
    /// Functions sent back to the interpreter for good (verify mode found a difference).
    sent_back;
}

use parking_lot::Mutex;
use std::collections::BTreeMap;

/// Instructions compiled as fallbacks into the interpreter, by opcode name.
static FALLBACKS_BY_OPCODE: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

pub fn count_fallbacks(names: &[&'static str]) {
    let mut map = FALLBACKS_BY_OPCODE.lock();
    for name in names {
        *map.entry(name).or_default() += 1;
    }
}

pub fn fallbacks_by_opcode() -> Vec<(&'static str, u64)> {
    FALLBACKS_BY_OPCODE.lock().iter().map(|(k, v)| (*k, *v)).collect()
}

pub fn reset_fallbacks() {
    FALLBACKS_BY_OPCODE.lock().clear();
}

/// Exits from tier-2 code, by reason.
static EXITS: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

pub fn count_exit(reason: &'static str) {
    *EXITS.lock().entry(reason).or_default() += 1;
}

pub fn exits_by_reason() -> Vec<(&'static str, u64)> {
    EXITS.lock().iter().map(|(k, v)| (*k, *v)).collect()
}

pub fn reset_exits() {
    EXITS.lock().clear();
}

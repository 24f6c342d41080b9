//! The macro-assembler layer: the operations templates are written in, one implementation per
//! architecture. Templates never use machine syntax; they speak of frame slots, registers by
//! role, helper calls and labels.
//!
//! Register roles (both architectures):
//! - the frame (`_PyInterpreterFrame *`) and the thread state are pinned in callee-saved
//!   registers for the whole unit;
//! - `Reg::R0..R3` are scratch registers, clobbered by calls (R0 receives call results);
//! - `Reg::S0..S1` are callee-saved scratch registers that survive calls.

#[cfg(target_arch = "x86_64")]
pub mod x64;
#[cfg(target_arch = "x86_64")]
pub use x64::{i_home_is_callee_saved, Assembler, I_HOMES};

// Compiled for tests on every host, so its byte-exact encoding tests run on x86_64 too.
#[cfg(any(target_arch = "aarch64", test))]
pub mod arm64;
#[cfg(target_arch = "aarch64")]
pub use arm64::{i_home_is_callee_saved, Assembler, I_HOMES};

/// A register by role.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reg {
    R0,
    R1,
    R2,
    R3,
    S0,
    S1,
    /// Homes for tier 2's most used integer slots (r15, r8, r9 on x86_64).
    Home(u8),
}

/// An argument of a helper call.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    Reg(Reg),
    Imm(u64),
    /// The value held in frame slot `n` (`localsplus[n]`).
    Slot(u32),
    /// The address of frame slot `n` (`&localsplus[n]`).
    SlotAddr(u32),
    Frame,
    Tstate,
    /// The base of tier 2's spill area (the machine stack pointer).
    SpillBase,
}

/// A position in the code being assembled.
pub type Label = dynasmrt::DynamicLabel;

/// Reference-count flavour: 3.12 has immortal objects, whose counts must not change.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefcountModel {
    Plain,
    Immortal,
}

// --- Operand kinds shared by every architecture (each backend maps them to its registers).

/// Floating-point registers by role (F0..F5 scratch, all caller-saved).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FReg {
    F0,
    F1,
    F2,
    F3,
    F4,
    F5,
    /// Homes for tier 2's most used double slots (caller-saved on both architectures).
    Home(u8),
}

/// Double-precision arithmetic.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Integer arithmetic that can overflow.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IOp {
    Add,
    Sub,
    Mul,
    /// Bitwise operations never overflow.
    And,
    Or,
    Xor,
}

/// Comparison conditions (signed for integers, ordered for doubles).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cond {
    Lt,
    Le,
    Eq,
    Ne,
    Gt,
    Ge,
}

/// Number of `FReg::Home` registers (`Reg::Home` registers: `I_HOMES`, per architecture).
pub const F_HOMES: u8 = 10;

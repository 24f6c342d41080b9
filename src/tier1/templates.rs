//! Tier-1 templates: one `gen_<instruction>` per instruction, written against the
//! macro-assembler. Each returns `None` when it cannot compile the instruction here; the
//! driver then compiles an exit into the interpreter at that instruction.
//!
//! Invariant between instructions: frame slots `localsplus[0 .. nlocalsplus + depth)` hold
//! owned references or NULL, exactly what the interpreter would hold.

use super::Jit;
use crate::backend::{Arg, Reg};
use crate::bytecode::{Instr, Op};
use crate::cpython;
use crate::runtime;

pub fn gen_instruction(jit: &mut Jit, instr: &Instr) -> Option<()> {
    use Op::*;
    match instr.op {
        NOP | PRECALL => Some(()),
        RESUME => gen_resume(jit, instr),
        LOAD_FAST | LOAD_FAST_CHECK => gen_load_fast(jit, instr),
        LOAD_FAST_AND_CLEAR => gen_load_fast_and_clear(jit, instr),
        STORE_FAST => gen_store_fast(jit, instr),
        LOAD_CONST => gen_load_const(jit, instr),
        POP_TOP => gen_pop_top(jit),
        PUSH_NULL => gen_push_null(jit),
        COPY => gen_copy(jit, instr),
        SWAP => gen_swap(jit, instr),
        RETURN_VALUE => gen_return_value(jit),
        RETURN_CONST => gen_return_const(jit, instr),
        BINARY_OP => gen_binary_op(jit, instr),
        COMPARE_OP => gen_compare_op(jit, instr),
        IS_OP => gen_is_op(jit, instr),
        CONTAINS_OP => gen_contains_op(jit, instr),
        UNARY_NEGATIVE => gen_unary(jit, runtime::unary_negative as usize),
        UNARY_POSITIVE => gen_unary(jit, runtime::unary_positive as usize),
        UNARY_INVERT => gen_unary(jit, runtime::unary_invert as usize),
        UNARY_NOT => gen_unary(jit, runtime::unary_not as usize),
        BINARY_SUBSCR => gen_binary_subscr(jit),
        STORE_SUBSCR => gen_store_subscr(jit),
        POP_JUMP_IF_FALSE | POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_BACKWARD_IF_FALSE => gen_pop_jump_if(jit, instr, false),
        POP_JUMP_IF_TRUE | POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_TRUE => gen_pop_jump_if(jit, instr, true),
        POP_JUMP_IF_NONE | POP_JUMP_FORWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NONE => gen_pop_jump_if_none(jit, instr, true),
        POP_JUMP_IF_NOT_NONE | POP_JUMP_FORWARD_IF_NOT_NONE | POP_JUMP_BACKWARD_IF_NOT_NONE => {
            gen_pop_jump_if_none(jit, instr, false)
        }
        JUMP_FORWARD | JUMP_BACKWARD_NO_INTERRUPT => gen_jump(jit, instr),
        JUMP_BACKWARD => gen_jump_backward(jit, instr),
        GET_ITER => gen_unary(jit, runtime::get_iter as usize),
        FOR_ITER => gen_for_iter(jit, instr),
        END_FOR => gen_end_for(jit),
        LOAD_GLOBAL => gen_load_global(jit, instr),
        LOAD_ATTR => gen_load_attr(jit, instr),
        LOAD_METHOD => gen_load_method(jit, instr.arg),
        STORE_ATTR => gen_store_attr(jit, instr),
        KW_NAMES => {
            jit.kwnames = Some(*jit.consts.get(instr.arg as usize)?);
            Some(())
        }
        CALL => gen_call(jit, instr),
        BUILD_TUPLE => gen_build(jit, runtime::build_tuple as usize, instr.arg),
        BUILD_LIST => gen_build(jit, runtime::build_list as usize, instr.arg),
        LIST_APPEND => gen_list_append(jit, instr),
        RAISE_VARARGS => gen_raise_varargs(jit, instr),
        MAKE_CELL => gen_make_cell(jit, instr),
        COPY_FREE_VARS => gen_copy_free_vars(jit, instr),
        LOAD_CLOSURE => gen_load_fast(jit, instr),
        LOAD_DEREF => gen_load_deref(jit, instr),
        STORE_DEREF => gen_store_deref(jit, instr),
        FORMAT_VALUE => gen_format_value(jit, instr),
        BUILD_STRING => gen_build(jit, runtime::build_string as usize, instr.arg),
        BUILD_SLICE => gen_build(jit, runtime::build_slice as usize, instr.arg),
        BUILD_MAP => gen_build_map(jit, instr),
        UNPACK_SEQUENCE => gen_unpack_sequence(jit, instr),
        BINARY_SLICE => gen_consuming(jit, runtime::binary_slice as usize, 3, true),
        STORE_SLICE => gen_consuming(jit, runtime::store_slice as usize, 4, false),
        STORE_GLOBAL => gen_store_global(jit, instr),
        LOAD_ASSERTION_ERROR => gen_push_constant(jit, unsafe { pyo3_ffi::PyExc_AssertionError }),
        DELETE_FAST => gen_delete_fast(jit, instr),
        MAKE_FUNCTION => gen_make_function(jit, instr),
        CALL_FUNCTION_EX => gen_call_function_ex(jit, instr),
        BUILD_SET => gen_build_checked(jit, runtime::build_set as usize, instr.arg, 0),
        BUILD_CONST_KEY_MAP => gen_build_checked(jit, runtime::build_const_key_map as usize, instr.arg, 1),
        SET_ADD => gen_container_update(jit, instr, runtime::set_add as usize),
        SET_UPDATE => gen_container_update(jit, instr, runtime::set_update as usize),
        LIST_EXTEND => gen_container_update(jit, instr, runtime::list_extend as usize),
        DICT_UPDATE => gen_container_update(jit, instr, runtime::dict_update as usize),
        DICT_MERGE => gen_dict_merge(jit, instr),
        MAP_ADD => gen_map_add(jit, instr),
        LIST_TO_TUPLE => gen_unary(jit, runtime::list_to_tuple as usize),
        CALL_INTRINSIC_1 => gen_call_intrinsic_1(jit, instr),
        DELETE_ATTR => gen_delete_attr(jit, instr),
        DELETE_SUBSCR => gen_delete_subscr(jit),
        DELETE_GLOBAL => gen_delete_global(jit, instr),
        DELETE_DEREF => gen_delete_deref(jit, instr),
        UNPACK_EX => gen_unpack_ex(jit, instr),
        GET_LEN => gen_push_result(jit, runtime::get_len as usize, &[Arg::Slot(jit.peek(0))]),
        MATCH_MAPPING => gen_match_flag(jit, 1 << 6),
        MATCH_SEQUENCE => gen_match_flag(jit, 1 << 5),
        MATCH_KEYS => gen_push_result(jit, runtime::match_keys as usize, &[Arg::Slot(jit.peek(1)), Arg::Slot(jit.peek(0))]),
        MATCH_CLASS => gen_match_class(jit, instr),
        LOAD_BUILD_CLASS => gen_push_result(jit, runtime::load_build_class as usize, &[Arg::Frame]),
        IMPORT_NAME => gen_import_name(jit, instr),
        IMPORT_FROM => gen_import_from(jit, instr),
        LOAD_SUPER_ATTR => gen_load_super_attr(jit, instr),
        BEFORE_WITH => gen_before_with(jit),
        JUMP_IF_FALSE_OR_POP => gen_jump_or_pop(jit, instr, false),
        JUMP_IF_TRUE_OR_POP => gen_jump_or_pop(jit, instr, true),
        _ => None,
    }
}

/// Poll the eval breaker: if set, let CPython handle pending work (signals, pending calls,
/// GIL hand-over). An exception from a handler is raised at the current instruction with
/// the stack as it is (`depth` values).
fn poll_eval_breaker(jit: &mut Jit, depth: u32) {
    let done = jit.asm.new_label();
    // The slow path is rare: out of line.
    let slow = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(runtime::handle_eval_breaker as usize, &[]);
        let raise = jit.raise_exit(depth);
        jit.asm.jump_if_negative_i32(Reg::R0, raise);
        jit.asm.jump(done);
    });
    jit.asm.jump_if_i32_at_nonzero(crate::hook::eval_breaker_address(), slow);
    jit.asm.bind(done);
}

/// After work that may have run Python code (which may have started a tracer, a profiler
/// or a sys.monitoring tool): if any is active now, continue in the interpreter at the
/// instruction starting at `resume_at`, with `depth` values on the stack, so that events are
/// exactly CPython's from there on.
fn check_tracing(jit: &mut Jit, resume_at: usize, depth: u32) {
    let exit = jit.resume_exit(resume_at, depth);
    #[cfg(autojit_py311)]
    {
        jit.asm.load_tstate_field(Reg::R0, cpython::TSTATE_CFRAME);
        jit.asm.jump_if_u8_field_nonzero(Reg::R0, cpython::CFRAME_USE_TRACING, exit);
    }
    #[cfg(autojit_py312)]
    {
        // The 15 tool bytes: two overlapping 8-byte words.
        let tools = crate::hook::interp_address() + cpython::INTERP_MONITORS;
        jit.asm.jump_if_either_u64_at_nonzero(tools, cpython::MONITORS_TOOLS_SIZE as i32 - 8, exit);
        // Local events: only when the code has monitoring data at all (out of line).
        let done = jit.asm.new_label();
        let code = jit.code as u64;
        let local = jit.cold(move |jit| {
            jit.call(runtime::tracing_active_for as usize, &[Arg::Tstate, Arg::Imm(code)]);
            jit.asm.jump_if_nonzero_i32(Reg::R0, exit);
            jit.asm.jump(done);
        });
        jit.asm.jump_if_u64_at_nonzero(jit.code as usize + cpython::CODE_CO_MONITORING, local);
        jit.asm.bind(done);
    }
}

/// A loop's back-edge (JUMP_BACKWARD, or a taken backward branch on 3.11): count it, ask
/// for tier-2 code every `loop_threshold` back-edges (the frame holds the whole state here)
/// and jump into it if there is some, poll the eval breaker as the interpreter does, jump.
fn emit_loop_back_edge(jit: &mut Jit, target: crate::backend::Label, header: usize, depth: u32) {
    // Pending work first (signals, other threads): the interpreter polls at every back-edge,
    // and tier-2 code must never keep a signal waiting.
    poll_eval_breaker(jit, depth);
    if let Some(counter) = jit.backedge_counter {
        // Not the loop_threshold-th back-edge: straight to the loop's header.
        jit.asm.increment_u64_at_and_jump_if_masked(counter, crate::tier2::osr_mask(), target);
        // osr_entry may run Python code (numpy's errstate): the frame shows this instruction.
        jit.set_prev_instr_current();
        jit.call(
            crate::tier2::osr_entry as usize,
            &[Arg::Tstate, Arg::Frame, Arg::Imm(header as u64), Arg::Imm(depth as u64)],
        );
        jit.asm.jump_if_zero(Reg::R0, target);
        // OSR_ERROR: that Python code raised (a signal handler's exception, say).
        let raise = jit.raise_exit(depth);
        jit.asm.jump_if_equal_imm(Reg::R0, crate::tier2::OSR_ERROR as u64, raise);
        jit.asm.jump_reg(Reg::R0);
    } else {
        jit.asm.jump(target);
    }
}

fn is_backward(instr: &Instr) -> bool {
    matches!(instr.flow(), crate::bytecode::Flow::Branch(t) | crate::bytecode::Flow::Jump(t) if t <= instr.index)
}

fn gen_resume(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // RESUME 0 (function start) checks the eval breaker; other forms follow yields.
    if instr.arg < 2 {
        poll_eval_breaker(jit, jit.depth());
    }
    Some(())
}

fn gen_load_fast(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // An unbound local: the interpreter raises UnboundLocalError with its own message.
    let exit = jit.side_exit();
    jit.asm.load_slot(Reg::R0, instr.arg);
    match second_of_superinstruction(jit, instr) {
        None => jit.asm.jump_if_zero(Reg::R0, exit),
        Some(first) => {
            // 3.11 runs this load as the second half of a superinstruction once the code is
            // warm, and reports the error at the first half: do the same.
            let unbound = jit.asm.new_label();
            let bound = jit.asm.new_label();
            jit.asm.jump_if_zero(Reg::R0, unbound);
            jit.asm.jump(bound);
            jit.asm.bind(unbound);
            jit.call(runtime::unbound_local_if_warm as usize, &[Arg::Imm(jit.code as u64), Arg::Imm(instr.arg as u64)]);
            let raise = jit.raise_exit_at(first, jit.depth());
            jit.asm.jump_if_nonzero_i32(Reg::R0, raise);
            jit.asm.jump(exit);
            jit.asm.bind(bound);
            jit.asm.load_slot(Reg::R0, instr.arg);
        }
    }
    jit.asm.incref(Reg::R0);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

/// On 3.11: when this LOAD_FAST runs as the second half of a superinstruction in quickened
/// code, the code-unit index of the first half.
fn second_of_superinstruction(jit: &Jit, instr: &Instr) -> Option<usize> {
    if cpython::VERSION != (3, 11) || instr.op != Op::LOAD_FAST {
        return None;
    }
    jit.superinstruction_first_half()
}

fn gen_load_fast_and_clear(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // The reference moves from the local to the stack; it may be NULL.
    jit.asm.load_slot(Reg::R0, instr.arg);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    jit.asm.clear_slot(instr.arg);
    Some(())
}

fn gen_store_fast(jit: &mut Jit, instr: &Instr) -> Option<()> {
    jit.asm.load_slot(Reg::R0, jit.peek(0));
    jit.asm.load_slot(Reg::R1, instr.arg);
    jit.asm.store_slot(instr.arg, Reg::R0);
    emit_xdecref_line_aware(jit, Reg::R1);
    Some(())
}

/// Py_XDECREF(reg), with the deallocation (which may run a destructor that looks at the
/// frame's line) out of line, after prev_instr is set: the instruction needs no prev_instr
/// up front. Scratch registers are clobbered.
fn emit_xdecref_line_aware(jit: &mut Jit, reg: Reg) {
    let done = jit.asm.new_label();
    let dealloc = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(cpython::ffi::_Py_Dealloc as usize, &[Arg::Reg(reg)]);
        jit.asm.jump(done);
    });
    jit.asm.jump_if_zero(reg, done);
    jit.asm.decref_or_jump(reg, dealloc);
    jit.asm.bind(done);
}

fn gen_load_const(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let value = *jit.consts.get(instr.arg as usize)?;
    jit.asm.load_imm(Reg::R0, value as u64);
    jit.asm.incref(Reg::R0);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

fn gen_pop_top(jit: &mut Jit) -> Option<()> {
    jit.asm.load_slot(Reg::R0, jit.peek(0));
    emit_xdecref_line_aware(jit, Reg::R0);
    Some(())
}

fn gen_push_null(jit: &mut Jit) -> Option<()> {
    let top = jit.stack_slot(jit.depth());
    jit.asm.clear_slot(top);
    Some(())
}

fn gen_copy(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let n = instr.arg.checked_sub(1)?;
    jit.asm.load_slot(Reg::R0, jit.peek(n));
    jit.asm.incref(Reg::R0);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

fn gen_swap(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let n = instr.arg.checked_sub(1)?;
    let (a, b) = (jit.peek(0), jit.peek(n));
    jit.asm.load_slot(Reg::R0, a);
    jit.asm.load_slot(Reg::R1, b);
    jit.asm.store_slot(a, Reg::R1);
    jit.asm.store_slot(b, Reg::R0);
    Some(())
}

/// Leave with the value in `value`: the frame's stack is empty, `prev_instr` at the return
/// instruction (what a frame object keeps showing after the function returned).
fn emit_return(jit: &mut Jit, value: Reg) {
    jit.set_prev_instr_current();
    jit.asm.store_frame_field_i32(cpython::FRAME_STACKTOP, jit.nlocalsplus as i32);
    jit.asm.ret(value);
}

fn gen_return_value(jit: &mut Jit) -> Option<()> {
    if jit.depth() != 1 {
        return None;
    }
    jit.asm.load_slot(Reg::R0, jit.peek(0));
    emit_return(jit, Reg::R0);
    Some(())
}

fn gen_return_const(jit: &mut Jit, instr: &Instr) -> Option<()> {
    if jit.depth() != 0 {
        return None;
    }
    let value = *jit.consts.get(instr.arg as usize)?;
    jit.asm.load_imm(Reg::R0, value as u64);
    jit.asm.incref(Reg::R0);
    emit_return(jit, Reg::R0);
    Some(())
}

/// Two operands in, one result out, through `helper(lhs, rhs, extra)`; both operands are
/// released after the call, as the interpreter does.
fn gen_binary(jit: &mut Jit, helper: usize, extra: u64) -> Option<()> {
    let (lhs, rhs) = (jit.peek(1), jit.peek(0));
    jit.set_prev_instr_current();
    jit.call(helper, &[Arg::Slot(lhs), Arg::Slot(rhs), Arg::Imm(extra)]);
    jit.asm.mov(Reg::S0, Reg::R0);
    jit.asm.load_slot(Reg::R0, lhs);
    jit.asm.decref(Reg::R0);
    jit.asm.load_slot(Reg::R0, rhs);
    jit.asm.decref(Reg::R0);
    let raise = jit.raise_exit(jit.depth() - 2);
    jit.asm.jump_if_zero(Reg::S0, raise);
    jit.asm.store_slot(lhs, Reg::S0);
    check_tracing(jit, jit.instr().next, jit.depth() - 1);
    Some(())
}

/// BINARY_OP on two one-digit ints, in line (the operations `numbers::int_op` does).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum IntOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    FloorDiv,
    Mod,
}

fn gen_binary_op(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // BINARY_OP arguments (NB_*); the in-place forms are these plus 13 and behave the same
    // on ints (which have no in-place slots).
    const NB_ADD: u32 = 0;
    const NB_INPLACE_ADD: u32 = 13;
    let op = instr.arg;
    let int_op = match op % 13 {
        0 => Some(IntOp::Add),
        1 => Some(IntOp::And),
        2 => Some(IntOp::FloorDiv),
        5 => Some(IntOp::Mul),
        6 => Some(IntOp::Mod),
        7 => Some(IntOp::Or),
        10 => Some(IntOp::Sub),
        12 => Some(IntOp::Xor),
        _ => None,
    }
    .filter(|_| op < 26);
    let float_op = match op % 13 {
        0 => Some(crate::backend::FOp::Add),
        5 => Some(crate::backend::FOp::Mul),
        10 => Some(crate::backend::FOp::Sub),
        11 => Some(crate::backend::FOp::Div),
        _ => None,
    }
    .filter(|_| op < 26);
    // `s += t` / `s = s + t` on strs, stored back into the local: append in place.
    let next = jit.bytecode.instrs.get(jit.pos + 1).cloned();
    let append_into = next.filter(|n| (op == NB_ADD || op == NB_INPLACE_ADD) && n.op == Op::STORE_FAST && n.start == instr.next);
    let general = move |jit: &mut Jit| -> Option<()> {
        if let Some(store) = &append_into {
            let after = jit.label_at(store.next)?;
            let (lhs, rhs) = (jit.peek(1), jit.peek(0));
            jit.set_prev_instr_current();
            jit.call(
                runtime::strings::append_to_local as usize,
                &[Arg::SlotAddr(store.arg), Arg::Slot(lhs), Arg::Slot(rhs)],
            );
            let raise = jit.raise_exit(jit.depth() - 2);
            jit.asm.jump_if_negative_i32(Reg::R0, raise);
            jit.asm.jump_if_nonzero(Reg::R0, after);
        }
        gen_binary(jit, runtime::numbers::binary_op_on_stack as usize, op as u64)
    };
    if int_op.is_none() && float_op.is_none() {
        return general(jit);
    }
    // Everything but two one-digit ints or two floats (and zero divisors): the helpers
    // (mixed operands, strs, the number protocol), out of line.
    let done = jit.asm.new_label();
    let not_ints = jit.cold(move |jit| {
        // The labels `general` needs exist (it compiled in line before); fall back to an
        // exit into the interpreter should it not.
        if general(jit).is_none() {
            let exit = jit.side_exit();
            jit.asm.jump(exit);
        } else {
            jit.asm.jump(done);
        }
    });
    let floats = jit.asm.new_label();
    let not_floats = if float_op.is_some() { floats } else { not_ints };
    if let Some(int_op) = int_op {
        gen_int_binary(jit, int_op, not_floats, done);
        jit.asm.jump(done);
    }
    if let Some(float_op) = float_op {
        jit.asm.bind(floats);
        gen_float_binary(jit, float_op, not_ints, done);
    }
    jit.asm.bind(done);
    Some(())
}

/// Offset of `ob_fval` in a float object.
const OB_FVAL: i32 = std::mem::offset_of!(pyo3_ffi::PyFloatObject, ob_fval) as i32;

/// Float `+ - * /` in line, as `binary_op_on_stack` computes it for two exact floats (else,
/// or for a zero divisor, a jump to `not_floats`, nothing touched): the result is written
/// into an operand only the stack holds (the left one first), as `float_result` does, else
/// a new float from `PyFloat_FromDouble`; the operands are released. No Python code runs.
fn gen_float_binary(jit: &mut Jit, op: crate::backend::FOp, not_floats: crate::backend::Label, done: crate::backend::Label) {
    use crate::backend::FReg;
    let (lhs, rhs) = (jit.peek(1), jit.peek(0));
    let depth = jit.depth();
    jit.asm.load_slot(Reg::R0, lhs);
    jit.asm.load_slot(Reg::R1, rhs);
    jit.asm.load_imm(Reg::R2, std::ptr::addr_of_mut!(pyo3_ffi::PyFloat_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R0, OB_TYPE, not_floats);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R1, OB_TYPE, not_floats);
    jit.asm.f_load_mem(FReg::F0, Reg::R0, OB_FVAL);
    jit.asm.f_load_mem(FReg::F1, Reg::R1, OB_FVAL);
    if op == crate::backend::FOp::Div {
        jit.asm.jump_if_f_zero(FReg::F1, not_floats);
    }
    jit.asm.f_arith(op, FReg::F0, FReg::F1);
    // Neither operand dying: a new float.
    let new = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.asm.call_f(pyo3_ffi::PyFloat_FromDouble as usize);
        jit.asm.mov(Reg::S1, Reg::R0);
        release_two(jit, lhs, rhs);
        let raise = jit.raise_exit(depth - 2);
        jit.asm.jump_if_zero(Reg::S1, raise);
        jit.asm.store_slot(lhs, Reg::S1);
        jit.asm.jump(done);
    });
    let rhs_dying = jit.asm.new_label();
    jit.asm.load_field(Reg::R2, Reg::R0, 0);
    jit.asm.jump_if_not_equal_imm(Reg::R2, 1, rhs_dying);
    // The left operand dies: it holds the result, in its own slot; the right one goes.
    jit.asm.f_store_mem(Reg::R0, OB_FVAL, FReg::F0);
    jit.asm.decref(Reg::R1);
    jit.asm.jump(done);
    jit.asm.bind(rhs_dying);
    jit.asm.load_field(Reg::R2, Reg::R1, 0);
    jit.asm.jump_if_not_equal_imm(Reg::R2, 1, new);
    // The right operand dies: it holds the result, moved to the left slot; the left one goes
    // (it has other references: no deallocation).
    jit.asm.f_store_mem(Reg::R1, OB_FVAL, FReg::F0);
    jit.asm.store_slot(lhs, Reg::R1);
    jit.asm.decref(Reg::R0);
}

/// One-digit int arithmetic in line, as `binary_op_on_stack` computes it: both operands
/// exact one-digit ints (else a jump to `not_ints`, nothing touched; also for a zero
/// divisor), the result a small int from CPython's table or `PyLong_FromLongLong`'s; the
/// operands are released. No Python code runs (an int's allocation and deallocation run
/// none): no tracing check.
fn gen_int_binary(jit: &mut Jit, op: IntOp, not_ints: crate::backend::Label, done: crate::backend::Label) {
    use crate::backend::{Cond, IOp};
    let (lhs, rhs) = (jit.peek(1), jit.peek(0));
    let depth = jit.depth();
    emit_load_two_ints(jit, lhs, rhs, not_ints);
    // |S0|, |S1| < 2**30: sums and products fit (the overflow label is never taken).
    match op {
        IntOp::Add => jit.asm.i_arith(IOp::Add, Reg::S0, Reg::S1, not_ints),
        IntOp::Sub => jit.asm.i_arith(IOp::Sub, Reg::S0, Reg::S1, not_ints),
        IntOp::Mul => jit.asm.i_mul(Reg::S0, Reg::S1),
        IntOp::And => jit.asm.i_arith(IOp::And, Reg::S0, Reg::S1, not_ints),
        IntOp::Or => jit.asm.i_arith(IOp::Or, Reg::S0, Reg::S1, not_ints),
        IntOp::Xor => jit.asm.i_arith(IOp::Xor, Reg::S0, Reg::S1, not_ints),
        IntOp::FloorDiv | IntOp::Mod => {
            // Python's floor division and remainder (`floor_div`, `py_mod`): C's truncating
            // ones, corrected toward negative infinity when the remainder's sign differs
            // from the divisor's.
            jit.asm.jump_if_zero(Reg::S1, not_ints);
            jit.asm.mov(Reg::R1, Reg::S0);
            jit.asm.mov(Reg::R3, Reg::S1);
            jit.asm.i_div_rem(Reg::R1, Reg::R3); // R1 = quotient, R3 = remainder
            let exact = jit.asm.new_label();
            jit.asm.jump_if_zero(Reg::R3, exact);
            jit.asm.mov(Reg::R0, Reg::R3);
            jit.asm.i_arith(IOp::Xor, Reg::R0, Reg::S1, not_ints);
            jit.asm.i_jump_if_imm(Cond::Ge, Reg::R0, 0, exact);
            jit.asm.i_add_imm(Reg::R1, -1);
            jit.asm.i_add(Reg::R3, Reg::S1);
            jit.asm.bind(exact);
            jit.asm.mov(Reg::S0, if op == IntOp::FloorDiv { Reg::R1 } else { Reg::R3 });
        }
    }
    // A result outside the small ints: a new int.
    let big = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(pyo3_ffi::PyLong_FromLongLong as usize, &[Arg::Reg(Reg::S0)]);
        jit.asm.mov(Reg::S1, Reg::R0);
        release_two(jit, lhs, rhs);
        let raise = jit.raise_exit(depth - 2);
        jit.asm.jump_if_zero(Reg::S1, raise);
        jit.asm.store_slot(lhs, Reg::S1);
        jit.asm.jump(done);
    });
    match runtime::numbers::small_int_table() {
        Some((base, shift)) => {
            use runtime::numbers::{SMALL_INT_MAX, SMALL_INT_MIN};
            jit.asm.mov(Reg::R2, Reg::S0);
            jit.asm.i_add_imm(Reg::R2, -SMALL_INT_MIN as i32);
            jit.asm.jump_if_above_imm(Reg::R2, (SMALL_INT_MAX - SMALL_INT_MIN) as u32, big);
            jit.asm.i_shl_imm(Reg::R2, shift);
            jit.asm.load_imm(Reg::S1, base);
            jit.asm.i_add(Reg::S1, Reg::R2);
            jit.asm.incref(Reg::S1);
        }
        None => jit.asm.jump(big),
    }
    release_two(jit, lhs, rhs);
    jit.asm.store_slot(lhs, Reg::S1);
}

/// Release the stack values in frame slots `a` and `b` (scratch registers clobbered).
fn release_two(jit: &mut Jit, a: u32, b: u32) {
    jit.asm.load_slot(Reg::R0, a);
    jit.asm.decref(Reg::R0);
    jit.asm.load_slot(Reg::R0, b);
    jit.asm.decref(Reg::R0);
}

/// S0, S1 = the values of the exact one-digit ints in frame slots `lhs` and `rhs`, as
/// `cpython::compact_int_value` reads them; anything else jumps to `miss`. Clobbers R0-R3.
fn emit_load_two_ints(jit: &mut Jit, lhs: u32, rhs: u32, miss: crate::backend::Label) {
    jit.asm.load_slot(Reg::R0, lhs);
    jit.asm.load_slot(Reg::R1, rhs);
    jit.asm.load_imm(Reg::R2, std::ptr::addr_of_mut!(pyo3_ffi::PyLong_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R0, OB_TYPE, miss);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R1, OB_TYPE, miss);
    emit_compact_int(jit, Reg::R0, Reg::S0, Reg::R2, miss);
    emit_compact_int(jit, Reg::R1, Reg::S1, Reg::R3, miss);
}

/// `dst` = the value of the exact int `obj` if it has at most one digit (|value| < 2**30),
/// else a jump to `miss`. `tmp` is clobbered.
fn emit_compact_int(jit: &mut Jit, obj: Reg, dst: Reg, tmp: Reg, miss: crate::backend::Label) {
    #[cfg(autojit_py312)]
    {
        // lv_tag: the digit count above the sign bits (0 positive, 1 zero, 2 negative).
        jit.asm.load_field(tmp, obj, cpython::LONG_LV_TAG as i32);
        jit.asm.jump_if_above_imm(tmp, (2 << cpython::LONG_NON_SIZE_BITS) - 1, miss);
        jit.asm.load_field_u32(dst, obj, cpython::LONG_DIGITS as i32);
        // value = digit * (1 - (tag & 3))
        jit.asm.i_and_imm(tmp, 3);
        jit.asm.i_neg(tmp);
        jit.asm.i_add_imm(tmp, 1);
        jit.asm.i_mul(dst, tmp);
    }
    #[cfg(autojit_py311)]
    {
        // ob_size: the signed digit count, -1 to 1 here.
        jit.asm.load_field(tmp, obj, cpython::LONG_OB_SIZE as i32);
        jit.asm.i_add_imm(tmp, 1);
        jit.asm.jump_if_above_imm(tmp, 2, miss);
        jit.asm.i_add_imm(tmp, -1);
        jit.asm.load_field_u32(dst, obj, cpython::LONG_DIGITS as i32);
        jit.asm.i_mul(dst, tmp);
    }
}

/// One operand in, one result out, through `helper(value)`.
fn gen_unary(jit: &mut Jit, helper: usize) -> Option<()> {
    let slot = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(helper, &[Arg::Slot(slot)]);
    jit.asm.mov(Reg::S0, Reg::R0);
    jit.asm.load_slot(Reg::R0, slot);
    jit.asm.decref(Reg::R0);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_zero(Reg::S0, raise);
    jit.asm.store_slot(slot, Reg::S0);
    check_tracing(jit, jit.instr().next, jit.depth());
    Some(())
}

fn gen_compare_op(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // 3.12 keeps the comparison in the high bits of the argument.
    let op = if cpython::VERSION >= (3, 12) { instr.arg >> 4 } else { instr.arg };
    if op > 5 {
        return None;
    }
    if let Some((jump, jump_when)) = following_forward_branch(jit) {
        if let Some(()) = gen_compare_and_branch(jit, op as u64, &jump, jump_when) {
            return Some(());
        }
    }
    gen_binary(jit, runtime::numbers::rich_compare as usize, op as u64)
}

/// COMPARE_OP followed by a conditional jump: one-digit ints compared and branched on in
/// line, without a bool (nothing can run, nothing can raise); other operands out of line,
/// through `fast_compare` (floats) or the rich comparison, whose result the jump (compiled
/// as usual) then takes.
fn gen_compare_and_branch(jit: &mut Jit, op: u64, jump: &Instr, jump_when: bool) -> Option<()> {
    use crate::backend::Cond;
    let target = jit.label_at(match jump.flow() {
        crate::bytecode::Flow::Branch(t) => t,
        _ => return None,
    })?;
    let after = jit.label_at(jump.next)?;
    let the_jump = jit.label_at(jump.start)?;
    let (lhs, rhs) = (jit.peek(1), jit.peek(0));
    let jump = jump.clone();
    let not_ints = jit.cold(move |jit| {
        if gen_compare_and_branch_fast_path(jit, op, &jump, jump_when).is_none()
            || gen_binary(jit, runtime::numbers::rich_compare as usize, op).is_none()
        {
            let exit = jit.side_exit();
            jit.asm.jump(exit);
        } else {
            jit.asm.jump(the_jump);
        }
    });
    emit_load_two_ints(jit, lhs, rhs, not_ints);
    release_two(jit, lhs, rhs);
    // Py_LT, Py_LE, Py_EQ, Py_NE, Py_GT, Py_GE, and the negation for a jump on false.
    let (cond, negated) = match op {
        0 => (Cond::Lt, Cond::Ge),
        1 => (Cond::Le, Cond::Gt),
        2 => (Cond::Eq, Cond::Ne),
        3 => (Cond::Ne, Cond::Eq),
        4 => (Cond::Gt, Cond::Le),
        _ => (Cond::Ge, Cond::Lt),
    };
    jit.asm.i_jump_if(if jump_when { cond } else { negated }, Reg::S0, Reg::S1, target);
    jit.asm.jump(after);
    Some(())
}

/// The conditional forward jump right after the current instruction, if there is one,
/// with the truth value it jumps on.
fn following_forward_branch(jit: &Jit) -> Option<(Instr, bool)> {
    use Op::*;
    let next = jit.bytecode.instrs.get(jit.pos + 1)?;
    if next.start != jit.instr().next || is_backward(next) {
        return None;
    }
    match next.op {
        POP_JUMP_IF_FALSE | POP_JUMP_FORWARD_IF_FALSE => Some((next.clone(), false)),
        POP_JUMP_IF_TRUE | POP_JUMP_FORWARD_IF_TRUE => Some((next.clone(), true)),
        _ => None,
    }
}

/// COMPARE_OP followed by a conditional jump, for one-digit ints and floats: compare and
/// branch without making a bool (no Python code can run, nothing can raise). Other operands
/// fall through to the ordinary COMPARE_OP code, which pushes the result for the jump.
fn gen_compare_and_branch_fast_path(jit: &mut Jit, op: u64, jump: &Instr, jump_when: bool) -> Option<()> {
    let target = jit.label_at(match jump.flow() {
        crate::bytecode::Flow::Branch(t) => t,
        _ => return None,
    })?;
    let after = jit.label_at(jump.next)?;
    let (lhs, rhs) = (jit.peek(1), jit.peek(0));
    let general = jit.asm.new_label();
    jit.call(runtime::numbers::fast_compare as usize, &[Arg::Slot(lhs), Arg::Slot(rhs), Arg::Imm(op)]);
    jit.asm.jump_if_equal_imm(Reg::R0, runtime::numbers::NOT_FAST as u64, general);
    jit.asm.mov(Reg::S0, Reg::R0);
    jit.asm.load_slot(Reg::R0, lhs);
    jit.asm.decref(Reg::R0);
    jit.asm.load_slot(Reg::R0, rhs);
    jit.asm.decref(Reg::R0);
    if jump_when {
        jit.asm.jump_if_nonzero(Reg::S0, target);
    } else {
        jit.asm.jump_if_zero(Reg::S0, target);
    }
    jit.asm.jump(after);
    jit.asm.bind(general);
    Some(())
}

fn gen_contains_op(jit: &mut Jit, instr: &Instr) -> Option<()> {
    gen_binary(jit, runtime::contains as usize, instr.arg as u64)
}

fn gen_is_op(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let (lhs, rhs) = (jit.peek(1), jit.peek(0));
    let (is_true, is_false) = unsafe { (pyo3_ffi::Py_True() as u64, pyo3_ffi::Py_False() as u64) };
    let (when_same, when_different) = if instr.arg == 0 { (is_true, is_false) } else { (is_false, is_true) };
    let same = jit.asm.new_label();
    let done = jit.asm.new_label();
    jit.asm.load_slot(Reg::R0, lhs);
    jit.asm.load_slot(Reg::R1, rhs);
    jit.asm.load_imm(Reg::S0, when_different);
    jit.asm.jump_if_equal_reg(Reg::R0, Reg::R1, same);
    jit.asm.jump(done);
    jit.asm.bind(same);
    jit.asm.load_imm(Reg::S0, when_same);
    jit.asm.bind(done);
    jit.asm.incref(Reg::S0);
    jit.asm.decref(Reg::R0);
    jit.asm.load_slot(Reg::R0, rhs);
    jit.asm.decref(Reg::R0);
    jit.asm.store_slot(lhs, Reg::S0);
    Some(())
}

/// A reference a template releases: held in a frame slot, or in a callee-saved register.
#[derive(Clone, Copy)]
enum Held {
    Slot(u32),
    Reg(Reg),
}

/// Release `items` in order, as the interpreter does at the end of an instruction whose
/// fast path ran no code: a count dropping to zero (a deallocation, which may run any code)
/// goes out of line, where prev_instr is set, the rest are released and, as after any code,
/// tracing is checked (continuing at the next instruction with `depth_after` values). Both
/// ways end at `done`, which the caller binds right after.
fn emit_releases(jit: &mut Jit, items: &[Held], depth_after: u32, done: crate::backend::Label) {
    let next = jit.instr().next;
    for (i, item) in items.iter().enumerate() {
        let rest = items[i + 1..].to_vec();
        let dealloc = jit.cold(move |jit| {
            // R0 holds the object whose count reached zero.
            jit.set_prev_instr_current();
            jit.call(cpython::ffi::_Py_Dealloc as usize, &[Arg::Reg(Reg::R0)]);
            for item in rest {
                match item {
                    Held::Slot(slot) => jit.asm.load_slot(Reg::R0, slot),
                    Held::Reg(reg) => jit.asm.mov(Reg::R0, reg),
                }
                jit.asm.decref(Reg::R0);
            }
            check_tracing(jit, next, depth_after);
            jit.asm.jump(done);
        });
        match *item {
            Held::Slot(slot) => jit.asm.load_slot(Reg::R0, slot),
            Held::Reg(reg) => jit.asm.mov(Reg::R0, reg),
        }
        jit.asm.decref_or_jump(Reg::R0, dealloc);
    }
}

/// Offsets in list and tuple objects.
const OB_SIZE: i32 = std::mem::offset_of!(pyo3_ffi::PyVarObject, ob_size) as i32;
const LIST_OB_ITEM: i32 = std::mem::offset_of!(pyo3_ffi::PyListObject, ob_item) as i32;
const TUPLE_OB_ITEM: i32 = std::mem::offset_of!(pyo3_ffi::PyTupleObject, ob_item) as i32;
const LIST_ALLOCATED: i32 = std::mem::offset_of!(pyo3_ffi::PyListObject, allocated) as i32;

/// S0 = the position the int in R1 names in a sequence whose length is in R2 (a negative
/// index counts from the end), as `subscripts::sequence_index` finds it: R1 an exact
/// one-digit int, the position in range; else a jump to `miss`. Clobbers R3.
fn emit_sequence_index(jit: &mut Jit, miss: crate::backend::Label) {
    use crate::backend::Cond;
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyLong_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R3, Reg::R1, OB_TYPE, miss);
    emit_compact_int(jit, Reg::R1, Reg::S0, Reg::R3, miss);
    let positive = jit.asm.new_label();
    jit.asm.i_jump_if_imm(Cond::Ge, Reg::S0, 0, positive);
    jit.asm.i_add(Reg::S0, Reg::R2);
    jit.asm.bind(positive);
    // (A still negative position is a huge unsigned one.)
    jit.asm.u_jump_if(Cond::Ge, Reg::S0, Reg::R2, miss);
}

/// BINARY_SUBSCR: an exact list or tuple indexed by a one-digit int in range, in line, as
/// `subscripts::get_item` does it; everything else through the helper, out of line.
fn gen_binary_subscr(jit: &mut Jit) -> Option<()> {
    let (container, key) = (jit.peek(1), jit.peek(0));
    let depth = jit.depth();
    let done = jit.asm.new_label();
    let general = jit.cold(move |jit| {
        if gen_binary(jit, runtime::subscripts::get_item as usize, 0).is_none() {
            let exit = jit.side_exit();
            jit.asm.jump(exit);
        } else {
            jit.asm.jump(done);
        }
    });
    let not_list = jit.asm.new_label();
    let items = jit.asm.new_label();
    jit.asm.load_slot(Reg::R0, container);
    jit.asm.load_slot(Reg::R1, key);
    jit.asm.load_field(Reg::R2, Reg::R0, OB_TYPE);
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyList_Type) as u64);
    jit.asm.jump_if_not_equal_reg(Reg::R2, Reg::R3, not_list);
    jit.asm.load_field(Reg::S1, Reg::R0, LIST_OB_ITEM);
    jit.asm.jump(items);
    jit.asm.bind(not_list);
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyTuple_Type) as u64);
    jit.asm.jump_if_not_equal_reg(Reg::R2, Reg::R3, general);
    jit.asm.mov(Reg::S1, Reg::R0);
    jit.asm.i_add_imm(Reg::S1, TUPLE_OB_ITEM);
    jit.asm.bind(items);
    // S1 = the items, R2 = the length.
    jit.asm.load_field(Reg::R2, Reg::R0, OB_SIZE);
    emit_sequence_index(jit, general);
    jit.asm.load_field_indexed(Reg::R3, Reg::S1, Reg::S0);
    jit.asm.incref(Reg::R3);
    jit.asm.store_slot(container, Reg::R3);
    jit.asm.mov(Reg::S1, Reg::R0);
    emit_releases(jit, &[Held::Reg(Reg::S1), Held::Slot(key)], depth - 1, done);
    jit.asm.bind(done);
    Some(())
}

/// STORE_SUBSCR: an exact list indexed by a one-digit int in range, in line, as
/// `subscripts::set_item` does it (the new item in place before the old one is released),
/// then the inputs released as the generic instruction does; everything else through the
/// helper, out of line.
fn gen_store_subscr(jit: &mut Jit) -> Option<()> {
    // Stack: value, container, key.
    let (value, container, key) = (jit.peek(2), jit.peek(1), jit.peek(0));
    let depth = jit.depth();
    let done = jit.asm.new_label();
    let general = jit.cold(move |jit| {
        gen_store_subscr_general(jit);
        jit.asm.jump(done);
    });
    jit.asm.load_slot(Reg::R0, container);
    jit.asm.load_slot(Reg::R1, key);
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyList_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R3, Reg::R0, OB_TYPE, general);
    jit.asm.load_field(Reg::R2, Reg::R0, OB_SIZE);
    emit_sequence_index(jit, general);
    // R2 = &items[index]; S1 = the old item. The list takes its own reference to the value;
    // then, as the generic instruction: the old item, and the stack's value, list and index
    // (an old item's destructor may drop the list's reference to the value, which the
    // stack's keeps alive until then).
    jit.asm.load_field(Reg::R2, Reg::R0, LIST_OB_ITEM);
    jit.asm.i_shl_imm(Reg::S0, 3);
    jit.asm.i_add(Reg::R2, Reg::S0);
    jit.asm.load_field(Reg::S1, Reg::R2, 0);
    jit.asm.load_slot(Reg::R3, value);
    jit.asm.incref(Reg::R3);
    jit.asm.store_field(Reg::R2, 0, Reg::R3);
    emit_releases(
        jit,
        &[Held::Reg(Reg::S1), Held::Slot(value), Held::Slot(container), Held::Slot(key)],
        depth - 3,
        done,
    );
    jit.asm.bind(done);
    Some(())
}

fn gen_store_subscr_general(jit: &mut Jit) {
    // Stack: value, container, key.
    let (value, container, key) = (jit.peek(2), jit.peek(1), jit.peek(0));
    jit.set_prev_instr_current();
    jit.call(runtime::subscripts::set_item as usize, &[Arg::Slot(container), Arg::Slot(key), Arg::Slot(value)]);
    jit.asm.mov(Reg::S0, Reg::R0);
    for slot in [value, container, key] {
        jit.asm.load_slot(Reg::R0, slot);
        jit.asm.decref(Reg::R0);
    }
    let raise = jit.raise_exit(jit.depth() - 3);
    jit.asm.jump_if_negative_i32(Reg::S0, raise);
    check_tracing(jit, jit.instr().next, jit.depth() - 3);
}

fn jump_target(jit: &mut Jit, instr: &Instr) -> Option<crate::backend::Label> {
    match instr.flow() {
        crate::bytecode::Flow::Branch(t) | crate::bytecode::Flow::Jump(t) => jit.label_at(t),
        _ => None,
    }
}

/// Where a conditional branch goes when taken: straight to its target, or for a backward
/// branch (3.11's POP_JUMP_BACKWARD_*) through an out-of-line back-edge (count, poll, jump).
fn branch_target(jit: &mut Jit, instr: &Instr) -> Option<crate::backend::Label> {
    let target = jump_target(jit, instr)?;
    if !is_backward(instr) {
        return Some(target);
    }
    let crate::bytecode::Flow::Branch(header) = instr.flow() else { return None };
    let edge = jit.asm.new_label();
    let skip = jit.asm.new_label();
    jit.asm.jump(skip);
    jit.asm.bind(edge);
    emit_loop_back_edge(jit, target, header, jit.depth() - 1);
    jit.asm.bind(skip);
    Some(edge)
}

fn gen_pop_jump_if(jit: &mut Jit, instr: &Instr, jump_when: bool) -> Option<()> {
    let target = branch_target(jit, instr)?;
    let slot = jit.peek(0);
    let (py_true, py_false) = unsafe { (pyo3_ffi::Py_True() as u64, pyo3_ffi::Py_False() as u64) };
    let (jump_value, fall_value) = if jump_when { (py_true, py_false) } else { (py_false, py_true) };
    let general = jit.asm.new_label();
    let not_jump = jit.asm.new_label();
    let jump = jit.asm.new_label();
    let done = jit.asm.new_label();
    jit.asm.load_slot(Reg::R0, slot);
    // True and False are never deallocated: their references are dropped without a check.
    jit.asm.jump_if_equal_imm(Reg::R0, jump_value, jump);
    jit.asm.jump_if_not_equal_imm(Reg::R0, fall_value, general);
    jit.asm.bind(not_jump);
    jit.asm.decref(Reg::R0);
    jit.asm.jump(done);
    jit.asm.bind(jump);
    jit.asm.decref(Reg::R0);
    jit.asm.jump(target);
    // Any other object: its truth, which may call __bool__ or __len__ and may raise.
    jit.asm.bind(general);
    jit.set_prev_instr_current();
    jit.call(runtime::truth_consume as usize, &[Arg::Reg(Reg::R0)]);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    // A __bool__ or __len__ may have started tracing: decide the branch in the interpreter.
    // (Its result is known here, so take the branch first, then check.)
    jit.asm.mov(Reg::S0, Reg::R0);
    check_tracing_branch(jit, instr, jump_when);
    jit.asm.mov(Reg::R0, Reg::S0);
    if jump_when {
        jit.asm.jump_if_nonzero_i32(Reg::R0, target);
    } else {
        let stay = jit.asm.new_label();
        jit.asm.jump_if_nonzero_i32(Reg::R0, stay);
        jit.asm.jump(target);
        jit.asm.bind(stay);
    }
    jit.asm.bind(done);
    Some(())
}

/// After a user-defined truth test: if tracing became active, continue in the interpreter at
/// the instruction the branch leads to (S0 holds the truth value).
fn check_tracing_branch(jit: &mut Jit, instr: &Instr, jump_when: bool) {
    let crate::bytecode::Flow::Branch(target_start) = instr.flow() else { return };
    let depth = jit.depth() - 1;
    let taken = jit.asm.new_label();
    let decided = jit.asm.new_label();
    if jump_when {
        jit.asm.jump_if_nonzero_i32(Reg::S0, taken);
    } else {
        let not_taken = jit.asm.new_label();
        jit.asm.jump_if_nonzero_i32(Reg::S0, not_taken);
        jit.asm.jump(taken);
        jit.asm.bind(not_taken);
    }
    check_tracing(jit, instr.next, depth);
    jit.asm.jump(decided);
    jit.asm.bind(taken);
    check_tracing(jit, target_start, depth);
    jit.asm.bind(decided);
}

fn gen_pop_jump_if_none(jit: &mut Jit, instr: &Instr, jump_if_none: bool) -> Option<()> {
    let target = branch_target(jit, instr)?;
    let none = unsafe { pyo3_ffi::Py_None() as u64 };
    let slot = jit.peek(0);
    jit.asm.load_slot(Reg::S0, slot);
    jit.asm.load_slot(Reg::R0, slot);
    jit.asm.decref(Reg::R0);
    if jump_if_none {
        jit.asm.jump_if_equal_imm(Reg::S0, none, target);
    } else {
        jit.asm.jump_if_not_equal_imm(Reg::S0, none, target);
    }
    Some(())
}

fn gen_jump(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let target = jump_target(jit, instr)?;
    jit.asm.jump(target);
    Some(())
}

fn gen_jump_backward(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let target = jump_target(jit, instr)?;
    let crate::bytecode::Flow::Jump(header) = instr.flow() else { return None };
    emit_loop_back_edge(jit, target, header, jit.depth());
    Some(())
}

fn gen_for_iter(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let exhausted_at = instr.for_iter_exit();
    let exhausted_target = jit.label_at(exhausted_at)?;
    let iter = jit.peek(0);
    let depth = jit.depth();
    let top = jit.stack_slot(depth);
    let next = jit.asm.new_label();
    let next_start = instr.next;
    // Any iterator: its tp_iternext (which may run code), through the helper.
    let general = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(runtime::for_iter_next as usize, &[Arg::Slot(iter)]);
        let raise = jit.raise_exit(depth);
        jit.asm.jump_if_zero(Reg::R0, raise);
        let exhausted = jit.asm.new_label();
        jit.asm.jump_if_equal_imm(Reg::R0, runtime::EXHAUSTED as u64, exhausted);
        jit.asm.store_slot(top, Reg::R0);
        check_tracing(jit, next_start, depth + 1);
        jit.asm.jump(next);
        jit.asm.bind(exhausted);
        jit.asm.load_slot(Reg::R0, iter);
        jit.asm.decref(Reg::R0);
        jit.asm.jump(exhausted_target);
    });
    let Some(layout) = runtime::iter_layout() else {
        jit.asm.jump(general);
        jit.asm.bind(next);
        return Some(());
    };
    // A list iterator with items left, or a range iterator with values left, in line as
    // `listiter_next` and `rangeiter_next` step them (the last step, which releases the
    // list, and anything else through the helper). No code runs.
    let not_list = jit.asm.new_label();
    jit.asm.load_slot(Reg::R0, iter);
    jit.asm.load_field(Reg::R1, Reg::R0, OB_TYPE);
    jit.asm.load_imm(Reg::R2, std::ptr::addr_of_mut!(pyo3_ffi::PyListIter_Type) as u64);
    jit.asm.jump_if_not_equal_reg(Reg::R1, Reg::R2, not_list);
    jit.asm.load_field(Reg::R2, Reg::R0, layout.list_seq);
    jit.asm.jump_if_zero(Reg::R2, general);
    jit.asm.load_field(Reg::R3, Reg::R0, layout.list_index);
    jit.asm.load_field(Reg::R1, Reg::R2, OB_SIZE);
    jit.asm.u_jump_if(crate::backend::Cond::Ge, Reg::R3, Reg::R1, general);
    jit.asm.load_field(Reg::R1, Reg::R2, LIST_OB_ITEM);
    jit.asm.load_field_indexed(Reg::R1, Reg::R1, Reg::R3);
    jit.asm.incref(Reg::R1);
    jit.asm.store_slot(top, Reg::R1);
    jit.asm.i_add_imm(Reg::R3, 1);
    jit.asm.store_field(Reg::R0, layout.list_index, Reg::R3);
    jit.asm.jump(next);
    jit.asm.bind(not_list);
    jit.asm.load_imm(Reg::R2, std::ptr::addr_of_mut!(pyo3_ffi::PyRangeIter_Type) as u64);
    jit.asm.jump_if_not_equal_reg(Reg::R1, Reg::R2, general);
    // S0 = the value.
    match layout.range {
        runtime::RangeLayout::StartStepLen { start, step, len } => {
            jit.asm.load_field(Reg::R1, Reg::R0, len);
            jit.asm.i_jump_if_imm(crate::backend::Cond::Le, Reg::R1, 0, general);
            jit.asm.i_add_imm(Reg::R1, -1);
            jit.asm.store_field(Reg::R0, len, Reg::R1);
            jit.asm.load_field(Reg::S0, Reg::R0, start);
            jit.asm.load_field(Reg::R1, Reg::R0, step);
            jit.asm.i_add(Reg::R1, Reg::S0);
            jit.asm.store_field(Reg::R0, start, Reg::R1);
        }
        runtime::RangeLayout::IndexStartStepLen { index, start, step, len } => {
            // start + index++ * step, in wrapping arithmetic (as the unsigned C expression).
            jit.asm.load_field(Reg::R1, Reg::R0, index);
            jit.asm.load_field(Reg::R2, Reg::R0, len);
            jit.asm.i_jump_if(crate::backend::Cond::Ge, Reg::R1, Reg::R2, general);
            jit.asm.mov(Reg::S0, Reg::R1);
            jit.asm.i_add_imm(Reg::R1, 1);
            jit.asm.store_field(Reg::R0, index, Reg::R1);
            jit.asm.load_field(Reg::R1, Reg::R0, step);
            jit.asm.i_mul(Reg::S0, Reg::R1);
            jit.asm.load_field(Reg::R1, Reg::R0, start);
            jit.asm.i_add(Reg::S0, Reg::R1);
        }
    }
    // The int, as PyLong_FromLong makes it: a small int, or a new one (out of line).
    let big = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(pyo3_ffi::PyLong_FromLongLong as usize, &[Arg::Reg(Reg::S0)]);
        let raise = jit.raise_exit(depth);
        jit.asm.jump_if_zero(Reg::R0, raise);
        jit.asm.store_slot(top, Reg::R0);
        jit.asm.jump(next);
    });
    match runtime::numbers::small_int_table() {
        Some((base, shift)) => {
            use runtime::numbers::{SMALL_INT_MAX, SMALL_INT_MIN};
            jit.asm.mov(Reg::R2, Reg::S0);
            jit.asm.i_add_imm(Reg::R2, -SMALL_INT_MIN as i32);
            jit.asm.jump_if_above_imm(Reg::R2, (SMALL_INT_MAX - SMALL_INT_MIN) as u32, big);
            jit.asm.i_shl_imm(Reg::R2, shift);
            jit.asm.load_imm(Reg::R1, base);
            jit.asm.i_add(Reg::R1, Reg::R2);
            jit.asm.incref(Reg::R1);
            jit.asm.store_slot(top, Reg::R1);
        }
        None => jit.asm.jump(big),
    }
    jit.asm.bind(next);
    Some(())
}

fn gen_end_for(jit: &mut Jit) -> Option<()> {
    for n in [0, 1] {
        jit.asm.load_slot(Reg::R0, jit.peek(n));
        jit.asm.decref(Reg::R0);
    }
    Some(())
}

/// Offset of `ob_type` in every object.
const OB_TYPE: i32 = std::mem::offset_of!(pyo3_ffi::PyObject, ob_type) as i32;

fn gen_load_global(jit: &mut Jit, instr: &Instr) -> Option<()> {
    use runtime::global_cache::{GlobalCache, CACHE_BUILTINS_VERSION, CACHE_GLOBALS_VERSION, CACHE_VALUE};
    let name = *jit.names.get((instr.arg >> 1) as usize)?;
    let push_null = instr.arg & 1 == 1;
    let cache = GlobalCache::new();
    let cache_addr = &*cache as *const _ as u64;
    jit.global_caches.push(cache);
    let (depth, next) = (jit.depth(), instr.next);
    let (null_slot, value_slot) = (jit.stack_slot(depth), jit.stack_slot(depth + push_null as u32));
    let done = jit.asm.new_label();
    // A miss: the helper looks the name up (which may run code: a key's __eq__) and refills
    // the cache.
    let miss = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(runtime::global_cache::load_global_cached as usize, &[Arg::Frame, Arg::Imm(name as u64), Arg::Imm(cache_addr)]);
        let raise = jit.raise_exit(depth);
        jit.asm.jump_if_zero(Reg::R0, raise);
        if push_null {
            jit.asm.clear_slot(null_slot);
        }
        jit.asm.store_slot(value_slot, Reg::R0);
        check_tracing(jit, next, depth + 1 + push_null as u32);
        jit.asm.jump(done);
    });
    // The hit, inline, as `load_global_cached` decides it: both dicts exact dicts whose
    // versions are the cached ones (version tags are unique to one state of one dict), and a
    // value cached. Nothing runs, nothing is released: no prev_instr, no tracing check.
    jit.asm.load_frame_field(Reg::R1, cpython::FRAME_F_GLOBALS);
    jit.asm.load_frame_field(Reg::R2, cpython::FRAME_F_BUILTINS);
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyDict_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R3, Reg::R1, OB_TYPE, miss);
    jit.asm.jump_if_field_not_equal(Reg::R3, Reg::R2, OB_TYPE, miss);
    jit.asm.load_imm(Reg::R3, cache_addr);
    jit.asm.load_field(Reg::R0, Reg::R1, cpython::DICT_MA_VERSION_TAG as i32);
    jit.asm.jump_if_field_not_equal(Reg::R0, Reg::R3, CACHE_GLOBALS_VERSION, miss);
    jit.asm.load_field(Reg::R0, Reg::R2, cpython::DICT_MA_VERSION_TAG as i32);
    jit.asm.jump_if_field_not_equal(Reg::R0, Reg::R3, CACHE_BUILTINS_VERSION, miss);
    jit.asm.load_field(Reg::R0, Reg::R3, CACHE_VALUE);
    jit.asm.jump_if_zero(Reg::R0, miss);
    jit.asm.incref(Reg::R0);
    if push_null {
        jit.asm.clear_slot(null_slot);
    }
    jit.asm.store_slot(value_slot, Reg::R0);
    jit.asm.bind(done);
    Some(())
}

fn gen_load_attr(jit: &mut Jit, instr: &Instr) -> Option<()> {
    if cpython::VERSION >= (3, 12) {
        if instr.arg & 1 == 1 {
            return gen_load_method(jit, instr.arg >> 1);
        }
        return gen_get_attr(jit, instr.arg >> 1);
    }
    gen_get_attr(jit, instr.arg)
}

/// Offset of `tp_version_tag` in a type object.
const TP_VERSION_TAG: i32 = std::mem::offset_of!(pyo3_ffi::PyTypeObject, tp_version_tag) as i32;

/// `dst` = the inline values of `owner` (an instance of a type with a managed dict), or a jump
/// to `miss` when its dict is materialized (`cpython::instance_values`).
fn emit_instance_values(jit: &mut Jit, dst: Reg, owner: Reg, miss: crate::backend::Label) {
    #[cfg(autojit_py312)]
    {
        // A tagged pointer three words before the object: odd = the values minus one byte.
        jit.asm.load_field(dst, owner, -24);
        jit.asm.jump_if_bits_clear(dst, 1, miss);
        jit.asm.i_add_imm(dst, 1);
    }
    #[cfg(autojit_py311)]
    {
        // The values pointer four words before the object (null once the dict exists).
        jit.asm.load_field(dst, owner, -32);
        jit.asm.jump_if_zero(dst, miss);
    }
}

/// The inline check of an attribute cache's first entry: R1 = the owner, R2 = its type,
/// R3 = the cache; falls through when the entry describes the type as it is now, with R0 =
/// the entry's kind, else jumps to `miss`.
fn emit_attr_cache_check(jit: &mut Jit, slot: u32, cache: u64, miss: crate::backend::Label) {
    use runtime::attr_cache::{FIRST_KIND, FIRST_TP, FIRST_VERSION};
    jit.asm.load_slot(Reg::R1, slot);
    jit.asm.load_field(Reg::R2, Reg::R1, OB_TYPE);
    jit.asm.load_imm(Reg::R3, cache);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R3, FIRST_TP, miss);
    jit.asm.load_field_u32(Reg::R0, Reg::R2, TP_VERSION_TAG);
    jit.asm.jump_if_field_u32_not_equal(Reg::R0, Reg::R3, FIRST_VERSION, miss);
    jit.asm.load_field_u32(Reg::R0, Reg::R3, FIRST_KIND);
}

fn gen_get_attr(jit: &mut Jit, name_index: u32) -> Option<()> {
    use runtime::attr_cache::{Kind, FIRST_INDEX};
    let name = *jit.names.get(name_index as usize)?;
    let slot = jit.peek(0);
    let cache = jit.new_attr_cache();
    let (depth, next) = (jit.depth(), jit.instr().next);
    let done = jit.asm.new_label();
    // A miss: the helper (other entries, the generic lookup, which may run code).
    let miss = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(runtime::attr_cache::load_attr_cached as usize, &[Arg::Slot(slot), Arg::Imm(name as u64), Arg::Imm(cache)]);
        jit.asm.mov(Reg::S0, Reg::R0);
        jit.asm.load_slot(Reg::R0, slot);
        jit.asm.decref(Reg::R0);
        let raise = jit.raise_exit(depth - 1);
        jit.asm.jump_if_zero(Reg::S0, raise);
        jit.asm.store_slot(slot, Reg::S0);
        check_tracing(jit, next, depth);
        jit.asm.jump(done);
    });
    // The owner's last reference gone: its destructor may run code that looks at the frame.
    let dealloc = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(cpython::ffi::_Py_Dealloc as usize, &[Arg::Reg(Reg::R1)]);
        check_tracing(jit, next, depth);
        jit.asm.jump(done);
    });
    // The hit, inline: an instance value or a slot's value, as `load_attr_cached` reads it.
    let slot_kind = jit.asm.new_label();
    let found = jit.asm.new_label();
    emit_attr_cache_check(jit, slot, cache, miss);
    jit.asm.jump_if_equal_imm(Reg::R0, Kind::Slot as u64, slot_kind);
    jit.asm.jump_if_not_equal_imm(Reg::R0, Kind::InstanceValue as u64, miss);
    emit_instance_values(jit, Reg::R2, Reg::R1, miss);
    jit.asm.load_field(Reg::R0, Reg::R3, FIRST_INDEX);
    jit.asm.load_field_indexed(Reg::R0, Reg::R2, Reg::R0);
    jit.asm.jump(found);
    jit.asm.bind(slot_kind);
    jit.asm.load_field(Reg::R2, Reg::R3, FIRST_INDEX);
    jit.asm.i_add(Reg::R2, Reg::R1);
    jit.asm.load_field(Reg::R0, Reg::R2, 0);
    jit.asm.bind(found);
    jit.asm.jump_if_zero(Reg::R0, miss);
    jit.asm.incref(Reg::R0);
    jit.asm.store_slot(slot, Reg::R0);
    jit.asm.decref_or_jump(Reg::R1, dealloc);
    jit.asm.bind(done);
    Some(())
}

fn gen_load_method(jit: &mut Jit, name_index: u32) -> Option<()> {
    use runtime::attr_cache::{Kind, FIRST_DESCR, FIRST_KEYS, FIRST_NENTRIES};
    let name = *jit.names.get(name_index as usize)?;
    let slot = jit.peek(0);
    let cache = jit.new_attr_cache();
    let (depth, next) = (jit.depth(), jit.instr().next);
    let done = jit.asm.new_label();
    let miss = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(runtime::attr_cache::load_method_cached as usize, &[Arg::SlotAddr(slot), Arg::Imm(name as u64), Arg::Imm(cache)]);
        let raise = jit.raise_exit(depth - 1);
        jit.asm.jump_if_negative_i32(Reg::R0, raise);
        check_tracing(jit, next, depth + 1);
        jit.asm.jump(done);
    });
    // The hit, inline, as `load_method_cached` decides it: a method on a type whose instances
    // have no dict, or whose inline values cannot hold the name (values present, the type's
    // shared keys the same with as many entries). Pushes [method, owner]; nothing released.
    let push = jit.asm.new_label();
    emit_attr_cache_check(jit, slot, cache, miss);
    jit.asm.jump_if_equal_imm(Reg::R0, Kind::MethodNoDict as u64, push);
    jit.asm.jump_if_not_equal_imm(Reg::R0, Kind::MethodWithValues as u64, miss);
    emit_instance_values(jit, Reg::R0, Reg::R1, miss);
    jit.asm.load_field(Reg::R0, Reg::R2, cpython::HEAPTYPE_CACHED_KEYS as i32);
    jit.asm.jump_if_field_not_equal(Reg::R0, Reg::R3, FIRST_KEYS, miss);
    jit.asm.load_field(Reg::R0, Reg::R0, cpython::DICTKEYS_NENTRIES as i32);
    jit.asm.jump_if_field_not_equal(Reg::R0, Reg::R3, FIRST_NENTRIES, miss);
    jit.asm.bind(push);
    jit.asm.load_field(Reg::R0, Reg::R3, FIRST_DESCR);
    jit.asm.incref(Reg::R0);
    jit.asm.store_slot(slot, Reg::R0);
    jit.asm.store_slot(slot + 1, Reg::R1);
    jit.asm.bind(done);
    Some(())
}

fn gen_store_attr(jit: &mut Jit, instr: &Instr) -> Option<()> {
    use runtime::attr_cache::{Kind, StoreAttrCache, STORE_INDEX, STORE_KIND, STORE_TP, STORE_VERSION};
    let name = *jit.names.get(instr.arg as usize)?;
    // Stack: value, owner.
    let (value, owner) = (jit.peek(1), jit.peek(0));
    let depth = jit.depth();
    let cache = StoreAttrCache::new();
    let cache_addr = &*cache as *const _ as u64;
    jit.store_attr_caches.push(cache);
    let done = jit.asm.new_label();
    // A miss: the helper (the generic store, which may run code), which fills the cache.
    let miss = jit.cold(move |jit| {
        jit.set_prev_instr_current();
        jit.call(
            runtime::attr_cache::store_attr_cached as usize,
            &[Arg::Slot(owner), Arg::Imm(name as u64), Arg::Slot(value), Arg::Imm(cache_addr)],
        );
        jit.asm.mov(Reg::S0, Reg::R0);
        for slot in [value, owner] {
            jit.asm.load_slot(Reg::R0, slot);
            jit.asm.decref(Reg::R0);
        }
        let raise = jit.raise_exit(depth - 2);
        jit.asm.jump_if_negative_i32(Reg::S0, raise);
        check_tracing(jit, jit.instr().next, depth - 2);
        jit.asm.jump(done);
    });
    // The hit, inline, as `store_attr_cached` does it: the type and its version are the
    // cached ones, and the instance value or the slot holds a value, which a new reference
    // to the value replaces; then, as the generic instruction: the old value, and the
    // stack's value and owner (an old value's destructor may drop the owner's reference to
    // the value, which the stack's keeps alive until then).
    let slot_kind = jit.asm.new_label();
    let place = jit.asm.new_label();
    jit.asm.load_slot(Reg::R1, owner);
    jit.asm.load_field(Reg::R2, Reg::R1, OB_TYPE);
    jit.asm.load_imm(Reg::R3, cache_addr);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R3, STORE_TP, miss);
    jit.asm.load_field_u32(Reg::R0, Reg::R2, TP_VERSION_TAG);
    jit.asm.jump_if_field_u32_not_equal(Reg::R0, Reg::R3, STORE_VERSION, miss);
    jit.asm.load_field_u32(Reg::R0, Reg::R3, STORE_KIND);
    jit.asm.jump_if_equal_imm(Reg::R0, Kind::Slot as u64, slot_kind);
    jit.asm.jump_if_not_equal_imm(Reg::R0, Kind::InstanceValue as u64, miss);
    emit_instance_values(jit, Reg::R2, Reg::R1, miss);
    jit.asm.load_field(Reg::R0, Reg::R3, STORE_INDEX);
    jit.asm.i_shl_imm(Reg::R0, 3);
    jit.asm.i_add(Reg::R2, Reg::R0);
    jit.asm.jump(place);
    jit.asm.bind(slot_kind);
    jit.asm.load_field(Reg::R2, Reg::R3, STORE_INDEX);
    jit.asm.i_add(Reg::R2, Reg::R1);
    // R2 = where the value goes; S1 = the old value (there must be one).
    jit.asm.bind(place);
    jit.asm.load_field(Reg::S1, Reg::R2, 0);
    jit.asm.jump_if_zero(Reg::S1, miss);
    jit.asm.load_slot(Reg::R3, value);
    jit.asm.incref(Reg::R3);
    jit.asm.store_field(Reg::R2, 0, Reg::R3);
    emit_releases(jit, &[Held::Reg(Reg::S1), Held::Slot(value), Held::Slot(owner)], depth - 2, done);
    jit.asm.bind(done);
    Some(())
}

fn gen_call(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let nargs = instr.arg;
    let base = jit.peek(nargs + 1);
    let kwnames = jit.kwnames.unwrap_or(std::ptr::null_mut());
    let depth_after_inputs = jit.depth() - nargs - 2;
    let next = instr.next;
    let got_result = jit.asm.new_label();
    let stored = jit.asm.new_label();
    jit.set_prev_instr_current();
    if kwnames.is_null() && nargs == 1 {
        emit_list_append(jit, base, stored);
    }
    match (kwnames.is_null(), super::calls::direct_call_routine()) {
        (true, Some(routine)) => {
            // A compiled callee this site called directly before: the direct-call routine,
            // which checks the site's cache and does the whole call; anything else (or any
            // failed check) through `call_positional`, which fills the cache.
            let cache = super::calls::CallCache::new();
            let cache_addr = &*cache as *const _ as u64;
            jit.call_caches.push(cache);
            let general = jit.cold(move |jit| {
                jit.call(
                    super::calls::call_positional as usize,
                    &[Arg::Tstate, Arg::SlotAddr(base), Arg::Imm(nargs as u64), Arg::Imm(cache_addr)],
                );
                jit.asm.jump(got_result);
            });
            // [method, self, args...] or [NULL, callable, args...]: S0 = the callable,
            // R1 = the first argument's slot, R2 = the argument count.
            let no_method = jit.asm.new_label();
            let ready = jit.asm.new_label();
            jit.asm.load_slot(Reg::S0, base);
            jit.asm.jump_if_zero(Reg::S0, no_method);
            jit.asm.slot_address(Reg::R1, base + 1);
            jit.asm.load_imm(Reg::R2, nargs as u64 + 1);
            jit.asm.jump(ready);
            jit.asm.bind(no_method);
            jit.asm.load_slot(Reg::S0, base + 1);
            jit.asm.slot_address(Reg::R1, base + 2);
            jit.asm.load_imm(Reg::R2, nargs as u64);
            jit.asm.bind(ready);
            // Not a Python function: a method descriptor (`d.get(k)`, `s.join(x)`), else
            // `call_positional` (the routine would refuse).
            let not_function = jit.asm.new_label();
            jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyFunction_Type) as u64);
            jit.asm.jump_if_field_not_equal(Reg::R3, Reg::S0, OB_TYPE, not_function);
            jit.asm.load_imm(Reg::R3, cache_addr);
            jit.call(routine, &[]);
            jit.asm.jump_if_equal_imm(Reg::R0, super::calls::MISS, general);
            jit.asm.jump(got_result);
            jit.asm.bind(not_function);
            emit_method_descriptor_call(jit, base, nargs, general, got_result);
        }
        (true, None) => {
            jit.call(super::calls::call_positional as usize, &[Arg::Tstate, Arg::SlotAddr(base), Arg::Imm(nargs as u64), Arg::Imm(0)]);
        }
        (false, _) => {
            jit.call(runtime::call as usize, &[Arg::SlotAddr(base), Arg::Imm(nargs as u64), Arg::Imm(kwnames as u64)]);
        }
    }
    jit.asm.bind(got_result);
    let raise = jit.raise_exit(depth_after_inputs);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    jit.asm.bind(stored);
    // The interpreter checks the eval breaker after every call.
    poll_eval_breaker(jit, depth_after_inputs + 1);
    check_tracing(jit, next, depth_after_inputs + 1);
    Some(())
}

/// Offset of a method descriptor's vectorcall entry.
const METHOD_DESCR_VECTORCALL: i32 = std::mem::offset_of!(pyo3_ffi::PyMethodDescrObject, vectorcall) as i32;

/// CALL of a method descriptor (S0; R1 = the first argument's slot, R2 = the argument
/// count), as `call_positional` does it for any callable with a vectorcall entry: the entry
/// called with this thread's arguments (`PY_VECTORCALL_ARGUMENTS_OFFSET`), the result
/// checked by `_Py_CheckFunctionResult`, the call's references released in order. Jumps to
/// `got_result` with the result in R0; anything else (`list.append`, which
/// `call_positional` appends itself) to `general`.
fn emit_method_descriptor_call(jit: &mut Jit, base: u32, nargs: u32, general: crate::backend::Label, got_result: crate::backend::Label) {
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyMethodDescr_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R3, Reg::S0, OB_TYPE, general);
    jit.asm.jump_if_equal_imm(Reg::S0, super::calls::list_append_descriptor() as u64, general);
    jit.asm.load_field(Reg::S1, Reg::S0, METHOD_DESCR_VECTORCALL);
    jit.asm.jump_if_zero(Reg::S1, general);
    jit.asm.load_imm(Reg::R3, pyo3_ffi::PY_VECTORCALL_ARGUMENTS_OFFSET as u64);
    // (The backend has no plain register OR: i_arith's OR never takes the overflow label.)
    jit.asm.i_arith(crate::backend::IOp::Or, Reg::R2, Reg::R3, general);
    jit.asm.call_indirect(Reg::S1, &[Arg::Reg(Reg::S0), Arg::Reg(Reg::R1), Arg::Reg(Reg::R2), Arg::Imm(0)]);
    jit.call(
        super::calls::check_function_result_address(),
        &[Arg::Tstate, Arg::Reg(Reg::S0), Arg::Reg(Reg::R0), Arg::Imm(0)],
    );
    jit.asm.mov(Reg::S1, Reg::R0);
    jit.asm.load_slot(Reg::R0, base);
    jit.asm.xdecref(Reg::R0);
    for i in 1..nargs + 2 {
        jit.asm.load_slot(Reg::R0, base + i);
        jit.asm.decref(Reg::R0);
    }
    jit.asm.mov(Reg::R0, Reg::S1);
    jit.asm.jump(got_result);
}

/// `items.append(x)` on an exact list with room for the item, in line, as
/// `call_positional` does it (`PyList_Append`, then the call's references released in
/// order: `list.append`, the list, the item); anything else falls through to the general
/// call code. Stack: [method, self, arg]; None is the result.
fn emit_list_append(jit: &mut Jit, base: u32, stored: crate::backend::Label) {
    let not_append = jit.asm.new_label();
    let descr = super::calls::list_append_descriptor() as u64;
    let depth_after = jit.depth() - 2;
    jit.asm.load_slot(Reg::R0, base);
    jit.asm.jump_if_not_equal_imm(Reg::R0, descr, not_append);
    jit.asm.load_slot(Reg::R1, base + 1);
    jit.asm.load_imm(Reg::R2, std::ptr::addr_of_mut!(pyo3_ffi::PyList_Type) as u64);
    jit.asm.jump_if_field_not_equal(Reg::R2, Reg::R1, OB_TYPE, not_append);
    // Room: ob_size < allocated (else PyList_Append resizes, through the general path).
    jit.asm.load_field(Reg::R2, Reg::R1, OB_SIZE);
    jit.asm.load_field(Reg::R3, Reg::R1, LIST_ALLOCATED);
    // Signed: a list being sorted has allocated = -1 (and no items) and must take the
    // general path, as in CPython.
    jit.asm.i_jump_if(crate::backend::Cond::Ge, Reg::R2, Reg::R3, not_append);
    jit.asm.load_field(Reg::R3, Reg::R1, LIST_OB_ITEM);
    jit.asm.load_slot(Reg::R0, base + 2);
    jit.asm.incref(Reg::R0);
    jit.asm.mov(Reg::S1, Reg::R2);
    jit.asm.i_shl_imm(Reg::S1, 3);
    jit.asm.i_add(Reg::R3, Reg::S1);
    jit.asm.store_field(Reg::R3, 0, Reg::R0);
    jit.asm.i_add_imm(Reg::R2, 1);
    jit.asm.store_field(Reg::R1, OB_SIZE, Reg::R2);
    // The result, then the releases (the list's may run code: out of line).
    let none = unsafe { pyo3_ffi::Py_None() } as u64;
    jit.asm.load_imm(Reg::R0, none);
    jit.asm.incref(Reg::R0);
    jit.asm.store_slot(base, Reg::R0);
    jit.asm.load_imm(Reg::S1, descr);
    emit_releases(jit, &[Held::Reg(Reg::S1), Held::Slot(base + 1), Held::Slot(base + 2)], depth_after, stored);
    jit.asm.jump(stored);
    jit.asm.bind(not_append);
}

fn gen_build(jit: &mut Jit, helper: usize, n: u32) -> Option<()> {
    let base = jit.stack_slot(jit.depth() - n);
    jit.set_prev_instr_current();
    jit.call(helper, &[Arg::SlotAddr(base), Arg::Imm(n as u64)]);
    let raise = jit.raise_exit(jit.depth() - n);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    Some(())
}

fn gen_list_append(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let list = jit.peek(instr.arg);
    let value = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(runtime::list_append as usize, &[Arg::Slot(list), Arg::Slot(value)]);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    Some(())
}

fn gen_raise_varargs(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // A bare `raise` re-raises without adding a traceback entry for this frame: the
    // interpreter does that one.
    let (exc, cause) = match instr.arg {
        1 => (Arg::Slot(jit.peek(0)), Arg::Imm(0)),
        2 => (Arg::Slot(jit.peek(1)), Arg::Slot(jit.peek(0))),
        _ => return None,
    };
    jit.set_prev_instr_current();
    jit.call(runtime::raise as usize, &[exc, cause]);
    let raise = jit.raise_exit(jit.depth() - instr.arg);
    jit.asm.jump(raise);
    Some(())
}

fn gen_make_cell(jit: &mut Jit, instr: &Instr) -> Option<()> {
    jit.set_prev_instr_current();
    jit.call(runtime::make_cell as usize, &[Arg::SlotAddr(instr.arg)]);
    let raise = jit.raise_exit(jit.depth());
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    Some(())
}

fn gen_copy_free_vars(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let first = jit.nlocalsplus.checked_sub(instr.arg)?;
    jit.call(runtime::copy_free_vars as usize, &[Arg::Frame, Arg::Imm(first as u64), Arg::Imm(instr.arg as u64)]);
    Some(())
}

/// Offset of `ob_ref` in a cell object.
const CELL_REF: i32 = 16;

fn gen_load_deref(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // An empty cell: the interpreter raises NameError/UnboundLocalError with its message.
    let exit = jit.side_exit();
    jit.asm.load_slot(Reg::R0, instr.arg);
    jit.asm.load_field(Reg::R0, Reg::R0, CELL_REF);
    jit.asm.jump_if_zero(Reg::R0, exit);
    jit.asm.incref(Reg::R0);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

fn gen_store_deref(jit: &mut Jit, instr: &Instr) -> Option<()> {
    jit.asm.load_slot(Reg::R1, jit.peek(0));
    jit.asm.load_slot(Reg::R2, instr.arg);
    jit.asm.load_field(Reg::R0, Reg::R2, CELL_REF);
    jit.asm.store_field(Reg::R2, CELL_REF, Reg::R1);
    jit.asm.xdecref(Reg::R0);
    Some(())
}

fn gen_format_value(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let inputs = if instr.arg & 4 != 0 { 2 } else { 1 };
    let base = jit.stack_slot(jit.depth() - inputs);
    jit.set_prev_instr_current();
    jit.call(runtime::format_value as usize, &[Arg::SlotAddr(base), Arg::Imm(instr.arg as u64)]);
    let raise = jit.raise_exit(jit.depth() - inputs);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    check_tracing(jit, instr.next, jit.depth() - inputs + 1);
    Some(())
}

fn gen_build_map(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let inputs = 2 * instr.arg;
    let base = jit.stack_slot(jit.depth() - inputs);
    jit.set_prev_instr_current();
    jit.call(runtime::build_map as usize, &[Arg::SlotAddr(base), Arg::Imm(instr.arg as u64)]);
    let raise = jit.raise_exit(jit.depth() - inputs);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    check_tracing(jit, instr.next, jit.depth() - inputs + 1);
    Some(())
}

fn gen_unpack_sequence(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let exit = jit.side_exit();
    let slot = jit.peek(0);
    let n = instr.arg;
    let done = jit.asm.new_label();
    // Anything else: the helper (`unpack_exact`), or the interpreter.
    let general = jit.cold(move |jit| {
        jit.call(runtime::unpack_exact as usize, &[Arg::SlotAddr(slot), Arg::Imm(n as u64)]);
        jit.asm.jump_if_nonzero_i32(Reg::R0, exit);
        jit.asm.jump(done);
    });
    if n > 8 {
        jit.asm.jump(general);
        jit.asm.bind(done);
        return Some(());
    }
    // An exact tuple or list of exactly n items, in line as `unpack_exact` does it: the items
    // pushed (last lowest), then the sequence released (no code can run: each item has
    // gained a reference).
    let not_tuple = jit.asm.new_label();
    let items = jit.asm.new_label();
    // (The type first: only a tuple or a list has an ob_size to read.)
    jit.asm.load_slot(Reg::R0, slot);
    jit.asm.load_field(Reg::R2, Reg::R0, OB_TYPE);
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyTuple_Type) as u64);
    jit.asm.jump_if_not_equal_reg(Reg::R2, Reg::R3, not_tuple);
    jit.asm.mov(Reg::R1, Reg::R0);
    jit.asm.i_add_imm(Reg::R1, TUPLE_OB_ITEM);
    jit.asm.jump(items);
    jit.asm.bind(not_tuple);
    jit.asm.load_imm(Reg::R3, std::ptr::addr_of_mut!(pyo3_ffi::PyList_Type) as u64);
    jit.asm.jump_if_not_equal_reg(Reg::R2, Reg::R3, general);
    jit.asm.load_field(Reg::R1, Reg::R0, LIST_OB_ITEM);
    jit.asm.bind(items);
    // R1 = the items; the length must be n.
    jit.asm.load_field(Reg::R2, Reg::R0, OB_SIZE);
    jit.asm.jump_if_not_equal_imm(Reg::R2, n as u64, general);
    for i in 0..n {
        jit.asm.load_field(Reg::R2, Reg::R1, 8 * (n - 1 - i) as i32);
        jit.asm.incref(Reg::R2);
        jit.asm.store_slot(slot + i, Reg::R2);
    }
    jit.asm.decref(Reg::R0);
    jit.asm.bind(done);
    Some(())
}

/// `helper(&slots[depth - inputs])` consumes `inputs` stack values; it pushes its result
/// (`pushes`: null means error) or returns -1 on error.
fn gen_consuming(jit: &mut Jit, helper: usize, inputs: u32, pushes: bool) -> Option<()> {
    let base = jit.stack_slot(jit.depth() - inputs);
    jit.set_prev_instr_current();
    jit.call(helper, &[Arg::SlotAddr(base)]);
    let raise = jit.raise_exit(jit.depth() - inputs);
    if pushes {
        jit.asm.jump_if_zero(Reg::R0, raise);
        jit.asm.store_slot(base, Reg::R0);
    } else {
        jit.asm.jump_if_negative_i32(Reg::R0, raise);
    }
    let depth_after = jit.depth() - inputs + pushes as u32;
    check_tracing(jit, jit.instr().next, depth_after);
    Some(())
}

fn gen_store_global(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let name = *jit.names.get(instr.arg as usize)?;
    jit.set_prev_instr_current();
    jit.call(runtime::store_global as usize, &[Arg::Frame, Arg::Imm(name as u64), Arg::Slot(jit.peek(0))]);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, instr.next, jit.depth() - 1);
    Some(())
}

fn gen_push_constant(jit: &mut Jit, value: *mut pyo3_ffi::PyObject) -> Option<()> {
    jit.asm.load_imm(Reg::R0, value as u64);
    jit.asm.incref(Reg::R0);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

fn gen_delete_fast(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let exit = jit.side_exit();
    jit.asm.load_slot(Reg::R0, instr.arg);
    jit.asm.jump_if_zero(Reg::R0, exit);
    jit.asm.clear_slot(instr.arg);
    jit.asm.decref(Reg::R0);
    Some(())
}

fn gen_make_function(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let inputs = 1 + (instr.arg & 0xf).count_ones();
    let base = jit.stack_slot(jit.depth() - inputs);
    jit.set_prev_instr_current();
    jit.call(runtime::make_function as usize, &[Arg::Frame, Arg::SlotAddr(base), Arg::Imm(instr.arg as u64)]);
    let raise = jit.raise_exit(jit.depth() - inputs);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    // 3.12's PyFunction_New notifies function watchers, which may run Python code.
    check_tracing(jit, instr.next, jit.depth() - inputs + 1);
    Some(())
}

fn gen_call_function_ex(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // Stack: NULL, func, callargs, kwargs if oparg & 1. The result replaces the NULL.
    let kw = instr.arg & 1;
    let func = jit.peek(1 + kw);
    let null_slot = jit.peek(2 + kw);
    jit.set_prev_instr_current();
    jit.call(runtime::call_function_ex as usize, &[Arg::SlotAddr(func), Arg::Imm(kw as u64)]);
    let depth_after = jit.depth() - 2 - kw;
    let raise = jit.raise_exit(depth_after - 1);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(null_slot, Reg::R0);
    // The interpreter checks the eval breaker after the call.
    poll_eval_breaker(jit, depth_after);
    check_tracing(jit, instr.next, depth_after);
    Some(())
}

/// A BUILD_* whose helper consumes `n + extra` stack values and may run Python code
/// (hashing, comparing keys).
fn gen_build_checked(jit: &mut Jit, helper: usize, n: u32, extra: u32) -> Option<()> {
    let inputs = n + extra;
    let base = jit.stack_slot(jit.depth() - inputs);
    jit.set_prev_instr_current();
    jit.call(helper, &[Arg::SlotAddr(base), Arg::Imm(n as u64)]);
    let raise = jit.raise_exit(jit.depth() - inputs);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    check_tracing(jit, jit.instr().next, jit.depth() - inputs + 1);
    Some(())
}

/// SET_ADD, SET_UPDATE, LIST_EXTEND, DICT_UPDATE: `helper(container, value)` adds the top
/// of the stack (consumed) to the container `oparg` places below it; 0 or -1.
fn gen_container_update(jit: &mut Jit, instr: &Instr, helper: usize) -> Option<()> {
    let container = jit.peek(instr.arg);
    let value = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(helper, &[Arg::Slot(container), Arg::Slot(value)]);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, instr.next, jit.depth() - 1);
    Some(())
}

fn gen_dict_merge(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // Stack: ..., func, callargs, (oparg - 1 values), dict, update.
    let func = jit.peek(instr.arg + 2);
    let dict = jit.peek(instr.arg);
    let update = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(runtime::dict_merge as usize, &[Arg::Slot(func), Arg::Slot(dict), Arg::Slot(update)]);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, instr.next, jit.depth() - 1);
    Some(())
}

fn gen_map_add(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let dict = jit.peek(instr.arg + 1);
    let (key, value) = (jit.peek(1), jit.peek(0));
    jit.set_prev_instr_current();
    jit.call(runtime::map_add as usize, &[Arg::Slot(dict), Arg::Slot(key), Arg::Slot(value)]);
    let raise = jit.raise_exit(jit.depth() - 2);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, instr.next, jit.depth() - 2);
    Some(())
}

/// CALL_INTRINSIC_1 (3.12): the intrinsics ordinary functions use. The numbers are
/// `opcode._intrinsic_1_descs` indexes (Include/internal/pycore_intrinsics.h).
fn gen_call_intrinsic_1(jit: &mut Jit, instr: &Instr) -> Option<()> {
    const INTRINSIC_UNARY_POSITIVE: u32 = 5;
    const INTRINSIC_LIST_TO_TUPLE: u32 = 6;
    match instr.arg {
        INTRINSIC_UNARY_POSITIVE => gen_unary(jit, runtime::unary_positive as usize),
        INTRINSIC_LIST_TO_TUPLE => gen_unary(jit, runtime::list_to_tuple as usize),
        _ => None,
    }
}

fn gen_delete_attr(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let name = *jit.names.get(instr.arg as usize)?;
    let owner = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(runtime::delete_attr as usize, &[Arg::Slot(owner), Arg::Imm(name as u64)]);
    jit.asm.mov(Reg::S0, Reg::R0);
    jit.asm.load_slot(Reg::R0, owner);
    jit.asm.decref(Reg::R0);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::S0, raise);
    check_tracing(jit, instr.next, jit.depth() - 1);
    Some(())
}

fn gen_delete_subscr(jit: &mut Jit) -> Option<()> {
    let (container, sub) = (jit.peek(1), jit.peek(0));
    jit.set_prev_instr_current();
    jit.call(runtime::delete_subscr as usize, &[Arg::Slot(container), Arg::Slot(sub)]);
    jit.asm.mov(Reg::S0, Reg::R0);
    for slot in [container, sub] {
        jit.asm.load_slot(Reg::R0, slot);
        jit.asm.decref(Reg::R0);
    }
    let raise = jit.raise_exit(jit.depth() - 2);
    jit.asm.jump_if_negative_i32(Reg::S0, raise);
    check_tracing(jit, jit.instr().next, jit.depth() - 2);
    Some(())
}

fn gen_delete_global(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let name = *jit.names.get(instr.arg as usize)?;
    jit.set_prev_instr_current();
    jit.call(runtime::delete_global as usize, &[Arg::Frame, Arg::Imm(name as u64)]);
    let raise = jit.raise_exit(jit.depth());
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, instr.next, jit.depth());
    Some(())
}

fn gen_delete_deref(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // An empty cell: the interpreter raises NameError/UnboundLocalError with its message.
    let exit = jit.side_exit();
    jit.asm.load_slot(Reg::R1, instr.arg);
    jit.asm.load_field(Reg::R0, Reg::R1, CELL_REF);
    jit.asm.jump_if_zero(Reg::R0, exit);
    jit.asm.load_imm(Reg::R2, 0);
    jit.asm.store_field(Reg::R1, CELL_REF, Reg::R2);
    // The old value's destructor may run Python code that looks at this frame's line.
    jit.set_prev_instr_current();
    jit.asm.decref(Reg::R0);
    Some(())
}

fn gen_unpack_ex(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let exit = jit.side_exit();
    let raise = jit.raise_exit(jit.depth() - 1);
    let slot = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(runtime::unpack_ex as usize, &[Arg::SlotAddr(slot), Arg::Imm(instr.arg as u64)]);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    jit.asm.jump_if_nonzero_i32(Reg::R0, exit);
    Some(())
}

/// `helper(args...)` returns a new value to push (null: an exception, inputs untouched).
fn gen_push_result(jit: &mut Jit, helper: usize, args: &[Arg]) -> Option<()> {
    jit.set_prev_instr_current();
    jit.call(helper, args);
    let raise = jit.raise_exit(jit.depth());
    jit.asm.jump_if_zero(Reg::R0, raise);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    check_tracing(jit, jit.instr().next, jit.depth() + 1);
    Some(())
}

fn gen_match_flag(jit: &mut Jit, flag: u64) -> Option<()> {
    jit.call(runtime::match_type_flag as usize, &[Arg::Slot(jit.peek(0)), Arg::Imm(flag)]);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

fn gen_match_class(jit: &mut Jit, instr: &Instr) -> Option<()> {
    // Stack: subject, type, names; the result (attributes or None) replaces them.
    let base = jit.peek(2);
    jit.set_prev_instr_current();
    jit.call(runtime::match_class as usize, &[Arg::SlotAddr(base), Arg::Imm(instr.arg as u64)]);
    let raise = jit.raise_exit(jit.depth() - 3);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    check_tracing(jit, instr.next, jit.depth() - 2);
    Some(())
}

fn gen_import_name(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let name = *jit.names.get(instr.arg as usize)?;
    // Stack: level, fromlist; the module replaces them.
    let base = jit.peek(1);
    jit.set_prev_instr_current();
    jit.call(
        runtime::import_name as usize,
        &[Arg::Tstate, Arg::Frame, Arg::Imm(name as u64), Arg::SlotAddr(base)],
    );
    let raise = jit.raise_exit(jit.depth() - 2);
    jit.asm.jump_if_zero(Reg::R0, raise);
    jit.asm.store_slot(base, Reg::R0);
    check_tracing(jit, instr.next, jit.depth() - 1);
    Some(())
}

fn gen_import_from(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let name = *jit.names.get(instr.arg as usize)?;
    let exit = jit.side_exit();
    jit.call(runtime::import_from as usize, &[Arg::Slot(jit.peek(0)), Arg::Imm(name as u64)]);
    jit.asm.jump_if_equal_imm(Reg::R0, runtime::IMPORT_FROM_EXIT as u64, exit);
    let top = jit.stack_slot(jit.depth());
    jit.asm.store_slot(top, Reg::R0);
    Some(())
}

fn gen_load_super_attr(jit: &mut Jit, instr: &Instr) -> Option<()> {
    let name = *jit.names.get((instr.arg >> 2) as usize)?;
    // Stack: global super, class, self; replaced by [NULL,] attribute.
    let base = jit.peek(2);
    jit.set_prev_instr_current();
    jit.call(
        runtime::load_super_attr as usize,
        &[Arg::SlotAddr(base), Arg::Imm(name as u64), Arg::Imm(instr.arg as u64)],
    );
    let raise = jit.raise_exit(jit.depth() - 3);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, instr.next, jit.depth() - 2 + (instr.arg & 1));
    Some(())
}

fn gen_before_with(jit: &mut Jit) -> Option<()> {
    let slot = jit.peek(0);
    jit.set_prev_instr_current();
    jit.call(runtime::before_with as usize, &[Arg::SlotAddr(slot)]);
    let raise = jit.raise_exit(jit.depth() - 1);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    check_tracing(jit, jit.instr().next, jit.depth() + 1);
    Some(())
}

/// 3.11's JUMP_IF_FALSE_OR_POP (`jump_when` false) and JUMP_IF_TRUE_OR_POP: jump keeping
/// the value when its truth is `jump_when`, otherwise pop it and fall through.
fn gen_jump_or_pop(jit: &mut Jit, instr: &Instr, jump_when: bool) -> Option<()> {
    let crate::bytecode::Flow::Branch(target_start) = instr.flow() else { return None };
    if is_backward(instr) {
        return None;
    }
    let target = jit.label_at(target_start)?;
    let depth = jit.depth();
    let slot = jit.peek(0);
    let (py_true, py_false) = unsafe { (pyo3_ffi::Py_True() as u64, pyo3_ffi::Py_False() as u64) };
    let (jump_value, pop_value) = if jump_when { (py_true, py_false) } else { (py_false, py_true) };
    let general = jit.asm.new_label();
    let pop = jit.asm.new_label();
    let done = jit.asm.new_label();
    jit.asm.load_slot(Reg::R0, slot);
    jit.asm.jump_if_equal_imm(Reg::R0, jump_value, target);
    jit.asm.jump_if_not_equal_imm(Reg::R0, pop_value, general);
    // True or False, never deallocated.
    jit.asm.decref(Reg::R0);
    jit.asm.jump(done);
    // Any other object: its truth, which may call __bool__ or __len__ and may raise (the
    // value stays on the stack).
    jit.asm.bind(general);
    jit.set_prev_instr_current();
    jit.call(runtime::truth as usize, &[Arg::Reg(Reg::R0)]);
    let raise = jit.raise_exit(depth);
    jit.asm.jump_if_negative_i32(Reg::R0, raise);
    let jump = jit.asm.new_label();
    if jump_when {
        jit.asm.jump_if_nonzero_i32(Reg::R0, jump);
    } else {
        jit.asm.jump_if_nonzero_i32(Reg::R0, pop);
        jit.asm.jump(jump);
    }
    jit.asm.bind(pop);
    jit.asm.load_slot(Reg::R0, slot);
    jit.asm.decref(Reg::R0);
    check_tracing(jit, instr.next, depth - 1);
    jit.asm.jump(done);
    jit.asm.bind(jump);
    check_tracing(jit, target_start, depth);
    jit.asm.jump(target);
    jit.asm.bind(done);
    Some(())
}

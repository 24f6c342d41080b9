//! LOAD_ATTR's per-site cache, for the cases CPython's own specializer handles most:
//!
//! - an instance attribute kept in the instance's inline values (`self.x` on an ordinary
//!   class): read `values[index]` directly;
//! - a method found on the type of an object that has no instance dict (`items.append`), or
//!   whose inline values cannot hold the name (`self.method()`): push the function and the
//!   object without looking anything up;
//! - a `__slots__` attribute (a member descriptor of type `Py_T_OBJECT_EX`): read at its
//!   offset in the object.
//!
//! STORE_ATTR has a cache of its own (`StoreAttrCache`) for replacing an instance value or a
//! slot's value.
//!
//! The cache is keyed on the type and its version tag. CPython gives a type a new version
//! (tags are never reused) whenever the type or anything on its MRO changes, so while the tag
//! matches, the type-side answer stands, and the type's dict keeps the cached method alive
//! (the cache borrows it). The instance side is checked on every use. Anything else takes the
//! generic path, which then tries to fill the cache.

use super::load_method;
use crate::cpython::{self, field};
use pyo3_ffi::*;

extern "C" {
    fn _PyType_Lookup(tp: *mut PyTypeObject, name: *mut PyObject) -> *mut PyObject;
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    Empty,
    /// The attribute is `values[index]` of the instance's inline values.
    InstanceValue,
    /// A method on a type whose instances have no dict.
    MethodNoDict,
    /// A method on a type whose instances' inline values cannot hold the name: the shared
    /// keys (append-only) did not contain it with `nentries` entries.
    MethodWithValues,
    /// None of the above: take the generic path without trying to fill the cache again.
    Generic,
    /// A `__slots__` member (`Py_T_OBJECT_EX`, no audit on reads) at byte offset `index`.
    Slot,
}

/// What a site knows about one type.
#[derive(Clone, Copy)]
#[repr(C)]
struct Entry {
    tp: *mut PyTypeObject,
    version: u32,
    kind: Kind,
    index: usize,
    descr: *mut PyObject,
    keys: *const u8,
    nentries: isize,
}

const EMPTY: Entry = Entry {
    tp: std::ptr::null_mut(),
    version: 0,
    kind: Kind::Empty,
    index: 0,
    descr: std::ptr::null_mut(),
    keys: std::ptr::null(),
    nentries: 0,
};

/// Types one site remembers (sites that see a class hierarchy see several).
const WAYS: usize = 4;

/// One LOAD_ATTR site's cache: a few entries, replaced round-robin. Tier-1 code checks the
/// first entry inline for the common kinds (at the offsets below, by the same rules as the
/// helpers) and calls the helpers otherwise.
#[repr(C)]
pub struct AttrCache {
    entries: [Entry; WAYS],
    next: usize,
}

/// Offsets of the first entry's fields in an `AttrCache`, for the inline check.
pub const FIRST_TP: i32 = std::mem::offset_of!(Entry, tp) as i32;
pub const FIRST_VERSION: i32 = std::mem::offset_of!(Entry, version) as i32;
pub const FIRST_KIND: i32 = std::mem::offset_of!(Entry, kind) as i32;
pub const FIRST_INDEX: i32 = std::mem::offset_of!(Entry, index) as i32;
pub const FIRST_DESCR: i32 = std::mem::offset_of!(Entry, descr) as i32;
pub const FIRST_KEYS: i32 = std::mem::offset_of!(Entry, keys) as i32;
pub const FIRST_NENTRIES: i32 = std::mem::offset_of!(Entry, nentries) as i32;
const _: () = assert!(std::mem::offset_of!(AttrCache, entries) == 0);
const _: () = assert!(std::mem::size_of::<Kind>() == 4);

impl AttrCache {
    pub fn new() -> Box<AttrCache> {
        Box::new(AttrCache { entries: [EMPTY; WAYS], next: 0 })
    }

    /// The entry describing `tp` as it is now, if any.
    #[inline(always)]
    unsafe fn lookup(&self, tp: *mut PyTypeObject) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tp == tp && e.kind != Kind::Empty && (*tp).tp_version_tag == e.version)
    }

    /// Remember `entry`, replacing an older entry for its type or the oldest one.
    fn remember(&mut self, entry: Entry) {
        let slot = match self.entries.iter().position(|e| e.tp == entry.tp) {
            Some(i) => i,
            None => {
                let i = self.next;
                self.next = (i + 1) % WAYS;
                i
            }
        };
        self.entries[slot] = entry;
    }
}

#[inline(always)]
unsafe fn flags(tp: *mut PyTypeObject) -> u64 {
    (*tp).tp_flags as u64
}

/// The instance's inline values, if its type has managed dicts and its dict is not
/// materialized; null otherwise.
#[inline(always)]
unsafe fn values_of(owner: *mut PyObject, tp: *mut PyTypeObject) -> *mut *mut PyObject {
    if flags(tp) & cpython::TPFLAGS_MANAGED_DICT == 0 {
        return std::ptr::null_mut();
    }
    cpython::instance_values(owner)
}

/// The shared keys of `tp`'s instances (null if none).
#[inline(always)]
unsafe fn shared_keys(tp: *mut PyTypeObject) -> *const u8 {
    *field::<*const u8>(tp.cast(), cpython::HEAPTYPE_CACHED_KEYS)
}

#[inline(always)]
unsafe fn nentries(keys: *const u8) -> isize {
    *field::<isize>(keys, cpython::DICTKEYS_NENTRIES)
}

/// Where `name` is among split `keys` (its position in instance values), if it is there:
/// found by identity (names are interned), or with `by_value` also by comparing strings (to
/// be sure a name is absent). None also when the keys are not split ones. Keys of split
/// dicts are always str.
unsafe fn shared_key_index(keys: *const u8, name: *mut PyObject, by_value: bool) -> Option<usize> {
    if *keys.add(cpython::DICTKEYS_KIND) != cpython::DICT_KEYS_SPLIT {
        return None;
    }
    let index_bytes = 1usize << *keys.add(cpython::DICTKEYS_LOG2_INDEX_BYTES);
    let entries = keys.add(cpython::DICTKEYS_INDICES + index_bytes);
    let key_at = |i: usize| *(entries.add(i * cpython::DICT_UNICODE_ENTRY_SIZE) as *const *mut PyObject);
    let n = nentries(keys).max(0) as usize;
    if let Some(i) = (0..n).find(|&i| key_at(i) == name) {
        return Some(i);
    }
    if by_value {
        return (0..n).find(|&i| !key_at(i).is_null() && PyUnicode_Compare(key_at(i), name) == 0);
    }
    None
}

/// Can the type side of an attribute lookup on `tp` be cached at all: the generic
/// `__getattribute__` (no `__getattr__`), and a valid version tag.
#[inline(always)]
unsafe fn cacheable(tp: *mut PyTypeObject) -> bool {
    // An extern function's address is its canonical (GOT) one, the same CPython stores.
    (*tp).tp_getattro.map(|f| f as usize) == Some(PyObject_GenericGetAttr as usize) && (*tp).tp_version_tag != 0
}

/// LOAD_ATTR (attribute form): a new reference, or null with an exception set. Borrows
/// `owner`.
pub unsafe extern "C" fn load_attr_cached(owner: *mut PyObject, name: *mut PyObject, cache: *mut AttrCache) -> *mut PyObject {
    let cache = &mut *cache;
    let tp = Py_TYPE(owner);
    let mut known = false;
    if let Some(entry) = cache.lookup(tp) {
        if entry.kind == Kind::InstanceValue {
            if let Some(value) = instance_value(owner, tp, entry.index) {
                return value;
            }
        }
        if entry.kind == Kind::Slot {
            if let Some(value) = slot_value(owner, entry.index) {
                return value;
            }
        }
        known = entry.kind == Kind::Generic;
    }
    let version = (*tp).tp_version_tag;
    let result = PyObject_GetAttr(owner, name);
    if !known && !result.is_null() && (*tp).tp_version_tag == version {
        fill_instance_value(cache, owner, tp, name, result);
    }
    result
}

/// The value of the slot at byte offset `offset` in `owner`, as a new reference, if set.
#[inline(always)]
unsafe fn slot_value(owner: *mut PyObject, offset: usize) -> Option<*mut PyObject> {
    let value = *field::<*mut PyObject>(owner.cast(), offset);
    (!value.is_null()).then(|| Py_NewRef(value))
}

/// The byte offset of the slot `descr` reads, if it is a member descriptor the caches can
/// read or write directly (`Py_T_OBJECT_EX`, no audit event on reads; for `store`, not
/// read-only), as CPython's LOAD_ATTR_SLOT and STORE_ATTR_SLOT specializations require.
unsafe fn member_slot(descr: *mut PyObject, store: bool) -> Option<usize> {
    if descr.is_null() || Py_TYPE(descr) != std::ptr::addr_of_mut!(PyMemberDescr_Type) {
        return None;
    }
    let member = (*(descr as *mut PyMemberDescrObject)).d_member;
    let forbidden = if store { Py_READONLY | Py_AUDIT_READ } else { Py_AUDIT_READ };
    ((*member).type_code == Py_T_OBJECT_EX && (*member).flags & forbidden == 0 && (*member).offset > 0)
        .then_some((*member).offset as usize)
}

/// `values[index]` of `owner`'s inline values, as a new reference, if it is there.
#[inline(always)]
unsafe fn instance_value(owner: *mut PyObject, tp: *mut PyTypeObject, index: usize) -> Option<*mut PyObject> {
    let values = values_of(owner, tp);
    if values.is_null() {
        return None;
    }
    let value = *values.add(index);
    (!value.is_null()).then(|| Py_NewRef(value))
}

/// Remember that `name` on `owner` was `result`, read from its inline values, if that is how
/// the generic lookup found it: no attribute of that name on the type at all.
unsafe fn fill_instance_value(cache: &mut AttrCache, owner: *mut PyObject, tp: *mut PyTypeObject, name: *mut PyObject, result: *mut PyObject) {
    if !cacheable(tp) {
        return;
    }
    let version = (*tp).tp_version_tag;
    let descr = _PyType_Lookup(tp, name);
    if let Some(offset) = member_slot(descr, false) {
        if *field::<*mut PyObject>(owner.cast(), offset) == result {
            cache.remember(Entry { tp, version, kind: Kind::Slot, index: offset, ..EMPTY });
            return;
        }
    }
    if descr.is_null() {
        let values = values_of(owner, tp);
        let keys = shared_keys(tp);
        if !values.is_null() && !keys.is_null() {
            if let Some(index) = shared_key_index(keys, name, false) {
                if *values.add(index) == result {
                    cache.remember(Entry { tp, version, kind: Kind::InstanceValue, index, ..EMPTY });
                    return;
                }
            }
        }
        // In a materialized dict, say: another instance of the type may have values.
        return;
    }
    // A class attribute or descriptor: nothing to cache while the type stays as it is.
    cache.remember(Entry { tp, version, kind: Kind::Generic, ..EMPTY });
}

/// LOAD_ATTR in method form (LOAD_METHOD on 3.11), as `runtime::load_method`: `slots[0]`
/// holds the owner (consumed); on success `slots[0..2]` become `[method, owner]` or
/// `[NULL, attribute]`. Returns 0, or -1 with an exception set.
pub unsafe extern "C" fn load_method_cached(slots: *mut *mut PyObject, name: *mut PyObject, cache: *mut AttrCache) -> i64 {
    let cache = &mut *cache;
    let owner = *slots;
    let tp = Py_TYPE(owner);
    let mut known = false;
    if let Some(entry) = cache.lookup(tp) {
        known = entry.kind == Kind::Generic;
        match entry.kind {
            Kind::MethodNoDict => return push_method(slots, entry.descr, owner),
            Kind::MethodWithValues => {
                let keys = shared_keys(tp);
                if !values_of(owner, tp).is_null() && keys == entry.keys && nentries(keys) == entry.nentries {
                    return push_method(slots, entry.descr, owner);
                }
            }
            Kind::InstanceValue | Kind::Slot => {
                let value = if entry.kind == Kind::Slot {
                    slot_value(owner, entry.index)
                } else {
                    instance_value(owner, tp, entry.index)
                };
                if let Some(value) = value {
                    *slots = std::ptr::null_mut();
                    *slots.add(1) = value;
                    Py_DECREF(owner);
                    return 0;
                }
            }
            Kind::Empty | Kind::Generic => {}
        }
    }
    // The generic path consumes the owner: keep it alive to fill the cache afterwards.
    Py_INCREF(owner);
    let version = (*tp).tp_version_tag;
    let status = load_method(slots, name);
    if !known && status == 0 && (*tp).tp_version_tag == version {
        if !(*slots).is_null() {
            fill_method(cache, owner, tp, name, *slots);
        } else {
            fill_instance_value(cache, owner, tp, name, *slots.add(1));
        }
    }
    Py_DECREF(owner);
    status
}

#[inline(always)]
unsafe fn push_method(slots: *mut *mut PyObject, descr: *mut PyObject, owner: *mut PyObject) -> i64 {
    *slots = Py_NewRef(descr);
    *slots.add(1) = owner;
    0
}

/// Remember the method `descr` found on `tp` for `name`, if no instance of `tp` can shadow it
/// without the cache noticing.
unsafe fn fill_method(cache: &mut AttrCache, owner: *mut PyObject, tp: *mut PyTypeObject, name: *mut PyObject, descr: *mut PyObject) {
    if !cacheable(tp) || _PyType_Lookup(tp, name) != descr {
        return;
    }
    let version = (*tp).tp_version_tag;
    if (*tp).tp_dictoffset == 0 && flags(tp) & cpython::TPFLAGS_MANAGED_DICT == 0 {
        cache.remember(Entry { tp, version, kind: Kind::MethodNoDict, descr, ..EMPTY });
        return;
    }
    let keys = shared_keys(tp);
    if values_of(owner, tp).is_null() {
        return; // this instance's dict is materialized; others may have values
    }
    if keys.is_null()
        || *keys.add(cpython::DICTKEYS_KIND) != cpython::DICT_KEYS_SPLIT
        || shared_key_index(keys, name, true).is_some()
    {
        cache.remember(Entry { tp, version, kind: Kind::Generic, ..EMPTY });
        return;
    }
    cache.remember(Entry { tp, version, kind: Kind::MethodWithValues, descr, keys, nentries: nentries(keys), ..EMPTY });
}

/// One STORE_ATTR site's cache: one type, and how a store of the site's name into its
/// instances goes when it only replaces a value (an instance value that is there, or a
/// slot): written in place, the old value released, as the generic store does it. Tier-1
/// code checks it inline; `store_attr_cached` fills it.
#[repr(C)]
pub struct StoreAttrCache {
    tp: *mut PyTypeObject,
    version: u32,
    kind: Kind,
    /// The instance-values index (`InstanceValue`) or the slot's byte offset (`Slot`).
    index: usize,
}

/// Offsets of `StoreAttrCache`'s fields, for the inline check.
pub const STORE_TP: i32 = std::mem::offset_of!(StoreAttrCache, tp) as i32;
pub const STORE_VERSION: i32 = std::mem::offset_of!(StoreAttrCache, version) as i32;
pub const STORE_KIND: i32 = std::mem::offset_of!(StoreAttrCache, kind) as i32;
pub const STORE_INDEX: i32 = std::mem::offset_of!(StoreAttrCache, index) as i32;

impl StoreAttrCache {
    pub fn new() -> Box<StoreAttrCache> {
        Box::new(StoreAttrCache { tp: std::ptr::null_mut(), version: 0, kind: Kind::Empty, index: 0 })
    }
}

/// Can a store into `tp`'s instances be cached: the generic `__setattr__`, a valid version.
#[inline(always)]
unsafe fn store_cacheable(tp: *mut PyTypeObject) -> bool {
    (*tp).tp_setattro.map(|f| f as usize) == Some(PyObject_GenericSetAttr as usize) && (*tp).tp_version_tag != 0
}

/// STORE_ATTR (`owner.name = value`): 0, or -1 with an exception set. Borrows its operands.
/// A replacement the cache describes is done in place; anything else is `PyObject_SetAttr`,
/// after which the cache is filled if the store was such a replacement.
pub unsafe extern "C" fn store_attr_cached(owner: *mut PyObject, name: *mut PyObject, value: *mut PyObject, cache: *mut StoreAttrCache) -> i64 {
    let cache = &mut *cache;
    let tp = Py_TYPE(owner);
    if cache.tp == tp && cache.kind != Kind::Empty && (*tp).tp_version_tag == cache.version {
        let place = match cache.kind {
            Kind::InstanceValue => {
                let values = values_of(owner, tp);
                if values.is_null() { std::ptr::null_mut() } else { values.add(cache.index) }
            }
            Kind::Slot => field::<*mut PyObject>(owner.cast(), cache.index),
            _ => std::ptr::null_mut(),
        };
        if !place.is_null() && !(*place).is_null() {
            let old = *place;
            *place = Py_NewRef(value);
            Py_DECREF(old);
            return 0;
        }
    }
    let version = (*tp).tp_version_tag;
    // Where the value would go, if the store is a plain replacement (before the store: a
    // new instance value is not one).
    let place = store_place(owner, tp, name);
    let status = PyObject_SetAttr(owner, name, value) as i64;
    if status == 0 && (*tp).tp_version_tag == version && Py_TYPE(owner) == tp {
        if let Some((kind, index)) = place {
            *cache = StoreAttrCache { tp, version, kind, index };
        }
    }
    status
}

/// How a store of `name` into `owner` replaces a value, if it does so in a way the cache can
/// repeat: a slot (a writable `Py_T_OBJECT_EX` member descriptor), or an instance value that
/// is already there (no descriptor or class attribute of that name at all).
unsafe fn store_place(owner: *mut PyObject, tp: *mut PyTypeObject, name: *mut PyObject) -> Option<(Kind, usize)> {
    if !store_cacheable(tp) {
        return None;
    }
    let descr = _PyType_Lookup(tp, name);
    if !descr.is_null() {
        return member_slot(descr, true).map(|offset| (Kind::Slot, offset));
    }
    let values = values_of(owner, tp);
    let keys = shared_keys(tp);
    if values.is_null() || keys.is_null() {
        return None;
    }
    let index = shared_key_index(keys, name, false)?;
    (!(*values.add(index)).is_null()).then_some((Kind::InstanceValue, index))
}

/*
 * The interface of the layout shim (src/cpython/layout_shim.c): what the interpreter's own
 * internal headers say about the structs autojit reads. Mirrored in Rust by
 * src/cpython/layout.rs.
 */
#ifndef AUTOJIT_LAYOUT_H
#define AUTOJIT_LAYOUT_H

typedef struct {
    const char *name;  /* "struct.field", "sizeof struct" or a constant's name; NULL ends */
    long long value;
} autojit_layout_entry;

/* The table of offsets, sizes and constants, terminated by an entry whose name is NULL. */
const autojit_layout_entry *autojit_layout_table(void);

/* PY_VERSION_HEX of the headers the shim was compiled against. */
long autojit_layout_hexversion(void);

#endif

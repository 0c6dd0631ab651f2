/*
 * wflink.h: helpers for wflink jobs written in C, on top of the bindings
 * `wit-bindgen c` generates from wflink's WIT (`stream_job.h`).
 *
 * - wf_buf: a growable byte buffer (malloc'd, so it can be handed to the
 *   host as a `list<u8>`, which the generated code frees after the call);
 *   wf_ends: a growable list of u32 end offsets.
 * - MessagePack: the encoding of every value, key and state. Write with
 *   wf_mp_*; read with wf_mp_read_*, which return false on malformed or
 *   unexpected input. Integers use the shortest encoding, as the Rust SDK
 *   (rmp-serde) writes them, so equal keys encode equally in every language.
 *
 * Header-only: include it in one or more .c files of the job.
 */
#ifndef WFLINK_H
#define WFLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A growable byte buffer. */
typedef struct {
    uint8_t *ptr;
    size_t len;
    size_t cap;
} wf_buf;

/* A growable list of u32 end offsets. */
typedef struct {
    uint32_t *ptr;
    size_t len;
    size_t cap;
} wf_ends;

static inline void wf_buf_reserve(wf_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *grown = (uint8_t *)realloc(b->ptr, cap);
    if (!grown) abort(); /* out of memory: trap, the host reports it */
    b->ptr = grown;
    b->cap = cap;
}

static inline void wf_buf_append(wf_buf *b, const void *data, size_t len) {
    wf_buf_reserve(b, len);
    memcpy(b->ptr + b->len, data, len);
    b->len += len;
}

static inline void wf_buf_byte(wf_buf *b, uint8_t byte) {
    wf_buf_reserve(b, 1);
    b->ptr[b->len++] = byte;
}

static inline void wf_ends_push(wf_ends *e, uint32_t end) {
    if (e->len == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        uint32_t *grown = (uint32_t *)realloc(e->ptr, cap * sizeof(uint32_t));
        if (!grown) abort();
        e->ptr = grown;
        e->cap = cap;
    }
    e->ptr[e->len++] = end;
}

/* ---- MessagePack: writing ---- */

static inline void wf_be(wf_buf *b, uint64_t v, int bytes) {
    wf_buf_reserve(b, (size_t)bytes);
    for (int i = bytes - 1; i >= 0; i--) b->ptr[b->len++] = (uint8_t)(v >> (8 * i));
}

/* A string of `len` bytes (UTF-8). */
static inline void wf_mp_str(wf_buf *b, const char *s, size_t len) {
    if (len < 32) {
        wf_buf_byte(b, (uint8_t)(0xa0 | len));
    } else if (len < 0x100) {
        wf_buf_byte(b, 0xd9);
        wf_be(b, len, 1);
    } else if (len < 0x10000) {
        wf_buf_byte(b, 0xda);
        wf_be(b, len, 2);
    } else {
        wf_buf_byte(b, 0xdb);
        wf_be(b, len, 4);
    }
    wf_buf_append(b, s, len);
}

/* A signed integer, in the shortest encoding. */
static inline void wf_mp_int(wf_buf *b, int64_t n) {
    if (n >= 0) {
        uint64_t u = (uint64_t)n;
        if (u < 0x80) wf_buf_byte(b, (uint8_t)u);
        else if (u < 0x100) { wf_buf_byte(b, 0xcc); wf_be(b, u, 1); }
        else if (u < 0x10000) { wf_buf_byte(b, 0xcd); wf_be(b, u, 2); }
        else if (u < 0x100000000ull) { wf_buf_byte(b, 0xce); wf_be(b, u, 4); }
        else { wf_buf_byte(b, 0xcf); wf_be(b, u, 8); }
    } else if (n >= -32) {
        wf_buf_byte(b, (uint8_t)(n & 0xff));
    } else if (n >= -0x80) { wf_buf_byte(b, 0xd0); wf_be(b, (uint64_t)n, 1); }
    else if (n >= -0x8000) { wf_buf_byte(b, 0xd1); wf_be(b, (uint64_t)n, 2); }
    else if (n >= -0x80000000ll) { wf_buf_byte(b, 0xd2); wf_be(b, (uint64_t)n, 4); }
    else { wf_buf_byte(b, 0xd3); wf_be(b, (uint64_t)n, 8); }
}

/* The header of an array of `n` items (tuples and structs are arrays). */
static inline void wf_mp_array(wf_buf *b, uint32_t n) {
    if (n < 16) wf_buf_byte(b, (uint8_t)(0x90 | n));
    else if (n < 0x10000) { wf_buf_byte(b, 0xdc); wf_be(b, n, 2); }
    else { wf_buf_byte(b, 0xdd); wf_be(b, n, 4); }
}

/* ---- MessagePack: reading ---- */

/* A read position in a MessagePack value. */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} wf_reader;

static inline uint64_t wf_read_be(wf_reader *r, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | r->p[i];
    r->p += bytes;
    return v;
}

/* Reads a string; `*s` points into the input (not NUL-terminated). */
static inline bool wf_mp_read_str(wf_reader *r, const char **s, size_t *len) {
    if (r->p >= r->end) return false;
    uint8_t t = *r->p++;
    size_t n;
    if (t >= 0xa0 && t <= 0xbf) n = t & 0x1f;
    else {
        int size = t == 0xd9 ? 1 : t == 0xda ? 2 : t == 0xdb ? 4 : 0;
        if (!size || r->end - r->p < size) return false;
        n = (size_t)wf_read_be(r, size);
    }
    if ((size_t)(r->end - r->p) < n) return false;
    *s = (const char *)r->p;
    *len = n;
    r->p += n;
    return true;
}

/* Reads an integer of any MessagePack integer format that fits in int64. */
static inline bool wf_mp_read_int(wf_reader *r, int64_t *out) {
    if (r->p >= r->end) return false;
    uint8_t t = *r->p++;
    if (t < 0x80) { *out = t; return true; }
    if (t >= 0xe0) { *out = (int8_t)t; return true; }
    int size = 0;
    bool is_signed = false;
    switch (t) {
    case 0xcc: size = 1; break;
    case 0xcd: size = 2; break;
    case 0xce: size = 4; break;
    case 0xcf: size = 8; break;
    case 0xd0: size = 1; is_signed = true; break;
    case 0xd1: size = 2; is_signed = true; break;
    case 0xd2: size = 4; is_signed = true; break;
    case 0xd3: size = 8; is_signed = true; break;
    default: return false;
    }
    if (r->end - r->p < size) return false;
    uint64_t v = wf_read_be(r, size);
    if (is_signed && size < 8) {
        uint64_t sign = 1ull << (8 * size - 1);
        v = (v ^ sign) - sign; /* sign-extend */
    } else if (!is_signed && v > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* Reads an array header. */
static inline bool wf_mp_read_array(wf_reader *r, uint32_t *n) {
    if (r->p >= r->end) return false;
    uint8_t t = *r->p++;
    if (t >= 0x90 && t <= 0x9f) { *n = t & 0x0f; return true; }
    if (t == 0xdc && r->end - r->p >= 2) { *n = (uint32_t)wf_read_be(r, 2); return true; }
    if (t == 0xdd && r->end - r->p >= 4) { *n = (uint32_t)wf_read_be(r, 4); return true; }
    return false;
}

#endif /* WFLINK_H */

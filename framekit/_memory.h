/* framekit/_memory.h: the compiled core's big blocks (a slab's records, index()'s positions) and
 * the bytes of one record field. Plain C, no CPython internals (those are in _compat.h).
 *
 * A big block is asked of the system zeroed (calloc: pages the system maps fresh are zero
 * already, so an untouched slab costs no time) and, where the system has transparent huge pages
 * (Linux's MADV_HUGEPAGE), in 2 MiB pages: writing 50 MiB into fresh memory then takes 25 page
 * faults instead of 13 000, which on a virtual machine is most of the cost. numpy does the same
 * for its arrays. Elsewhere the advice is left out and the memory is ordinary.
 */
#ifndef FRAMEKIT_MEMORY_H
#define FRAMEKIT_MEMORY_H

#include <Python.h>
#include <stdint.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define FRAMEKIT_HUGE_PAGE ((uintptr_t)2 << 20)

/* Advise huge pages for the whole 2 MiB pages inside [p, p + size), for blocks of 4 MiB up. */
static inline void framekit_advise_huge(void *p, size_t size) {
#if defined(MADV_HUGEPAGE)
    uintptr_t start = ((uintptr_t)p + FRAMEKIT_HUGE_PAGE - 1) & ~(FRAMEKIT_HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~(FRAMEKIT_HUGE_PAGE - 1);
    if (size >= 2 * FRAMEKIT_HUGE_PAGE && end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);  /* advice: failure is fine */
#else
    (void)p; (void)size;
#endif
}

/* ``size`` zeroed bytes (at least one), or NULL. Free with PyMem_RawFree. */
static inline char *framekit_zeroed(size_t size) {
    char *p = (char *)PyMem_RawCalloc(size ? size : 1, 1);
    if (p != NULL) framekit_advise_huge(p, size);
    return p;
}

/* ``p`` (from framekit_zeroed or this) resized to ``size`` bytes, contents kept up to the smaller
 * size, the rest not initialised; NULL (``p`` untouched) on failure. Large blocks grow by
 * remapping their pages, not copying them. */
static inline char *framekit_resized(char *p, size_t size) {
    char *q = (char *)PyMem_RawRealloc(p, size ? size : 1);
    if (q != NULL) framekit_advise_huge(q, size);
    return q;
}

/* Receive storage: decoder blocks and pool buffers. Those of FRAMEKIT_MAPPED_MIN bytes and up are
 * mapped straight from the system and unmapped when freed. The C heap keeps freed blocks of this
 * size for good when anything allocated later sits above them, so a burst on many connections
 * would leave its memory in the process long after every decoder gave its storage back; asyncio
 * avoids the same through its 256 KiB reads, which the C library maps. tracemalloc sees these
 * blocks as it sees PyMem's (the tests that bound memory count them). */
#define FRAMEKIT_MAPPED_MIN ((size_t)64 << 10)

static inline int framekit_mapped(size_t size) {
#if defined(MAP_ANONYMOUS)
    return size >= FRAMEKIT_MAPPED_MIN;
#else
    (void)size;
    return 0;
#endif
}

/* ``size`` bytes (at least one), not initialised, or NULL. */
static inline char *framekit_storage(size_t size) {
#if defined(MAP_ANONYMOUS)
    if (framekit_mapped(size)) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return NULL;
        (void)PyTraceMalloc_Track(0, (uintptr_t)p, size);
        return (char *)p;
    }
#endif
    return (char *)PyMem_Malloc(size ? size : 1);
}

/* Free what framekit_storage(size) gave. */
static inline void framekit_storage_free(char *p, size_t size) {
#if defined(MAP_ANONYMOUS)
    if (framekit_mapped(size)) {
        (void)PyTraceMalloc_Untrack(0, (uintptr_t)p);
        (void)munmap(p, size);
        return;
    }
#endif
    PyMem_Free(p);
}

/* framekit_storage(old) resized to ``size``, its first bytes kept; NULL (``p`` untouched) on
 * failure. */
static inline char *framekit_storage_resized(char *p, size_t old, size_t size) {
    char *q;
    if (!framekit_mapped(old) && !framekit_mapped(size))
        return (char *)PyMem_Realloc(p, size ? size : 1);
    q = framekit_storage(size);
    if (q == NULL) return NULL;
    memcpy(q, p, old < size ? old : size);
    framekit_storage_free(p, old);
    return q;
}

/* An int's value as 64 unsigned bits: (uint64_t)-1 with an exception set if it is negative or too
 * large. (PyLong_AsUnsignedLongLong goes through _PyLong_AsByteArray before 3.12: 5x slower.) */
static inline uint64_t framekit_as_u64(PyObject *o) {
#if SIZEOF_LONG >= 8
    return (uint64_t)PyLong_AsUnsignedLong(o);
#else
    return (uint64_t)PyLong_AsUnsignedLongLong(o);
#endif
}

/* A hint that the byte at ``p`` will be read soon: its cache line is fetched meanwhile. Never
 * faults, whatever ``p`` is; a no-op where the compiler has no such hint. The address goes
 * through a volatile: gcc 12 otherwise drops the hint, and the reads that computed it, once the
 * caller is inlined (a hint has no effect it must keep). */
static inline void framekit_prefetch(const void *p) {
#if defined(__GNUC__) || defined(__clang__)
    const void *volatile at = p;
    __builtin_prefetch(at);
#else
    (void)p;
#endif
}

#if defined(__GNUC__) || defined(__clang__)
#define framekit_bswap16 __builtin_bswap16
#define framekit_bswap32 __builtin_bswap32
#define framekit_bswap64 __builtin_bswap64
#elif defined(_MSC_VER)
#include <stdlib.h>
#define framekit_bswap16 _byteswap_ushort
#define framekit_bswap32 _byteswap_ulong
#define framekit_bswap64 _byteswap_uint64
#else
static inline uint16_t framekit_bswap16(uint16_t v) { return (uint16_t)((v << 8) | (v >> 8)); }
static inline uint32_t framekit_bswap32(uint32_t v) {
    return ((uint32_t)framekit_bswap16((uint16_t)v) << 16) | framekit_bswap16((uint16_t)(v >> 16));
}
static inline uint64_t framekit_bswap64(uint64_t v) {
    return ((uint64_t)framekit_bswap32((uint32_t)v) << 32) | framekit_bswap32((uint32_t)(v >> 32));
}
#endif

/* Store the low ``width`` (1, 2, 4 or 8) bytes of ``bits`` at ``at``: in the host's byte order,
 * or in the other one when ``swap``. Returns 0 for any other width (nothing written). */
static inline int framekit_put(char *at, uint64_t bits, Py_ssize_t width, int swap) {
    switch (width) {
    case 1: { uint8_t v = (uint8_t)bits; memcpy(at, &v, 1); return 1; }
    case 2: { uint16_t v = (uint16_t)bits; if (swap) v = framekit_bswap16(v); memcpy(at, &v, 2); return 1; }
    case 4: { uint32_t v = (uint32_t)bits; if (swap) v = framekit_bswap32(v); memcpy(at, &v, 4); return 1; }
    case 8: { uint64_t v = bits; if (swap) v = framekit_bswap64(v); memcpy(at, &v, 8); return 1; }
    default: return 0;
    }
}

/* Slab.extend(data, positions=...) into fresh slots: copy the ``count`` frames that ``pairs``
 * (start, end) locate in ``src`` (``len`` bytes) to consecutive records of ``size`` bytes at
 * ``dst``, and write their handles, ``first`` + i. Stops at the first pair that is out of
 * bounds or not ``size`` long and returns its index; ``count`` when all went in. The loop is
 * repeated for the common record sizes, so that each copy is a move, not a call. */
#define FRAMEKIT_GATHER_LOOP(SIZE)                                                            \
    for (; i < count; i++) {                                                              \
        int64_t start = pairs[2 * i], end = pairs[2 * i + 1];                             \
        if (start < 0 || start > end || end > len || end - start != (SIZE)) return i;     \
        memcpy(dst + i * (SIZE), src + start, (SIZE));                                    \
        handles[i] = first + (uint64_t)i;                                                 \
    }                                                                                     \
    return count;
static inline Py_ssize_t framekit_gather(char *dst, const char *src, Py_ssize_t len,
                                         const int64_t *pairs, Py_ssize_t count,
                                         Py_ssize_t size, uint64_t *handles, uint64_t first) {
    Py_ssize_t i = 0;
    switch (size) {
    case 4: FRAMEKIT_GATHER_LOOP(4)
    case 8: FRAMEKIT_GATHER_LOOP(8)
    case 16: FRAMEKIT_GATHER_LOOP(16)
    case 24: FRAMEKIT_GATHER_LOOP(24)
    case 32: FRAMEKIT_GATHER_LOOP(32)
    case 64: FRAMEKIT_GATHER_LOOP(64)
    default: FRAMEKIT_GATHER_LOOP(size)
    }
}

#endif /* FRAMEKIT_MEMORY_H */

/* framekit/_compat.h: every use the compiled core makes of CPython's internals, each behind a
 * switch of its own, chosen by what it needs rather than by a list of good versions wherever the
 * headers offer something to test. Read against the headers of CPython 3.9 to 3.15 (3.14 and
 * 3.15 as published in CPython's repository; no such interpreter has run this code yet).
 *
 *   FRAMEKIT_REPOINT_VIEWS  a frame is cut by re-pointing a fresh memoryview of its base
 *                           (PyMemoryViewObject.view.buf/len/shape[0], .hash), and a dropped one
 *                           is re-pointed again for the next frame. Needs the memoryview layout
 *                           of cpython/memoryobject.h, whose flag macros it tests for.
 *   FRAMEKIT_REUSE_FRAMES   a frame this decoder alone still references is re-pointed and
 *                           returned again (as zip() reuses its tuple). Needs "reference count 1
 *                           means nobody else": true with the GIL; free-threaded builds share
 *                           references between threads, so it is off where Py_GIL_DISABLED is.
 *   FRAMEKIT_REUSE_BYTES    the same for copy=True frames: a dropped bytes object of the right
 *                           size is overwritten in place and its cached hash (ob_shash) reset.
 *                           A struct field cannot be tested by the preprocessor: every header
 *                           read (up to 3.15) has ob_shash, later ones are not trusted.
 *
 *   FRAMEKIT_COMPACT_INTS   an int below 2**30 in magnitude is read without a call: through
 *                           PyUnstable_Long_IsCompact/CompactValue from 3.12 (public, unstable),
 *                           through ob_size and ob_digit[0] (longintrepr.h) before it.
 *
 * The core needs a 64-bit Py_ssize_t (lengths above 2**62 mark its special results); 32-bit
 * platforms use the pure-Python build, which setup.py installs there without compiling this.
 * Free-threaded CPython: the core is not built there (setup.py), see docs/guarantees.md.
 */
#ifndef FRAMEKIT_COMPAT_H
#define FRAMEKIT_COMPAT_H

#include <Python.h>

#if SIZEOF_SIZE_T < 8  /* (PY_SSIZE_T_MAX is a cast before 3.10: not for the preprocessor) */
#error "framekit's compiled core needs a 64-bit Py_ssize_t. On this platform install framekit without it: its pure-Python build has the same API (setup.py skips the extension on 32-bit platforms; or set FRAMEKIT_PURE=1)."
#endif

#ifdef Py_GIL_DISABLED
#error "framekit's compiled core does not support free-threaded CPython: its pools and frame reuse rely on the GIL. setup.py installs the pure-Python build there (see docs/guarantees.md)."
#endif

/* The memoryview layout: these flags and the struct beside them live in the same header. */
#if defined(_Py_MEMORYVIEW_RELEASED) && defined(_Py_MANAGED_BUFFER_RELEASED)
#define FRAMEKIT_REPOINT_VIEWS 1
#else
#error "framekit: this CPython's memoryview layout is unknown (no _Py_MEMORYVIEW_RELEASED)"
#endif

#ifndef Py_GIL_DISABLED
#define FRAMEKIT_REUSE_FRAMES 1
#else
#define FRAMEKIT_REUSE_FRAMES 0
#endif

#if FRAMEKIT_REUSE_FRAMES && PY_VERSION_HEX < 0x03100000
#define FRAMEKIT_REUSE_BYTES 1
#else
#define FRAMEKIT_REUSE_BYTES 0
#endif

/* Whether ``o`` is referenced once, by its caller alone. 3.14.0b1 added the function that says so on
 * every build (a reference count of 1 is not enough on free-threaded ones); before it, with the
 * GIL, the count is the answer. There is no macro to test for a function, hence the version. */
static inline int framekit_unique(PyObject *o) {
#if PY_VERSION_HEX >= 0x030E00B1
    return PyUnstable_Object_IsUniquelyReferenced(o);
#else
    return Py_REFCNT(o) == 1;
#endif
}

/* A memoryview we cut earlier that nobody else holds, unreleased, unexported and without weak
 * references, sharing ``base``'s managed buffer (``base``: a memoryview the decoder made of its
 * storage): re-pointing it cannot be observed through the object (its id() and gc referents
 * aside, see docs/concepts.md). PyMemoryView_Check comes first: ``frame`` may be anything the
 * decoder kept (a bytes frame of copy=True), and only a memoryview has these fields. */
static inline int framekit_view_reusable(PyObject *frame, PyObject *base) {
#if FRAMEKIT_REUSE_FRAMES
    PyMemoryViewObject *mv;
    if (!PyMemoryView_Check(frame)) return 0;
    mv = (PyMemoryViewObject *)frame;
    return framekit_unique(frame)
        && mv->mbuf == ((PyMemoryViewObject *)base)->mbuf
        && !(mv->flags & _Py_MEMORYVIEW_RELEASED)
        && mv->exports == 0
        && mv->weakreflist == NULL;
#else
    (void)frame; (void)base;
    return 0;
#endif
}

/* Point the memoryview ``o`` (one we created, 1-D bytes) at ``length`` bytes at ``start``. */
static inline void framekit_point(PyObject *o, const char *start, Py_ssize_t length) {
    PyMemoryViewObject *mv = (PyMemoryViewObject *)o;
    mv->view.buf = (void *)start;
    mv->view.len = length;
    mv->view.shape[0] = length;
    mv->hash = -1;
}

/* Whether memoryviews other than ``view`` share its managed buffer (slices or casts of it). */
static inline int framekit_view_shared(PyObject *view) {
    if (!PyMemoryView_Check(view)) return 0;
    return ((PyMemoryViewObject *)view)->mbuf->exports > 1;
}

/* Whether a managed buffer (any memoryview made from ``base``, ``base`` included) is alive. */
static inline Py_ssize_t framekit_mbuf_refs(PyObject *view) {
    return Py_REFCNT((PyObject *)((PyMemoryViewObject *)view)->mbuf);
}

/* A dropped bytes object of ``length`` > 1 bytes that nobody else holds, to overwrite in place
 * (empty and 1-byte bytes may be shared singletons). */
static inline int framekit_bytes_reusable(PyObject *o, Py_ssize_t length) {
#if FRAMEKIT_REUSE_BYTES
    return length > 1 && PyBytes_CheckExact(o) && framekit_unique(o) && Py_SIZE(o) == length;
#else
    (void)o; (void)length;
    return 0;
#endif
}

static inline void framekit_forget_hash(PyObject *o) {
#if FRAMEKIT_REUSE_BYTES
    _Py_COMP_DIAG_PUSH
    _Py_COMP_DIAG_IGNORE_DEPR_DECLS
    ((PyBytesObject *)o)->ob_shash = -1;
    _Py_COMP_DIAG_POP
#else
    (void)o;
#endif
}

/* Whether ``o``, an exact int, is compact (one digit: below 2**30 in magnitude); if so its value
 * is put in ``value``. */
#if PY_VERSION_HEX < 0x030B0000
#include <longintrepr.h>  /* (Python.h includes it itself from 3.11) */
#endif
#define FRAMEKIT_COMPACT_INTS 1
static inline int framekit_compact_int(PyObject *o, long long *value) {
#if PY_VERSION_HEX >= 0x030C0000
    if (!PyUnstable_Long_IsCompact((PyLongObject *)o)) return 0;
    *value = (long long)PyUnstable_Long_CompactValue((PyLongObject *)o);
    return 1;
#else
    Py_ssize_t size = Py_SIZE(o);
    if (size < -1 || size > 1) return 0;
    *value = (long long)size * (long long)((PyLongObject *)o)->ob_digit[0];
    return 1;
#endif
}

#endif /* FRAMEKIT_COMPAT_H */

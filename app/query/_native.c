/* The rule index's hot loops in C: app.query.index, app.query.prepared and app.query.tokens fall
 * back on the same code in Python when this module is not built (or REPOSTER_PURE_PYTHON is set,
 * see app.query.native), and the tests compare the two on the same cases.
 *
 * Here: the tokenizer (tokenize, set_folds, cjk_pairs), a post's keys (post_keys,
 * set_key_context), the table of keys (KeyIndex), the packed views (Packed, pack) and the
 * per-post walk (match).
 *
 * The index files rules under keys. What one key holds is published as a *view* that Python
 * builds and replaces, never changes; here a view is a Packed object made by pack(exact, checks):
 *   exact:  the ids of the rules the key alone settles,
 *   checks: groups of rules with one test: keys the post must have and must not have, phrases
 *           it must and must not hold, ORs of keys of which it must have one, a range of
 *           follower counts, and `rest(prepared_post)` for anything else (or None),
 * all in one block of memory. With 100,000 rules the index is hundreds of MiB, and reading a
 * check out of four scattered tuples and strings costs a cache miss each; a packed view is read
 * in a line or two, and keys are compared by their hash against a small table of the post's
 * keys built once per post (the key strings themselves are read only when the hashes agree).
 * Only public C API calls; the GIL is held throughout. Any call into Python (a `rest` callback, a
 * helper of post_keys, __index__ or __eq__ of an argument) may change or free what was read
 * through a borrowed reference: across such calls the code holds strong references (a view while
 * it is read, the post's keys in match, the context's memo and helper in post_keys). Packed and
 * KeyIndex own arbitrary objects, so they take part in the cyclic GC. docs/native.md: how the
 * tests check all this (ASan/UBSan build, fuzz against Python, leak check).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <structmember.h>

/* a == b for two objects of which at least one is an exact str: by length, kind and bytes for
 * two exact str (what str.__eq__ does), else by rich comparison. 1, 0, or -1 on error. */
static inline int
same_str(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(a);
        int kind = PyUnicode_KIND(a);
        return n == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b)
            && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * (size_t)kind) == 0;
    }
    return PyObject_RichCompareBool(a, b, Py_EQ);
}

/* ---- packed views --------------------------------------------------------------------- */

typedef struct {
    uint32_t need, n_need;   /* slice of hashes[] / keys[] */
    uint32_t avoid, n_avoid; /* slice of hashes[] / keys[] */
    uint32_t ids, n_ids;     /* slice of ids[] */
    int64_t low, high;       /* followers range; -1: no bound (low -1: no range at all) */
    PyObject *phrases;       /* tuple of tuples of str that must all occur, or NULL */
    PyObject *absent;        /* tuple of tuples of str none of which may occur, or NULL */
    PyObject *any_of;        /* tuple of frozensets of str keys, one of each to be had, or NULL */
    PyObject *rest;          /* strong reference, or NULL */
} PackedCheck;

typedef struct {
    PyObject_VAR_HEAD        /* ob_size: bytes of data after the struct */
    Py_ssize_t n_exact, n_checks, n_keys, n_ids;
    int64_t *exact;
    PackedCheck *checks;
    Py_hash_t *hashes;
    int64_t *ids;
    PyObject **keys;         /* strong references, for equality when hashes agree */
    PyObject *state;         /* the writer's own data (app.query.index), never read here */
} Packed;

static PyTypeObject PackedType;

/* A view owns `rest` callables and the writer's `state`, either of which may lead back to the
 * index that holds the view: so views take part in the cyclic GC. Keys are exact str (no
 * cycles through them), so neither traverse nor clear needs them. */
static int
packed_traverse(Packed *self, visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < self->n_checks; i++) {
        Py_VISIT(self->checks[i].rest);
        Py_VISIT(self->checks[i].phrases);
        Py_VISIT(self->checks[i].absent);
        Py_VISIT(self->checks[i].any_of);
    }
    Py_VISIT(self->state);
    return 0;
}

static int
packed_clear(Packed *self)
{
    for (Py_ssize_t i = 0; i < self->n_checks; i++) {
        Py_CLEAR(self->checks[i].rest);
        Py_CLEAR(self->checks[i].phrases);
        Py_CLEAR(self->checks[i].absent);
        Py_CLEAR(self->checks[i].any_of);
    }
    Py_CLEAR(self->state);
    return 0;
}

static void
packed_dealloc(Packed *self)
{
    PyObject_GC_UnTrack(self);
    packed_clear(self);
    for (Py_ssize_t i = 0; i < self->n_keys; i++)
        Py_CLEAR(self->keys[i]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
packed_sizeof(Packed *self, PyObject *unused)
{
    return PyLong_FromSsize_t((Py_ssize_t)sizeof(Packed) + Py_SIZE(self));
}

static PyMethodDef packed_methods[] = {
    {"__sizeof__", (PyCFunction)packed_sizeof, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef packed_members[] = {
    {"state", T_OBJECT, offsetof(Packed, state), READONLY, "what pack() was given as `state`"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject PackedType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "app.query._native.Packed",
    .tp_doc = "One key's rules packed by pack(); read by match().",
    .tp_basicsize = sizeof(Packed),
    .tp_itemsize = 1,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)packed_dealloc,
    .tp_traverse = (traverseproc)packed_traverse,
    .tp_clear = (inquiry)packed_clear,
    .tp_methods = packed_methods,
    .tp_members = packed_members,
};

static int
tuple_or_none_size(PyObject *obj, const char *what, Py_ssize_t *size)
{
    if (obj == Py_None) {
        *size = 0;
        return 0;
    }
    if (!PyTuple_CheckExact(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple", what);
        return -1;
    }
    *size = PyTuple_GET_SIZE(obj);
    return 0;
}

/* Rule ids come as a tuple of int, or as a buffer of int64 (array('q')), copied at once. */
static Py_ssize_t
ids_count(PyObject *ids)
{
    if (PyTuple_CheckExact(ids))
        return PyTuple_GET_SIZE(ids);
    Py_buffer view;
    if (PyObject_GetBuffer(ids, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    Py_ssize_t n = -1;
    if (view.itemsize != 8 || view.format == NULL || (strcmp(view.format, "q") != 0 && strcmp(view.format, "l") != 0))
        PyErr_SetString(PyExc_TypeError, "rule ids must be a tuple of int or an array('q')");
    else
        n = view.len / 8;
    PyBuffer_Release(&view);
    return n;
}

/* Copy `n` rule ids (what ids_count() found) into `into`. The count is checked again: reading a
 * tuple's items may run Python code (__index__), and that code may resize an array. */
static int
copy_ids(PyObject *ids, int64_t *into, Py_ssize_t n)
{
    if (!PyTuple_CheckExact(ids)) {
        Py_buffer view;
        if (PyObject_GetBuffer(ids, &view, PyBUF_C_CONTIGUOUS) < 0)
            return -1;
        int fits = view.len == n * 8;
        if (fits)
            memcpy(into, view.buf, (size_t)view.len);
        PyBuffer_Release(&view);
        if (!fits)
            PyErr_SetString(PyExc_RuntimeError, "rule ids changed size while packed");
        return fits ? 0 : -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long long value = PyLong_AsLongLong(PyTuple_GET_ITEM(ids, i));
        if (value == -1 && PyErr_Occurred())
            return -1;
        into[i] = (int64_t)value;
    }
    return 0;
}

static int
copy_keys(Packed *self, PyObject *tuple, Py_ssize_t at)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        PyObject *key = PyTuple_GET_ITEM(tuple, i);
        if (!PyUnicode_CheckExact(key)) {
            PyErr_SetString(PyExc_TypeError, "keys must be str");
            return -1;
        }
        Py_hash_t hash = PyObject_Hash(key);
        if (hash == -1)
            return -1;
        self->hashes[at + i] = hash;
        Py_INCREF(key);
        self->keys[at + i] = key;
        self->n_keys = at + i + 1;
    }
    return 0;
}

/* Whether `phrases` is a tuple of non-empty tuples of str (TypeError set when not). */
static int
phrases_ok(PyObject *phrases)
{
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(phrases); k++) {
        PyObject *phrase = PyTuple_GET_ITEM(phrases, k);
        int ok = PyTuple_CheckExact(phrase) && PyTuple_GET_SIZE(phrase) > 0;
        for (Py_ssize_t t = 0; ok && t < PyTuple_GET_SIZE(phrase); t++)
            ok = PyUnicode_CheckExact(PyTuple_GET_ITEM(phrase, t));
        if (!ok) {
            PyErr_SetString(PyExc_TypeError, "a phrase is a non-empty tuple of str");
            return 0;
        }
    }
    return 1;
}

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

PyDoc_STRVAR(pack_doc,
"pack(exact, checks, state) -> Packed\n\n"
"One key's rules in one block of memory: `exact` the rule ids (a tuple, or an array('q')),\n"
"`checks` a tuple of\n"
"(need, avoid, rest, ids, phrases, low, high, absent, any_of): a tuple of str keys, a tuple or None, a callable\n"
"or None, rule ids as `exact`, a tuple of phrases (tuples of str), the followers range (-1: no\n"
"bound), a tuple of phrases that must not occur, a tuple of frozensets of keys of each of which\n"
"the post must have one. `state` is kept as the `state` attribute.");

/* The counts a pack needs, from a first pass over `checks` (a tuple, checked by the caller). */
static int
pack_counts(PyObject *exact, PyObject *checks, Py_ssize_t *n_exact, Py_ssize_t *n_keys, Py_ssize_t *n_ids)
{
    *n_keys = *n_ids = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(checks); i++) {
        PyObject *check = PyTuple_GET_ITEM(checks, i);
        Py_ssize_t n_avoid;
        if (!PyTuple_CheckExact(check) || PyTuple_GET_SIZE(check) != 9
            || !PyTuple_CheckExact(PyTuple_GET_ITEM(check, 0)) || !PyTuple_CheckExact(PyTuple_GET_ITEM(check, 4))
            || !PyTuple_CheckExact(PyTuple_GET_ITEM(check, 7)) || !PyTuple_CheckExact(PyTuple_GET_ITEM(check, 8))) {
            PyErr_SetString(PyExc_TypeError, "a check is (need: tuple, avoid: tuple | None, rest, ids, phrases: "
                                             "tuple, low, high, absent: tuple, any_of: tuple of frozensets)");
            return -1;
        }
        if (tuple_or_none_size(PyTuple_GET_ITEM(check, 1), "avoid", &n_avoid) < 0)
            return -1;
        Py_ssize_t n = ids_count(PyTuple_GET_ITEM(check, 3));
        if (n < 0)
            return -1;
        *n_keys += PyTuple_GET_SIZE(PyTuple_GET_ITEM(check, 0)) + n_avoid;
        *n_ids += n;
        if (*n_keys > UINT32_MAX || *n_ids > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "too many rules under one key");
            return -1;
        }
    }
    *n_exact = ids_count(exact);
    return *n_exact < 0 ? -1 : 0;
}

/* Fill self->checks[i] from the tuple `check`, its keys at *key_at and its ids at *id_at. */
static int
pack_check(Packed *self, Py_ssize_t i, PyObject *check, uint32_t *key_at, uint32_t *id_at)
{
    PyObject *need = PyTuple_GET_ITEM(check, 0), *avoid = PyTuple_GET_ITEM(check, 1);
    PyObject *rest = PyTuple_GET_ITEM(check, 2), *ids = PyTuple_GET_ITEM(check, 3);
    PyObject *phrases = PyTuple_GET_ITEM(check, 4), *absent = PyTuple_GET_ITEM(check, 7);
    PyObject *any_of = PyTuple_GET_ITEM(check, 8);
    PackedCheck *out = &self->checks[i];
    *out = (PackedCheck){.low = -1, .high = -1};
    self->n_checks = i + 1; /* from here on dealloc releases what this check holds */
    out->need = *key_at;
    out->n_need = (uint32_t)PyTuple_GET_SIZE(need);
    if (copy_keys(self, need, *key_at) < 0)
        return -1;
    *key_at += out->n_need;
    out->avoid = *key_at;
    out->n_avoid = avoid == Py_None ? 0 : (uint32_t)PyTuple_GET_SIZE(avoid);
    if (avoid != Py_None && copy_keys(self, avoid, *key_at) < 0)
        return -1;
    *key_at += out->n_avoid;
    if (rest != Py_None && !PyCallable_Check(rest)) {
        PyErr_SetString(PyExc_TypeError, "rest must be callable or None");
        return -1;
    }
    if (!phrases_ok(phrases) || !phrases_ok(absent))
        return -1;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(any_of); k++) {
        if (!PyFrozenSet_CheckExact(PyTuple_GET_ITEM(any_of, k))) {
            PyErr_SetString(PyExc_TypeError, "any_of holds frozensets");
            return -1;
        }
    }
    out->rest = rest != Py_None ? Py_NewRef(rest) : NULL;
    out->phrases = PyTuple_GET_SIZE(phrases) > 0 ? Py_NewRef(phrases) : NULL;
    out->absent = PyTuple_GET_SIZE(absent) > 0 ? Py_NewRef(absent) : NULL;
    out->any_of = PyTuple_GET_SIZE(any_of) > 0 ? Py_NewRef(any_of) : NULL;
    out->low = PyLong_AsLongLong(PyTuple_GET_ITEM(check, 5));
    if (out->low == -1 && PyErr_Occurred())
        return -1;
    out->high = PyLong_AsLongLong(PyTuple_GET_ITEM(check, 6));
    if (out->high == -1 && PyErr_Occurred())
        return -1;
    /* counted again: __index__ above may have run Python code that resized an array of ids */
    Py_ssize_t n = ids_count(ids);
    if (n < 0)
        return -1;
    if (n > self->n_ids - *id_at) {
        PyErr_SetString(PyExc_RuntimeError, "rule ids changed size while packed");
        return -1;
    }
    out->ids = *id_at;
    out->n_ids = (uint32_t)n;
    if (copy_ids(ids, self->ids + *id_at, n) < 0)
        return -1;
    *id_at += out->n_ids;
    return 0;
}

static PyObject *
pack(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "pack(exact, checks: tuple, state)");
        return NULL;
    }
    PyObject *exact = args[0], *checks = args[1];
    Py_ssize_t n_checks = PyTuple_GET_SIZE(checks), n_exact, n_keys, n_ids;
    if (pack_counts(exact, checks, &n_exact, &n_keys, &n_ids) < 0)
        return NULL;
    /* layout, in the order match() reads it: exact, checks, hashes, ids, keys */
    size_t at_checks = ALIGN8(sizeof(int64_t) * (size_t)n_exact);
    size_t at_hashes = at_checks + sizeof(PackedCheck) * (size_t)n_checks;
    size_t at_ids = at_hashes + sizeof(Py_hash_t) * (size_t)n_keys;
    size_t at_keys = at_ids + sizeof(int64_t) * (size_t)n_ids;
    size_t size = at_keys + sizeof(PyObject *) * (size_t)n_keys;
    if (size > (size_t)PY_SSIZE_T_MAX - sizeof(Packed))
        return PyErr_NoMemory();
    Packed *self = PyObject_GC_NewVar(Packed, &PackedType, (Py_ssize_t)size);
    if (self == NULL)
        return NULL;
    char *data = (char *)self + sizeof(Packed);
    self->exact = (int64_t *)data;
    self->checks = (PackedCheck *)(data + at_checks);
    self->hashes = (Py_hash_t *)(data + at_hashes);
    self->ids = (int64_t *)(data + at_ids);
    self->keys = (PyObject **)(data + at_keys);
    self->n_exact = n_exact;
    self->n_checks = 0;
    self->n_keys = 0;
    self->n_ids = n_ids;
    self->state = Py_NewRef(args[2]);
    if (copy_ids(exact, self->exact, n_exact) < 0)
        goto fail;
    uint32_t key_at = 0, id_at = 0;
    for (Py_ssize_t i = 0; i < n_checks; i++) {
        if (pack_check(self, i, PyTuple_GET_ITEM(checks, i), &key_at, &id_at) < 0)
            goto fail;
    }
    PyObject_GC_Track(self); /* only once complete: traverse reads what is filled in */
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

/* ---- KeyIndex: key -> view ----------------------------------------------------------------- */

/* The index's table of keys, in place of a dict: open addressing with the hash stored in the
 * slot, so a key that is not there (most of a post's keys) costs one read of one cache line,
 * where a dict of tens of thousands of str keys reads the stored key object on each probe.
 * Keys are exact str; values any object. Values (views) own callables that may lead back to the
 * index, so the table takes part in the cyclic GC. */

typedef struct {
    Py_hash_t hash;
    PyObject *key;   /* NULL: empty; &deleted: a deleted slot */
    PyObject *value;
} Slot3;

typedef struct {
    PyObject_HEAD
    Slot3 *slots;
    size_t mask;
    Py_ssize_t used;   /* live keys */
    Py_ssize_t filled; /* live and deleted slots */
} KeyIndex;

static PyTypeObject KeyIndexType;
static PyObject deleted_marker;
#define DELETED (&deleted_marker)

/* The slot holding `key`, or NULL when it is not there (*error set on an error). */
static Slot3 *
ki_find(KeyIndex *self, PyObject *key, Py_hash_t hash, int *error)
{
    for (size_t i = (size_t)hash & self->mask;; i = (i + 1) & self->mask) {
        Slot3 *slot = &self->slots[i];
        if (slot->key == NULL)
            return NULL;
        if (slot->key != DELETED && slot->hash == hash) {
            if (slot->key == key)
                return slot;
            int equal = same_str(slot->key, key);
            if (equal < 0) {
                *error = 1;
                return NULL;
            }
            if (equal)
                return slot;
        }
    }
}

static int
ki_resize(KeyIndex *self, size_t size)
{
    Slot3 *slots = PyMem_Calloc(size, sizeof(Slot3));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Slot3 *old = self->slots;
    size_t old_size = old == NULL ? 0 : self->mask + 1;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i].key == NULL || old[i].key == DELETED)
            continue;
        size_t j = (size_t)old[i].hash & (size - 1);
        while (slots[j].key != NULL)
            j = (j + 1) & (size - 1);
        slots[j] = old[i];
    }
    PyMem_Free(old);
    self->slots = slots;
    self->mask = size - 1;
    self->filled = self->used;
    return 0;
}

static PyObject *
ki_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "KeyIndex() takes no arguments");
        return NULL;
    }
    KeyIndex *self = (KeyIndex *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->slots = NULL;
    self->used = self->filled = 0;
    if (ki_resize(self, 8) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
ki_traverse(KeyIndex *self, visitproc visit, void *arg)
{
    for (size_t i = 0; self->slots != NULL && i <= self->mask; i++) {
        if (self->slots[i].key != NULL && self->slots[i].key != DELETED)
            Py_VISIT(self->slots[i].value);
    }
    return 0;
}

/* Empty the table. Each slot is marked deleted before its references go: releasing a value may
 * run Python code that uses this table (and even resizes it, so slots are re-read each time). */
static int
ki_clear(KeyIndex *self)
{
    for (size_t i = 0; self->slots != NULL && i <= self->mask; i++) {
        Slot3 *slot = &self->slots[i];
        if (slot->key == NULL || slot->key == DELETED)
            continue;
        PyObject *key = slot->key, *value = slot->value;
        slot->key = DELETED;
        slot->value = NULL;
        self->used--;
        Py_DECREF(key);
        Py_DECREF(value);
    }
    return 0;
}

static void
ki_dealloc(KeyIndex *self)
{
    PyObject_GC_UnTrack(self);
    ki_clear(self);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
ki_check_key(PyObject *key, Py_hash_t *hash)
{
    if (!PyUnicode_CheckExact(key)) {
        PyErr_SetString(PyExc_TypeError, "KeyIndex keys must be str");
        return -1;
    }
    *hash = PyObject_Hash(key);
    return *hash == -1 ? -1 : 0;
}

/* The value under `key` (borrowed), or NULL: not there, or an error (then PyErr_Occurred). */
static PyObject *
ki_get_borrowed(KeyIndex *self, PyObject *key)
{
    Py_hash_t hash;
    int error = 0;
    if (ki_check_key(key, &hash) < 0)
        return NULL;
    Slot3 *slot = ki_find(self, key, hash, &error);
    return slot == NULL ? NULL : slot->value;
}

static int
ki_set(KeyIndex *self, PyObject *key, PyObject *value)
{
    Py_hash_t hash;
    int error = 0;
    if (ki_check_key(key, &hash) < 0)
        return -1;
    Slot3 *slot = ki_find(self, key, hash, &error);
    if (error)
        return -1;
    if (value == NULL) { /* delete */
        if (slot == NULL) {
            PyErr_SetObject(PyExc_KeyError, key);
            return -1;
        }
        PyObject *old_key = slot->key, *old_value = slot->value;
        slot->key = DELETED;
        slot->value = NULL;
        self->used--;
        Py_DECREF(old_key);
        Py_DECREF(old_value);
        return 0;
    }
    Py_INCREF(value);
    if (slot != NULL) {
        Py_SETREF(slot->value, value);
        return 0;
    }
    if ((size_t)(self->filled + 1) * 3 > (self->mask + 1) * 2) {
        size_t size = 8;
        while (size < (size_t)(self->used + 1) * 3)
            size <<= 1;
        if (ki_resize(self, size) < 0) {
            Py_DECREF(value);
            return -1;
        }
    }
    size_t i = (size_t)hash & self->mask;
    while (self->slots[i].key != NULL && self->slots[i].key != DELETED)
        i = (i + 1) & self->mask;
    if (self->slots[i].key == NULL)
        self->filled++;
    Py_INCREF(key);
    self->slots[i].hash = hash;
    self->slots[i].key = key;
    self->slots[i].value = value;
    self->used++;
    return 0;
}

static PyObject *
ki_subscript(KeyIndex *self, PyObject *key)
{
    PyObject *value = ki_get_borrowed(self, key);
    if (value == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    Py_INCREF(value);
    return value;
}

static int
ki_ass_subscript(KeyIndex *self, PyObject *key, PyObject *value)
{
    return ki_set(self, key, value);
}

static Py_ssize_t
ki_length(KeyIndex *self)
{
    return self->used;
}

static int
ki_contains(KeyIndex *self, PyObject *key)
{
    PyObject *value = ki_get_borrowed(self, key);
    return value != NULL ? 1 : (PyErr_Occurred() ? -1 : 0);
}

static PyObject *
ki_get(KeyIndex *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    PyObject *value = ki_get_borrowed(self, args[0]);
    if (value == NULL) {
        if (PyErr_Occurred())
            return NULL;
        value = nargs == 2 ? args[1] : Py_None;
    }
    Py_INCREF(value);
    return value;
}

static PyObject *
ki_pop(KeyIndex *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "pop(key[, default])");
        return NULL;
    }
    PyObject *value = ki_get_borrowed(self, args[0]);
    if (value == NULL) {
        if (PyErr_Occurred())
            return NULL;
        if (nargs == 2) {
            Py_INCREF(args[1]);
            return args[1];
        }
        PyErr_SetObject(PyExc_KeyError, args[0]);
        return NULL;
    }
    Py_INCREF(value);
    if (ki_set(self, args[0], NULL) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

static PyObject *
ki_keys(KeyIndex *self, PyObject *unused)
{
    PyObject *out = PyList_New(0);
    for (size_t i = 0; out != NULL && i <= self->mask; i++) {
        PyObject *key = self->slots[i].key;
        if (key != NULL && key != DELETED && PyList_Append(out, key) < 0)
            Py_CLEAR(out);
    }
    return out;
}

static PyObject *
ki_sizeof(KeyIndex *self, PyObject *unused)
{
    return PyLong_FromSize_t(sizeof(KeyIndex) + (self->mask + 1) * sizeof(Slot3));
}

static PyMethodDef ki_methods[] = {
    {"get", (PyCFunction)(void (*)(void))ki_get, METH_FASTCALL, "get(key, default=None)"},
    {"pop", (PyCFunction)(void (*)(void))ki_pop, METH_FASTCALL, "pop(key[, default])"},
    {"keys", (PyCFunction)ki_keys, METH_NOARGS, "a list of the keys"},
    {"__sizeof__", (PyCFunction)ki_sizeof, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods ki_as_mapping = {
    .mp_length = (lenfunc)ki_length,
    .mp_subscript = (binaryfunc)ki_subscript,
    .mp_ass_subscript = (objobjargproc)ki_ass_subscript,
};

static PySequenceMethods ki_as_sequence = {
    .sq_contains = (objobjproc)ki_contains,
};

static PyTypeObject KeyIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "app.query._native.KeyIndex",
    .tp_doc = "A table of str key -> view for the index (get, pop, [], in, len, keys).",
    .tp_basicsize = sizeof(KeyIndex),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = ki_new,
    .tp_dealloc = (destructor)ki_dealloc,
    .tp_traverse = (traverseproc)ki_traverse,
    .tp_clear = (inquiry)ki_clear,
    .tp_methods = ki_methods,
    .tp_as_mapping = &ki_as_mapping,
    .tp_as_sequence = &ki_as_sequence,
};

/* ---- the post's keys, by hash ---------------------------------------------------------- */

/* Strong references to the items of a list of exact str, taken by match(): a `rest` callback may
 * change the post's lists, and a str subclass could run Python code in the middle of a look-up.
 * An array rather than a tuple: no object to allocate and for the GC to track on every post. */
typedef struct {
    PyObject **items; /* `stack` when they fit */
    Py_ssize_t n;
} Strs;

#define STACK_STRS 64

static int
strs_hold(Strs *strs, PyObject *list, PyObject **stack, const char *what)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    strs->n = 0;
    strs->items = n <= STACK_STRS ? stack : PyMem_New(PyObject *, (size_t)n);
    if (strs->items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (!PyUnicode_CheckExact(item)) {
            PyErr_Format(PyExc_TypeError, "%s must be str", what);
            return -1;
        }
        strs->items[strs->n++] = Py_NewRef(item);
    }
    return 0;
}

static void
strs_release(Strs *strs, PyObject **stack)
{
    for (Py_ssize_t i = 0; i < strs->n; i++)
        Py_DECREF(strs->items[i]);
    if (strs->items != stack)
        PyMem_Free(strs->items);
}

typedef struct {
    Py_hash_t hash;
    PyObject *key; /* borrowed from match()'s own references to the post's keys; NULL: empty slot */
} Slot;

typedef struct {
    Slot *slots;
    size_t mask;
} KeyTable;

#define STACK_SLOTS 256

static int
keys_put(KeyTable *table, PyObject *key)
{
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1)
        return -1;
    size_t i = (size_t)hash & table->mask;
    for (; table->slots[i].key != NULL; i = (i + 1) & table->mask) {
        if (table->slots[i].hash == hash) {
            int equal = same_str(table->slots[i].key, key);
            if (equal != 0)
                return equal < 0 ? -1 : 0; /* already there */
        }
    }
    table->slots[i].hash = hash;
    table->slots[i].key = key;
    return 0;
}

/* The post's keys by hash: its tokens and its other keys (held by the caller for as long as the
 * table is used; repeats dropped). */
static int
keys_build(KeyTable *table, const Strs *tokens, const Strs *extra, Slot *stack)
{
    Py_ssize_t n = tokens->n + extra->n;
    size_t size = 16;
    while (size < (size_t)n * 2)
        size <<= 1;
    if (size <= STACK_SLOTS) {
        table->slots = stack;
        memset(stack, 0, sizeof(Slot) * size);
    } else {
        table->slots = PyMem_Calloc(size, sizeof(Slot));
        if (table->slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    table->mask = size - 1;
    const Strs *lists[2] = {tokens, extra};
    for (int l = 0; l < 2; l++) {
        for (Py_ssize_t i = 0; i < lists[l]->n; i++) {
            if (keys_put(table, lists[l]->items[i]) < 0)
                return -1;
        }
    }
    return 0;
}

static void
keys_free(KeyTable *table, Slot *stack)
{
    if (table->slots != stack)
        PyMem_Free(table->slots);
}

/* 1 when the post has the key, 0 when not, -1 on error. */
static int
keys_has(const KeyTable *table, Py_hash_t hash, PyObject *key)
{
    for (size_t i = (size_t)hash & table->mask; table->slots[i].key != NULL; i = (i + 1) & table->mask) {
        if (table->slots[i].hash == hash) {
            int equal = same_str(table->slots[i].key, key);
            if (equal != 0)
                return equal;
        }
    }
    return 0;
}

/* ---- matching -------------------------------------------------------------------------- */

static int
add_ids(PyObject *out, const int64_t *ids, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *id = PyLong_FromLongLong(ids[i]);
        if (id == NULL)
            return -1;
        int status = PySet_Add(out, id);
        Py_DECREF(id);
        if (status < 0)
            return -1;
    }
    return 0;
}

/* 1 when the tokens hold the phrase's tokens consecutively, 0 when not, -1 on error. */
static int
has_phrase(const Strs *tokens, PyObject *phrase)
{
    Py_ssize_t n = tokens->n, size = PyTuple_GET_SIZE(phrase);
    for (Py_ssize_t i = 0; i + size <= n; i++) {
        Py_ssize_t k = 0;
        for (; k < size; k++) {
            int equal = same_str(tokens->items[i + k], PyTuple_GET_ITEM(phrase, k));
            if (equal < 0)
                return -1;
            if (!equal)
                break;
        }
        if (k == size)
            return 1;
    }
    return 0;
}

/* What match() knows of the post: its tokens and its other keys, held (see Strs). */
typedef struct {
    PyObject *post;
    Strs tokens, keys;  /* keys: the post's keys but its tokens */
    int64_t followers;  /* -1: unknown */
} PostFacts;

/* 1 when the post has a key of the frozenset `one_of` (its other keys are tried first: ORs of
 * keys are most often scopes of `from:` keys), 0 when not, -1 on error. */
static int
has_one_of(const PostFacts *facts, PyObject *one_of)
{
    const Strs *lists[2] = {&facts->keys, &facts->tokens};
    for (int l = 0; l < 2; l++) {
        for (Py_ssize_t i = 0; i < lists[l]->n; i++) {
            int found = PySet_Contains(one_of, lists[l]->items[i]);
            if (found != 0)
                return found;
        }
    }
    return 0;
}

static int
check_holds(const Packed *self, const PackedCheck *check, const KeyTable *table, const PostFacts *facts)
{
    for (uint32_t k = check->need; k < check->need + check->n_need; k++) {
        int found = keys_has(table, self->hashes[k], self->keys[k]);
        if (found <= 0)
            return found;
    }
    for (uint32_t k = check->avoid; k < check->avoid + check->n_avoid; k++) {
        int found = keys_has(table, self->hashes[k], self->keys[k]);
        if (found != 0)
            return found < 0 ? -1 : 0;
    }
    if (check->low >= 0
        && (facts->followers < 0 || facts->followers < check->low || (check->high >= 0 && facts->followers > check->high)))
        return 0;
    if (check->phrases != NULL) {
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(check->phrases); k++) {
            int found = has_phrase(&facts->tokens, PyTuple_GET_ITEM(check->phrases, k));
            if (found <= 0)
                return found;
        }
    }
    if (check->any_of != NULL) {
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(check->any_of); k++) {
            int found = has_one_of(facts, PyTuple_GET_ITEM(check->any_of, k));
            if (found <= 0)
                return found;
        }
    }
    if (check->absent != NULL) {
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(check->absent); k++) {
            int found = has_phrase(&facts->tokens, PyTuple_GET_ITEM(check->absent, k));
            if (found != 0)
                return found < 0 ? -1 : 0;
        }
    }
    if (check->rest == NULL)
        return 1;
    PyObject *rest = Py_NewRef(check->rest); /* held by the view, but held here across the call too */
    PyObject *held = PyObject_CallOneArg(rest, facts->post);
    Py_DECREF(rest);
    if (held == NULL)
        return -1;
    int truth = PyObject_IsTrue(held);
    Py_DECREF(held);
    return truth;
}

/* Add to `out` the ids of the rules of one view that hold for the post. */
static int
scan(const PostFacts *post, const KeyTable *table, PyObject *view, PyObject *out)
{
    if (!Py_IS_TYPE(view, &PackedType)) {
        PyErr_SetString(PyExc_TypeError, "views must be packed by pack()");
        return -1;
    }
    Packed *self = (Packed *)view;
    Py_INCREF(self);
    int status = add_ids(out, self->exact, self->n_exact);
    for (Py_ssize_t i = 0; status == 0 && i < self->n_checks; i++) {
        const PackedCheck *check = &self->checks[i];
        int holds = check_holds(self, check, table, post);
        if (holds < 0)
            status = -1;
        else if (holds)
            status = add_ids(out, self->ids + check->ids, check->n_ids);
    }
    Py_DECREF(self);
    return status;
}

/* Look `key` (of hash `hash`) up in `table` and scan what is filed there; 0 when nothing is. */
static int
scan_key(const PostFacts *post, const KeyTable *keys, KeyIndex *table, PyObject *key, Py_hash_t hash, PyObject *out)
{
    int error = 0;
    Slot3 *slot = ki_find(table, key, hash, &error);
    if (slot == NULL)
        return error ? -1 : 0;
    return scan(post, keys, slot->value, out);
}

PyDoc_STRVAR(match_doc,
"match(post, tokens, keys, author_keys, table, shards, always, followers) -> set\n\n"
"The ids of the rules that hold for a prepared post: the view `always` is scanned, each key of\n"
"the tuple `author_keys` is looked up in shards[hash(key) & (len(shards) - 1)], and each of the\n"
"post's keys (the lists `tokens` and `keys`) in the KeyIndex `table`; `followers` (int or None)\n"
"is the post's, for followers ranges.");

/* The post's followers as match() reads them: -1 for unknown (None) or negative. */
static int
followers_of(PyObject *value, int64_t *followers)
{
    *followers = -1;
    if (value == Py_None)
        return 0;
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (n == -1 && PyErr_Occurred())
        return -1;
    *followers = overflow > 0 ? INT64_MAX : (overflow < 0 || n < 0 ? -1 : n);
    return 0;
}

/* Scan `always`, the shards under the author keys, then `table` under each of the post's keys. */
static int
match_into(const PostFacts *post, const KeyTable *post_keys, PyObject *author_keys, KeyIndex *table,
           PyObject *shards, PyObject *always, PyObject *out)
{
    if (scan(post, post_keys, always, out) < 0)
        return -1;
    Py_ssize_t n_shards = PyTuple_GET_SIZE(shards);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(author_keys); i++) {
        PyObject *key = PyTuple_GET_ITEM(author_keys, i);
        if (!PyUnicode_CheckExact(key)) {
            PyErr_SetString(PyExc_TypeError, "author keys must be str");
            return -1;
        }
        Py_hash_t hash = PyObject_Hash(key);
        if (hash == -1)
            return -1;
        PyObject *shard = PyTuple_GET_ITEM(shards, (Py_ssize_t)((size_t)hash & (size_t)(n_shards - 1)));
        if (!Py_IS_TYPE(shard, &KeyIndexType)) {
            PyErr_SetString(PyExc_TypeError, "shards must be KeyIndex");
            return -1;
        }
        if (scan_key(post, post_keys, (KeyIndex *)shard, key, hash, out) < 0)
            return -1;
    }
    for (size_t i = 0; i <= post_keys->mask; i++) {
        PyObject *key = post_keys->slots[i].key;
        if (key != NULL && scan_key(post, post_keys, table, key, post_keys->slots[i].hash, out) < 0)
            return -1;
    }
    return 0;
}

static PyObject *
match(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8 || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[2]) || !PyTuple_CheckExact(args[3])
        || !Py_IS_TYPE(args[4], &KeyIndexType) || !PyTuple_CheckExact(args[5]) || PyTuple_GET_SIZE(args[5]) == 0) {
        PyErr_SetString(PyExc_TypeError, "match(post, tokens: list, keys: list, author_keys: tuple, KeyIndex, "
                                         "tuple of KeyIndex, view, followers)");
        return NULL;
    }
    Py_ssize_t n_shards = PyTuple_GET_SIZE(args[5]);
    if ((n_shards & (n_shards - 1)) != 0) {
        PyErr_SetString(PyExc_ValueError, "the number of shards must be a power of two");
        return NULL;
    }
    PostFacts post = {.post = args[0]};
    if (followers_of(args[7], &post.followers) < 0)
        return NULL;
    PyObject *token_stack[STACK_STRS], *key_stack[STACK_STRS], *out = NULL;
    Slot stack[STACK_SLOTS];
    KeyTable post_keys = {NULL, 0};
    if (strs_hold(&post.tokens, args[1], token_stack, "tokens") == 0
        && strs_hold(&post.keys, args[2], key_stack, "keys") == 0
        && keys_build(&post_keys, &post.tokens, &post.keys, stack) == 0 && (out = PySet_New(NULL)) != NULL
        && match_into(&post, &post_keys, args[3], (KeyIndex *)args[4], args[5], args[6], out) < 0)
        Py_CLEAR(out);
    if (post_keys.slots != NULL)
        keys_free(&post_keys, stack);
    strs_release(&post.tokens, token_stack);
    strs_release(&post.keys, key_stack);
    return out;
}

/* ---- tokenizing ------------------------------------------------------------------------ */

static int
append_new(PyObject *list, PyObject *item)
{
    if (item == NULL)
        return -1;
    int status = PyList_Append(list, item);
    Py_DECREF(item);
    return status;
}

/* Keep in step with _CJK in app/query/tokens.py (a test compares the two on every code point). */
static int
is_cjk(Py_UCS4 c)
{
    return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x31f0 && c <= 0x31ff) || (c >= 0x3400 && c <= 0x4dbf)
        || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
}

static int
is_ascii_alnum(Py_UCS4 c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

/* A word character, as the regex \w (and so \b) has it. */
static int
is_word(Py_UCS4 c)
{
    return c < 128 ? (is_ascii_alnum(c) || c == '_') : Py_UNICODE_ISALNUM(c);
}

static int
is_ascii_space(Py_UCS4 c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
}

static int
starts_with(const Py_UCS4 *s, Py_ssize_t left, const char *prefix)
{
    Py_ssize_t i = 0;
    for (; prefix[i] != '\0'; i++) {
        if (i >= left || s[i] != (Py_UCS4)(unsigned char)prefix[i])
            return 0;
    }
    return 1;
}

static int
starts_link(const Py_UCS4 *s, Py_ssize_t left)
{
    return starts_with(s, left, "http://") || starts_with(s, left, "https://") || starts_with(s, left, "ftp://")
        || starts_with(s, left, "www.");
}

/* A character of a token other than Han/kana: a letter or digit (regex [^\W_]). */
static int
is_token_char(Py_UCS4 c)
{
    return c < 128 ? is_ascii_alnum(c) : (!is_cjk(c) && Py_UNICODE_ISALNUM(c));
}

/* The tokens of a folded buffer (ASCII, letters and digits of any script, \x01 for other
 * non-word characters, maybe ASCII whitespace), as app.query.tokens._split gives them for the
 * folded text: links (`http://`, `https://`, `ftp://` or `www.` after a non-word character, up
 * to the next whitespace) are dropped, then each Han/kana character is a token and each run of
 * other letters and digits is one. */
static int
folded_tokens(Py_UCS4 *buf, Py_ssize_t n, PyObject *out)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((buf[i] == 'h' || buf[i] == 'f' || buf[i] == 'w') && (i == 0 || !is_word(buf[i - 1]))
            && starts_link(buf + i, n - i)) {
            Py_ssize_t j = i;
            while (j < n && !is_ascii_space(buf[j]))
                buf[j++] = ' ';
            i = j;
        }
    }
    char run[256];
    for (Py_ssize_t i = 0; i < n;) {
        Py_UCS4 c = buf[i];
        if (is_cjk(c)) {
            if (append_new(out, PyUnicode_FromOrdinal((int)c)) < 0)
                return -1;
            i++;
            continue;
        }
        if (!is_token_char(c)) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        int ascii = 1;
        while (j < n && is_token_char(buf[j])) {
            ascii &= buf[j] < 128;
            j++;
        }
        PyObject *token;
        if (ascii && j - i <= (Py_ssize_t)sizeof(run)) {
            for (Py_ssize_t k = i; k < j; k++)
                run[k - i] = (char)buf[k];
            token = PyUnicode_FromStringAndSize(run, j - i);
        } else {
            token = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf + i, j - i);
        }
        if (append_new(out, token) < 0)
            return -1;
        i = j;
    }
    return 0;
}

/* How single characters fold (app.query.tokens.fold: NFKD, casefold, marks dropped): letters
 * and digits of any script as they are, other non-ASCII characters written 0x01 (they only
 * separate tokens). Set once by set_folds(); FOLD_WIDTH code points each: the length, then the
 * form; FOLD_UNKNOWN where a chunk must go to Python (non-ASCII whitespace in the form, or a
 * form too long). Ranges: 0-0x9FFF, 0xAC00-0xD7AF (Hangul), 0xF900-0xFAFF, 0xFE00-0xFFFF,
 * 0x1F000-0x1FAFF. */
#define FOLD_WIDTH 6
#define FOLD_UNKNOWN 0xFFFFFFFFu
static const Py_UCS4 fold_ranges[][2] = {
    {0, 0xA000}, {0xAC00, 0xD7B0}, {0xF900, 0xFB00}, {0xFE00, 0x10000}, {0x1F000, 0x1FB00},
};
#define FOLD_RANGES (sizeof(fold_ranges) / sizeof(fold_ranges[0]))
#define FOLD_ENTRIES (0xA000 + (0xD7B0 - 0xAC00) + 0x200 + 0x200 + 0xB00)
static uint32_t (*folds)[FOLD_WIDTH] = NULL;

static const uint32_t *
fold_of(Py_UCS4 c)
{
    if (folds == NULL)
        return NULL;
    size_t base = 0;
    for (size_t r = 0; r < FOLD_RANGES; r++) {
        if (c >= fold_ranges[r][0] && c < fold_ranges[r][1]) {
            const uint32_t *entry = folds[base + (c - fold_ranges[r][0])];
            return entry[0] == FOLD_UNKNOWN ? NULL : entry;
        }
        base += fold_ranges[r][1] - fold_ranges[r][0];
    }
    return NULL;
}

PyDoc_STRVAR(set_folds_doc,
"set_folds(table: bytes) -> None\n\n"
"How each code point of 0-0x9FFF, 0xAC00-0xD7AF, 0xF900-0xFAFF, 0xFE00-0xFFFF and\n"
"0x1F000-0x1FAFF folds: 6\n"
"native uint32 each, the length of the folded form (0xFFFFFFFF: not foldable here), then it.");

static PyObject *
set_folds(PyObject *module, PyObject *table)
{
    size_t size = sizeof(uint32_t) * FOLD_WIDTH * FOLD_ENTRIES;
    if (!PyBytes_CheckExact(table) || (size_t)PyBytes_GET_SIZE(table) != size) {
        PyErr_Format(PyExc_ValueError, "set_folds() takes bytes of length %zu", size);
        return NULL;
    }
    uint32_t (*copy)[FOLD_WIDTH] = PyMem_Malloc(size);
    if (copy == NULL)
        return PyErr_NoMemory();
    memcpy(copy, PyBytes_AS_STRING(table), size);
    for (size_t i = 0; i < FOLD_ENTRIES; i++) {
        if (copy[i][0] != FOLD_UNKNOWN && copy[i][0] > FOLD_WIDTH - 1) {
            PyMem_Free(copy);
            PyErr_SetString(PyExc_ValueError, "a folded form has at most 5 code points");
            return NULL;
        }
    }
    PyMem_Free(folds);
    folds = copy;
    Py_RETURN_NONE;
}

/* The tokens of one chunk (no whitespace) folded here: 1 when done, 0 when a character of it
 * cannot be folded here (the caller then asks Python), -1 on error. */
static int
folded_chunk(const void *data, int kind, Py_ssize_t start, Py_ssize_t end, PyObject *out)
{
    Py_UCS4 stack[512], *buf = stack;
    size_t cap = (FOLD_WIDTH - 1) * (size_t)(end - start);
    if (cap > sizeof(stack) / sizeof(stack[0])) {
        buf = PyMem_Malloc(cap * sizeof(Py_UCS4));
        if (buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    Py_ssize_t n = 0;
    int status = 1;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 128) {
            buf[n++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
            continue;
        }
        const uint32_t *entry = fold_of(c);
        if (entry == NULL) {
            status = 0;
            break;
        }
        for (uint32_t k = 1; k <= entry[0]; k++)
            buf[n++] = entry[k];
    }
    if (status == 1 && folded_tokens(buf, n, out) < 0)
        status = -1;
    if (buf != stack)
        PyMem_Free(buf);
    return status;
}

/* Append the tokens of a non-ASCII chunk, from the memo or from `split_chunk(chunk)`; both give
 * the chunk's tokens joined by spaces. */
static int
other_chunk(PyObject *text, Py_ssize_t start, Py_ssize_t end, PyObject *memo, PyObject *split_chunk,
            PyObject *out)
{
    PyObject *chunk = PyUnicode_Substring(text, start, end);
    if (chunk == NULL)
        return -1;
    PyObject *found = PyDict_GetItemWithError(memo, chunk); /* borrowed */
    if (found != NULL)
        Py_INCREF(found);
    else if (!PyErr_Occurred())
        found = PyObject_CallOneArg(split_chunk, chunk);
    Py_DECREF(chunk);
    if (found == NULL)
        return -1;
    if (!PyUnicode_Check(found)) {
        Py_DECREF(found);
        PyErr_SetString(PyExc_TypeError, "a chunk's tokens must be a str");
        return -1;
    }
    int status = 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(found);
    Py_ssize_t space = length == 0 ? -1 : PyUnicode_FindChar(found, ' ', 0, length, 1);
    if (length == 0) {
        /* no tokens */
    } else if (space == -2) {
        status = -1;
    } else if (space == -1) {
        status = PyList_Append(out, found);
    } else {
        PyObject *parts = PyUnicode_Split(found, NULL, -1);
        if (parts == NULL) {
            status = -1;
        } else {
            Py_ssize_t size = PyList_GET_SIZE(out);
            status = PyList_SetSlice(out, size, size, parts);
            Py_DECREF(parts);
        }
    }
    Py_DECREF(found);
    return status;
}

PyDoc_STRVAR(tokenize_doc,
"tokenize(text, memo, split_chunk) -> list\n\n"
"The folded tokens of a text, as app.query.tokens.tokenize gives them: the text is split at\n"
"whitespace; chunks of ASCII and of characters set_folds() told about are tokenized here; the\n"
"tokens of other chunks come from the dict `memo`, or else from `split_chunk(chunk)`, as one str\n"
"with the tokens joined by spaces.");

static PyObject *
tokenize(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "tokenize(text: str, memo: dict, split_chunk)");
        return NULL;
    }
    PyObject *text = args[0], *memo = args[1], *split_chunk = args[2];
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) /* a legacy str made by the old C API; a no-op since 3.12 */
        return NULL;
#endif
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(c)) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        int ascii = 1;
        while (i < n) {
            c = PyUnicode_READ(kind, data, i);
            if (c < 128) {
                if (Py_UNICODE_ISSPACE(c))
                    break;
            } else if (Py_UNICODE_ISSPACE(c)) {
                break;
            } else {
                ascii = 0;
            }
            i++;
        }
        int status = folded_chunk(data, kind, start, i, out);
        if (status == 0 && !ascii)
            status = other_chunk(text, start, i, memo, split_chunk, out);
        if (status < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

PyDoc_STRVAR(cjk_pairs_doc,
"cjk_pairs(tokens) -> list\n\n"
"`ab` for every two consecutive tokens that are both one Han or kana character.");

static PyObject *
cjk_pairs(PyObject *module, PyObject *tokens)
{
    if (!PyList_CheckExact(tokens) && !PyTuple_CheckExact(tokens)) {
        PyErr_SetString(PyExc_TypeError, "cjk_pairs() takes a list or tuple of str");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tokens);
    PyObject **items = PySequence_Fast_ITEMS(tokens);
    Py_UCS4 prev = 0; /* the previous token when it was one CJK character, else 0 */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *token = items[i];
        if (!PyUnicode_Check(token)) {
            PyErr_SetString(PyExc_TypeError, "tokens must be str");
            Py_DECREF(out);
            return NULL;
        }
        Py_UCS4 c = PyUnicode_GET_LENGTH(token) == 1 ? PyUnicode_READ_CHAR(token, 0) : 0;
        if (c != 0 && !is_cjk(c))
            c = 0;
        if (c != 0 && prev != 0) {
            Py_UCS4 pair[2] = {prev, c};
            PyObject *key = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, pair, 2);
            if (key == NULL || PyList_Append(out, key) < 0) {
                Py_XDECREF(key);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(key);
        }
        prev = c;
    }
    return out;
}

/* ---- a post's keys ---------------------------------------------------------------------- */

/* Set by set_key_context(): app.query.prepared's memos and its helpers for their misses. A call
 * that calls into Python holds what it passes (and the memo it probes) for the length of the call:
 * the helpers, a property, or the hash of a raw value may call set_key_context() again, and so
 * release the ones in this table. (Holding all nine for every post costs ~5% of post_keys.) */
enum { C_TAGS, C_MENTIONS, C_FROM, C_TO, C_LANGS, C_REMEMBER, C_LANG_KEYS, C_HOST_KEYS, C_FLAG_NAMES, C_LABELS, C_SIZE };
enum { N_FLAGS = 10 };
static PyObject *context[C_SIZE];
static PyObject *prefix_tag, *prefix_mention, *prefix_from, *prefix_to, *prefix_label;
static PyObject *s_author, *s_hashtags, *s_mentions, *s_urls, *s_handle, *s_id, *s_reply_to_author, *s_lang;
static PyObject *s_is_reply, *s_is_repost, *s_is_quote, *s_is_bot, *s_media_count;
static PyObject *s_mention_ids, *s_reply_to_author_id, *s_content_warning, *s_sensitive, *s_labels;

PyDoc_STRVAR(set_key_context_doc,
"set_key_context(tags, mentions, froms, tos, langs, remember, lang_keys, host_keys, flag_names, labels)\n\n"
"The memos (dicts) and helpers post_keys() uses: remember(memo, prefix, raw) -> key on a\n"
"memo's miss, lang_keys(lang) -> tuple on a miss of `langs`, host_keys(url) -> tuple, the\n"
"10 names of is:reply, is:repost, is:quote, is:bot, has:links, has:media, has:hashtags, has:mentions,\n"
"has:cw, is:sensitive, and the memo of `label:` keys.");

static PyObject *
set_key_context(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != C_SIZE) {
        PyErr_SetString(PyExc_TypeError, "set_key_context() takes 10 arguments");
        return NULL;
    }
    for (int i = C_TAGS; i < C_SIZE; i++) {
        if ((i <= C_LANGS || i == C_LABELS) && !PyDict_CheckExact(args[i])) {
            PyErr_SetString(PyExc_TypeError, "the memos must be dicts");
            return NULL;
        }
    }
    PyObject *names = args[C_FLAG_NAMES];
    int ok = PyTuple_CheckExact(names) && PyTuple_GET_SIZE(names) == N_FLAGS;
    for (Py_ssize_t i = 0; ok && i < N_FLAGS; i++)
        ok = PyUnicode_CheckExact(PyTuple_GET_ITEM(names, i));
    if (!ok) {
        PyErr_SetString(PyExc_TypeError, "flag_names must be a tuple of 10 str");
        return NULL;
    }
    for (int i = 0; i < C_SIZE; i++)
        Py_XSETREF(context[i], Py_NewRef(args[i]));
    Py_RETURN_NONE;
}

/* prefix + fold_handle(raw) built here when `raw` is ASCII (strip whitespace, then leading `@`
 * and `#`, lower-case); NULL without an error set when it is not. */
static PyObject *
ascii_key(PyObject *prefix, PyObject *raw)
{
    if (!PyUnicode_CheckExact(raw) || !PyUnicode_IS_ASCII(raw) || !PyUnicode_IS_ASCII(prefix))
        return NULL;
    const unsigned char *text = PyUnicode_1BYTE_DATA(raw);
    Py_ssize_t start = 0, end = PyUnicode_GET_LENGTH(raw), length = PyUnicode_GET_LENGTH(prefix);
    while (start < end && is_ascii_space(text[start]))
        start++;
    while (end > start && is_ascii_space(text[end - 1]))
        end--;
    while (start < end && (text[start] == '@' || text[start] == '#'))
        start++;
    PyObject *key = PyUnicode_New(length + (end - start), 127);
    if (key == NULL)
        return NULL;
    unsigned char *out = PyUnicode_1BYTE_DATA(key);
    memcpy(out, PyUnicode_1BYTE_DATA(prefix), (size_t)length);
    for (Py_ssize_t i = start; i < end; i++) {
        unsigned char c = text[i];
        out[length + i - start] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
    }
    return key;
}

/* One post_keys() call: the post, its author, and the keys so far (a list). */
typedef struct {
    PyObject *post, *post_fields, *author, *author_fields;
    PyObject *keys;
} KeyBuild;

/* context[memo][raw] (a new reference), or NULL: a miss (no error set) or an error. */
static PyObject *
memo_get(int memo, PyObject *raw)
{
    PyObject *dict = Py_NewRef(context[memo]); /* hashing `raw` may run Python code */
    PyObject *found = Py_XNewRef(PyDict_GetItemWithError(dict, raw));
    Py_DECREF(dict);
    return found;
}

/* context[helper](arg), the helper held for the call. */
static PyObject *
call_helper(int helper, PyObject *arg)
{
    PyObject *callable = Py_NewRef(context[helper]);
    PyObject *result = PyObject_CallOneArg(callable, arg);
    Py_DECREF(callable);
    return result;
}

/* The key of a raw value: built here when ASCII, else from the memo context[memo], or from
 * remember(memo, prefix, raw) on a miss. A new reference. */
static PyObject *
memo_key(int memo, PyObject *prefix, PyObject *raw)
{
    PyObject *key = ascii_key(prefix, raw);
    if (key != NULL || PyErr_Occurred())
        return key;
    key = memo_get(memo, raw);
    if (key != NULL || PyErr_Occurred())
        return key;
    PyObject *remember = Py_NewRef(context[C_REMEMBER]), *dict = Py_NewRef(context[memo]);
    key = PyObject_CallFunctionObjArgs(remember, dict, prefix, raw, NULL);
    Py_DECREF(remember);
    Py_DECREF(dict);
    return key;
}

static int
add_key(PyObject *keys, PyObject *key) /* steals `key` */
{
    if (key == NULL)
        return -1;
    int status = PyList_Append(keys, key);
    Py_DECREF(key);
    return status;
}

static int
add_all(PyObject *keys, PyObject *items) /* steals `items`, a list or tuple */
{
    if (items == NULL)
        return -1;
    if (!PyList_Check(items) && !PyTuple_Check(items)) {
        Py_DECREF(items);
        PyErr_SetString(PyExc_TypeError, "keys must come as a list or tuple");
        return -1;
    }
    int status = 0;
    for (Py_ssize_t i = 0; status == 0 && i < PySequence_Fast_GET_SIZE(items); i++)
        status = PyList_Append(keys, PySequence_Fast_ITEMS(items)[i]);
    Py_DECREF(items);
    return status;
}

/* An attribute, read from the instance dict when it is there (a pydantic model keeps its
 * fields there; this skips the class look-ups of getattr), else by getattr. New reference. */
static PyObject *
field(PyObject *obj, PyObject *fields, PyObject *name)
{
    if (fields != NULL) {
        PyObject *value = PyDict_GetItemWithError(fields, name);
        if (value != NULL)
            return Py_NewRef(value);
        if (PyErr_Occurred())
            return NULL;
    }
    return PyObject_GetAttr(obj, name);
}

/* The instance dict of an object, or NULL (no error) when it has none. New reference. */
static PyObject *
fields_of(PyObject *obj)
{
    PyObject *fields = PyObject_GenericGetDict(obj, NULL);
    if (fields == NULL || !PyDict_Check(fields)) {
        PyErr_Clear();
        Py_XDECREF(fields);
        return NULL;
    }
    return fields;
}

/* 1 when the attribute is True, or (truthy) non-empty / non-zero; 0 when not; -1 on error. */
static int
attr_flag(PyObject *obj, PyObject *fields, PyObject *name, int is_true)
{
    PyObject *value = field(obj, fields, name);
    if (value == NULL)
        return -1;
    int on = is_true ? value == Py_True : (value == Py_None ? 0 : PyObject_IsTrue(value));
    Py_DECREF(value);
    return on;
}

/* The values of a list (or tuple) attribute of the post, each through a memo into the keys;
 * *had: whether there were any. Each value is held while `remember` may run. */
static int
add_memo_keys(const KeyBuild *b, PyObject *name, int memo, PyObject *prefix, int *had)
{
    PyObject *values = field(b->post, b->post_fields, name);
    if (values == NULL)
        return -1;
    int status = 0;
    if (!PyList_Check(values) && !PyTuple_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "hashtags and mentions must be lists");
        status = -1;
    }
    for (Py_ssize_t i = 0; status == 0 && i < PySequence_Fast_GET_SIZE(values); i++) {
        PyObject *raw = Py_NewRef(PySequence_Fast_ITEMS(values)[i]);
        status = add_key(b->keys, memo_key(memo, prefix, raw));
        Py_DECREF(raw);
    }
    if (status == 0 && had != NULL)
        *had = PySequence_Fast_GET_SIZE(values) > 0;
    Py_DECREF(values);
    return status;
}

/* The author's `from:` key of one attribute (handle or id): a new reference, also in the keys. */
static PyObject *
from_key(const KeyBuild *b, PyObject *name)
{
    PyObject *value = field(b->author, b->author_fields, name);
    if (value == NULL)
        return NULL;
    PyObject *key = memo_key(C_FROM, prefix_from, value);
    Py_DECREF(value);
    if (key != NULL && PyList_Append(b->keys, key) < 0)
        Py_CLEAR(key);
    return key;
}

/* The `to:` key of one attribute of the post, when it is set and not empty. */
static int
add_to_key(const KeyBuild *b, PyObject *name)
{
    PyObject *value = field(b->post, b->post_fields, name);
    if (value == NULL)
        return -1;
    int set = value == Py_None ? 0 : PyObject_IsTrue(value);
    int status = set <= 0 ? set : add_key(b->keys, memo_key(C_TO, prefix_to, value));
    Py_DECREF(value);
    return status;
}

/* The `lang:` keys, from the memo or lang_keys(lang). */
static int
add_lang_keys(const KeyBuild *b)
{
    PyObject *value = field(b->post, b->post_fields, s_lang);
    if (value == NULL)
        return -1;
    PyObject *langs = memo_get(C_LANGS, value);
    if (langs == NULL && !PyErr_Occurred())
        langs = call_helper(C_LANG_KEYS, value);
    Py_DECREF(value);
    return add_all(b->keys, langs);
}

/* The `url:` keys of each link, from host_keys(url); *had: whether there were links. */
static int
add_url_keys(const KeyBuild *b, int *had)
{
    PyObject *urls = field(b->post, b->post_fields, s_urls);
    if (urls == NULL)
        return -1;
    int status = 0;
    if (!PyList_Check(urls) && !PyTuple_Check(urls)) {
        PyErr_SetString(PyExc_TypeError, "urls must be a list");
        status = -1;
    }
    for (Py_ssize_t i = 0; status == 0 && i < PySequence_Fast_GET_SIZE(urls); i++) {
        PyObject *url = Py_NewRef(PySequence_Fast_ITEMS(urls)[i]);
        status = add_all(b->keys, call_helper(C_HOST_KEYS, url));
        Py_DECREF(url);
    }
    if (status == 0)
        *had = PySequence_Fast_GET_SIZE(urls) > 0;
    Py_DECREF(urls);
    return status;
}

/* The is: and has: keys, in the order of flag_names. */
static int
add_flags(const KeyBuild *b, int links, int tags, int mentions)
{
    int flags[N_FLAGS] = {0, 0, 0, 0, links, 0, tags, mentions, 0, 0};
    PyObject *names[N_FLAGS] = {s_is_reply, s_is_repost, s_is_quote, s_is_bot, NULL, s_media_count, NULL, NULL,
                                s_content_warning, s_sensitive};
    for (int i = 0; i < N_FLAGS; i++) {
        if (names[i] != NULL) {
            int of_author = i == 3, any_truth = names[i] == s_media_count || names[i] == s_content_warning;
            flags[i] = of_author ? attr_flag(b->author, b->author_fields, names[i], 1)
                                 : attr_flag(b->post, b->post_fields, names[i], !any_truth);
            if (flags[i] < 0)
                return -1;
        }
        if (flags[i] && PyList_Append(b->keys, PyTuple_GET_ITEM(context[C_FLAG_NAMES], i)) < 0)
            return -1;
    }
    return 0;
}

/* The `label:` keys of the labels of `obj` (the post or its author): a list, or None for none. */
static int
add_label_keys(const KeyBuild *b, PyObject *obj, PyObject *fields)
{
    PyObject *values = field(obj, fields, s_labels);
    if (values == NULL)
        return -1;
    int status = 0;
    if (values != Py_None && !PyList_Check(values) && !PyTuple_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "labels must be a list");
        status = -1;
    }
    for (Py_ssize_t i = 0; status == 0 && values != Py_None && i < PySequence_Fast_GET_SIZE(values); i++) {
        PyObject *raw = Py_NewRef(PySequence_Fast_ITEMS(values)[i]);
        status = add_key(b->keys, memo_key(C_LABELS, prefix_label, raw));
        Py_DECREF(raw);
    }
    Py_DECREF(values);
    return status;
}

/* The keys other than the tokens into b->keys; the author's keys into *author_keys. */
static int
build_keys(KeyBuild *b, PyObject *module, PyObject *tokens, PyObject **author_keys)
{
    int tags = 0, mentions = 0, links = 0;
    if (add_all(b->keys, cjk_pairs(module, tokens)) < 0)
        return -1;
    if ((b->author = field(b->post, b->post_fields, s_author)) == NULL)
        return -1;
    b->author_fields = fields_of(b->author);
    if (add_memo_keys(b, s_hashtags, C_TAGS, prefix_tag, &tags) < 0
        || add_memo_keys(b, s_mentions, C_MENTIONS, prefix_mention, &mentions) < 0
        /* @id of each mentioned author whose id the platform gave (not a has:mentions fact) */
        || add_memo_keys(b, s_mention_ids, C_MENTIONS, prefix_mention, NULL) < 0)
        return -1;
    PyObject *by_handle = from_key(b, s_handle);
    PyObject *by_id = by_handle == NULL ? NULL : from_key(b, s_id);
    int same = by_id == NULL ? -1 : PyObject_RichCompareBool(by_handle, by_id, Py_EQ);
    if (same >= 0)
        *author_keys = same ? PyTuple_Pack(1, by_handle) : PyTuple_Pack(2, by_handle, by_id);
    Py_XDECREF(by_handle);
    Py_XDECREF(by_id);
    if (same < 0 || *author_keys == NULL)
        return -1;
    if (add_to_key(b, s_reply_to_author) < 0 || add_to_key(b, s_reply_to_author_id) < 0 || add_lang_keys(b) < 0
        || add_url_keys(b, &links) < 0)
        return -1;
    if (add_flags(b, links, tags, mentions) < 0)
        return -1;
    if (add_label_keys(b, b->post, b->post_fields) < 0)
        return -1;
    return add_label_keys(b, b->author, b->author_fields);
}

PyDoc_STRVAR(post_keys_doc,
"post_keys(post, tokens) -> (keys, author_keys)\n\n"
"What app.query.prepared._post_keys_py gives: a list of the post's keys other than its tokens\n"
"(repeats possible), and its distinct `from:` keys (by handle, by id).");

static PyObject *
post_keys(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "post_keys(post, tokens: list)");
        return NULL;
    }
    if (context[0] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "set_key_context() was not called");
        return NULL;
    }
    KeyBuild b = {.post = args[0]};
    if ((b.keys = PyList_New(0)) == NULL)
        return NULL;
    b.post_fields = fields_of(b.post);
    PyObject *author_keys = NULL, *result = NULL;
    if (build_keys(&b, module, args[1], &author_keys) == 0)
        result = PyTuple_Pack(2, b.keys, author_keys);
    Py_XDECREF(author_keys);
    Py_XDECREF(b.post_fields);
    Py_XDECREF(b.author_fields);
    Py_XDECREF(b.author);
    Py_DECREF(b.keys);
    return result;
}

static PyMethodDef methods[] = {
    {"match", (PyCFunction)(void (*)(void))match, METH_FASTCALL, match_doc},
    {"cjk_pairs", cjk_pairs, METH_O, cjk_pairs_doc},
    {"pack", (PyCFunction)(void (*)(void))pack, METH_FASTCALL, pack_doc},
    {"tokenize", (PyCFunction)(void (*)(void))tokenize, METH_FASTCALL, tokenize_doc},
    {"set_folds", set_folds, METH_O, set_folds_doc},
    {"set_key_context", (PyCFunction)(void (*)(void))set_key_context, METH_FASTCALL, set_key_context_doc},
    {"post_keys", (PyCFunction)(void (*)(void))post_keys, METH_FASTCALL, post_keys_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "app.query._native",
    "The rule index's hot loops in C (optional; app.query has the same code in Python).",
    -1, methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    if (PyType_Ready(&PackedType) < 0)
        return NULL;
    struct { PyObject **slot; const char *text; } names[] = {
        {&prefix_tag, "#"}, {&prefix_mention, "@"}, {&prefix_from, "from:"}, {&prefix_to, "to:"},
        {&prefix_label, "label:"},
        {&s_author, "author"}, {&s_hashtags, "hashtags"}, {&s_mentions, "mentions"}, {&s_urls, "urls"},
        {&s_handle, "handle"}, {&s_id, "id"}, {&s_reply_to_author, "reply_to_author"}, {&s_lang, "lang"},
        {&s_is_reply, "is_reply"}, {&s_is_repost, "is_repost"}, {&s_is_quote, "is_quote"},
        {&s_is_bot, "is_bot"}, {&s_media_count, "media_count"},
        {&s_mention_ids, "mention_ids"}, {&s_reply_to_author_id, "reply_to_author_id"},
        {&s_content_warning, "content_warning"}, {&s_sensitive, "sensitive"}, {&s_labels, "labels"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (*names[i].slot == NULL && (*names[i].slot = PyUnicode_InternFromString(names[i].text)) == NULL)
            return NULL;
    }
    if (PyType_Ready(&KeyIndexType) < 0)
        return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL)
        return NULL;
    if (PyModule_AddType(mod, &PackedType) < 0 || PyModule_AddType(mod, &KeyIndexType) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}

/* The rule index's per-post loop in C: app.query.index falls back on the same loop in Python
 * (index._match_py) when this module is not built, and the tests run both on the same cases.
 *
 * It reads the index's published views, which Python builds and replaces (never mutates):
 *   view  = (exact, checks, ...)        exact: tuple of rule ids the key alone settles
 *   check = (need, avoid, rest, ids)    need: tuple of keys the post must all have,
 *                                       avoid: tuple of keys it must have none of, or None,
 *                                       rest: callable(prepared_post) -> bool, or None,
 *                                       ids: tuple of the rule ids the check settles.
 * Only public C API calls; the GIL is held throughout. A `rest` callback may run Python code
 * that replaces views, so each view is held by a reference while it is read.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
add_ids(PyObject *out, PyObject *ids)
{
    if (!PyTuple_CheckExact(ids)) {
        PyErr_SetString(PyExc_TypeError, "rule ids must be a tuple");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(ids);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PySet_Add(out, PyTuple_GET_ITEM(ids, i)) < 0)
            return -1;
    }
    return 0;
}

/* 1 when `keys` holds every key of the tuple `need`, 0 when not, -1 on error. */
static int
has_all(PyObject *keys, PyObject *need)
{
    if (!PyTuple_CheckExact(need)) {
        PyErr_SetString(PyExc_TypeError, "needed keys must be a tuple");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(need);
    for (Py_ssize_t i = 0; i < n; i++) {
        int found = PySet_Contains(keys, PyTuple_GET_ITEM(need, i));
        if (found <= 0)
            return found;
    }
    return 1;
}

/* 1 when `keys` holds no key of `avoid` (a tuple, or None), 0 when it holds one, -1 on error. */
static int
has_none(PyObject *keys, PyObject *avoid)
{
    if (avoid == Py_None)
        return 1;
    if (!PyTuple_CheckExact(avoid)) {
        PyErr_SetString(PyExc_TypeError, "avoided keys must be a tuple or None");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(avoid);
    for (Py_ssize_t i = 0; i < n; i++) {
        int found = PySet_Contains(keys, PyTuple_GET_ITEM(avoid, i));
        if (found != 0)
            return found < 0 ? -1 : 0;
    }
    return 1;
}

static int
scan_checks(PyObject *post, PyObject *keys, PyObject *checks, PyObject *out)
{
    if (!PyTuple_CheckExact(checks)) {
        PyErr_SetString(PyExc_TypeError, "checks must be a tuple");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(checks);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *check = PyTuple_GET_ITEM(checks, i);
        if (!PyTuple_CheckExact(check) || PyTuple_GET_SIZE(check) != 4) {
            PyErr_SetString(PyExc_TypeError, "a check must be a 4-tuple");
            return -1;
        }
        int ok = has_all(keys, PyTuple_GET_ITEM(check, 0));
        if (ok > 0)
            ok = has_none(keys, PyTuple_GET_ITEM(check, 1));
        if (ok > 0) {
            PyObject *rest = PyTuple_GET_ITEM(check, 2);
            if (rest != Py_None) {
                PyObject *held = PyObject_CallOneArg(rest, post);
                if (held == NULL)
                    return -1;
                ok = PyObject_IsTrue(held);
                Py_DECREF(held);
            }
        }
        if (ok < 0)
            return -1;
        if (ok > 0 && add_ids(out, PyTuple_GET_ITEM(check, 3)) < 0)
            return -1;
    }
    return 0;
}

/* Add to `out` the ids of the rules of one view that hold for the post. */
static int
scan(PyObject *post, PyObject *keys, PyObject *view, PyObject *out)
{
    if (!PyTuple_CheckExact(view) || PyTuple_GET_SIZE(view) < 2) {
        PyErr_SetString(PyExc_TypeError, "a view must be a tuple (exact, checks, ...)");
        return -1;
    }
    Py_INCREF(view);
    int status = add_ids(out, PyTuple_GET_ITEM(view, 0));
    if (status == 0 && PyTuple_GET_SIZE(PyTuple_GET_ITEM(view, 1)) != 0)
        status = scan_checks(post, keys, PyTuple_GET_ITEM(view, 1), out);
    Py_DECREF(view);
    return status;
}

/* Look `key` up in `table` and scan what is filed there; 0 when nothing is. */
static int
scan_key(PyObject *post, PyObject *keys, PyObject *table, PyObject *key, PyObject *out)
{
    PyObject *view = PyDict_GetItemWithError(table, key); /* borrowed */
    if (view == NULL)
        return PyErr_Occurred() ? -1 : 0;
    return scan(post, keys, view, out);
}

PyDoc_STRVAR(match_doc,
"match(post, keys, author_keys, table, shards, always) -> set\n\n"
"The ids of the rules that hold for a prepared post: `always` is scanned, each key of the\n"
"tuple `author_keys` is looked up in shards[hash(key) & (len(shards) - 1)], and each key of the\n"
"set `keys` in `table`.");

static PyObject *
match(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "match() takes 6 arguments");
        return NULL;
    }
    PyObject *post = args[0], *keys = args[1], *author_keys = args[2];
    PyObject *table = args[3], *shards = args[4], *always = args[5];
    if (!PyAnySet_Check(keys) || !PyTuple_CheckExact(author_keys) || !PyDict_CheckExact(table)
        || !PyTuple_CheckExact(shards) || PyTuple_GET_SIZE(shards) == 0) {
        PyErr_SetString(PyExc_TypeError, "match(post, set, tuple, dict, tuple of dicts, view)");
        return NULL;
    }
    Py_ssize_t n_shards = PyTuple_GET_SIZE(shards);
    if ((n_shards & (n_shards - 1)) != 0) {
        PyErr_SetString(PyExc_ValueError, "the number of shards must be a power of two");
        return NULL;
    }
    PyObject *out = PySet_New(NULL);
    if (out == NULL)
        return NULL;
    if (scan(post, keys, always, out) < 0)
        goto fail;
    Py_ssize_t n_authors = PyTuple_GET_SIZE(author_keys);
    for (Py_ssize_t i = 0; i < n_authors; i++) {
        PyObject *key = PyTuple_GET_ITEM(author_keys, i);
        Py_hash_t hash = PyObject_Hash(key);
        if (hash == -1)
            goto fail;
        PyObject *shard = PyTuple_GET_ITEM(shards, (Py_ssize_t)((size_t)hash & (size_t)(n_shards - 1)));
        if (!PyDict_CheckExact(shard)) {
            PyErr_SetString(PyExc_TypeError, "shards must be dicts");
            goto fail;
        }
        if (scan_key(post, keys, shard, key, out) < 0)
            goto fail;
    }
    PyObject *iterator = PyObject_GetIter(keys);
    if (iterator == NULL)
        goto fail;
    PyObject *key;
    while ((key = PyIter_Next(iterator)) != NULL) {
        int status = scan_key(post, keys, table, key, out);
        Py_DECREF(key);
        if (status < 0) {
            Py_DECREF(iterator);
            goto fail;
        }
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        goto fail;
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* Keep in step with _CJK in app/query/tokens.py (a test compares the two on every code point). */
static int
is_cjk(Py_UCS4 c)
{
    return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x31f0 && c <= 0x31ff) || (c >= 0x3400 && c <= 0x4dbf)
        || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
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

static PyMethodDef methods[] = {
    {"match", (PyCFunction)(void (*)(void))match, METH_FASTCALL, match_doc},
    {"cjk_pairs", cjk_pairs, METH_O, cjk_pairs_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "app.query._native",
    "The rule index's per-post loop in C (optional; app.query.index has the same loop in Python).",
    -1, methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}

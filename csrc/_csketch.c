/*
 * randla._csketch: the CPython/NumPy glue for the kernels in kernels.h.
 *
 * Python (randla/_sketch.py) prepares dtype, order and shape; this file checks
 * them once more, plus every index that the kernels will follow, raises a
 * readable exception when something is off, and calls the kernel with the
 * GIL released.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include "hash.h"
#include "kernels.h"

static int
check_float(PyArrayObject *a, const char *name, int writable)
{
    int t = PyArray_TYPE(a);
    if (t != NPY_FLOAT64 && t != NPY_FLOAT32) {
        PyErr_Format(PyExc_TypeError, "%s must be float32 or float64", name);
        return -1;
    }
    if (!PyArray_ISALIGNED(a) || PyArray_ISBYTESWAPPED(a)) {
        PyErr_Format(PyExc_ValueError, "%s must be aligned, native byte order",
                     name);
        return -1;
    }
    if (writable && !PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "%s must be writable", name);
        return -1;
    }
    return 0;
}

static int
check_ndim(PyArrayObject *a, const char *name, int ndim)
{
    if (PyArray_NDIM(a) != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must be %d-D, got %d-D", name, ndim,
                     PyArray_NDIM(a));
        return -1;
    }
    return 0;
}

/* The hash's parameters: 1 <= s <= k < 2^32 and 0 <= r0 <= r1, with the
 * keys j s + t of rows j < r1 below the prime 2^61 - 1 (hash.h). */
static int
check_sketch(long long k, long long s, long long r0, long long r1)
{
    if (k < 1 || k >= ((long long)1 << 32) || s < 1 || s > k || r0 < 0 ||
        r1 < r0) {
        PyErr_Format(PyExc_ValueError,
                     "need 1 <= s <= k < 2**32 and 0 <= r0 <= r1, got k=%lld, "
                     "s=%lld, r0=%lld, r1=%lld", k, s, r0, r1);
        return -1;
    }
    if (r1 > (long long)(RANDLA_P61 / (uint64_t)s)) {
        PyErr_Format(PyExc_ValueError,
                     "need r1 * s <= 2**61 - 1 (the keys of the hash), got "
                     "r1=%lld, s=%lld", r1, s);
        return -1;
    }
    return 0;
}

static PyObject *
py_sparse_sign_hash(PyObject *self, PyObject *args)
{
    unsigned long long seed;
    long long r0, r1, k, s;
    if (!PyArg_ParseTuple(args, "KLLLL", &seed, &r0, &r1, &k, &s))
        return NULL;
    if (check_sketch(k, s, r0, r1) < 0)
        return NULL;
    npy_intp dims[2] = {(npy_intp)(r1 - r0), (npy_intp)s};
    PyObject *rows = PyArray_SimpleNew(2, dims, NPY_INT64);
    PyObject *signs = PyArray_SimpleNew(2, dims, NPY_INT8);
    if (!rows || !signs) {
        Py_XDECREF(rows);
        Py_XDECREF(signs);
        return NULL;
    }
    int64_t *r = (int64_t *)PyArray_DATA((PyArrayObject *)rows);
    int8_t *g = (int8_t *)PyArray_DATA((PyArrayObject *)signs);
    Py_BEGIN_ALLOW_THREADS
    randla_sparse_sign_hash(seed, r0, r1, k, s, r, g);
    Py_END_ALLOW_THREADS
    return Py_BuildValue("NN", rows, signs);
}

static PyObject *
py_fwht(PyObject *self, PyObject *args)
{
    PyArrayObject *a;
    if (!PyArg_ParseTuple(args, "O!", &PyArray_Type, &a))
        return NULL;
    if (check_float(a, "a", 1) < 0)
        return NULL;
    int ndim = PyArray_NDIM(a);
    if (ndim != 1 && ndim != 2) {
        PyErr_SetString(PyExc_ValueError, "a must be 1-D or 2-D");
        return NULL;
    }
    size_t n = (size_t)PyArray_DIM(a, 0);
    size_t ncol = ndim == 2 ? (size_t)PyArray_DIM(a, 1) : 1;
    if (n == 0 || (n & (n - 1)) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "a must have a power-of-two number of rows, got %zu", n);
        return NULL;
    }
    int c_order = PyArray_IS_C_CONTIGUOUS(a);
    if (!c_order && !PyArray_IS_F_CONTIGUOUS(a)) {
        PyErr_SetString(PyExc_ValueError,
                        "a must be C- or Fortran-contiguous");
        return NULL;
    }
    int f64 = PyArray_TYPE(a) == NPY_FLOAT64;
    char *data = PyArray_BYTES(a);
    size_t item = (size_t)PyArray_ITEMSIZE(a);
    Py_BEGIN_ALLOW_THREADS
    if (c_order) {
        /* Rows are contiguous: transform all columns together. */
        if (f64)
            randla_fwht_f64((double *)data, n, ncol);
        else
            randla_fwht_f32((float *)data, n, ncol);
    }
    else {
        /* Columns are contiguous: one column at a time. */
        for (size_t j = 0; j < ncol; j++) {
            if (f64)
                randla_fwht_f64((double *)(data + j * n * item), n, 1);
            else
                randla_fwht_f32((float *)(data + j * n * item), n, 1);
        }
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *
py_sparse_sign_dense(PyObject *self, PyObject *args)
{
    PyArrayObject *a, *out;
    unsigned long long seed;
    long long r0, s;
    if (!PyArg_ParseTuple(args, "O!LKLO!", &PyArray_Type, &a, &r0, &seed, &s,
                          &PyArray_Type, &out))
        return NULL;
    if (check_float(a, "a", 0) < 0 || check_float(out, "out", 1) < 0 ||
        check_ndim(a, "a", 2) < 0 || check_ndim(out, "out", 2) < 0)
        return NULL;
    if (PyArray_TYPE(a) != PyArray_TYPE(out)) {
        PyErr_SetString(PyExc_TypeError, "a and out must have one dtype");
        return NULL;
    }
    npy_intp m = PyArray_DIM(a, 0), d = PyArray_DIM(a, 1);
    npy_intp k = PyArray_DIM(out, 0);
    if (PyArray_DIM(out, 1) != d) {
        PyErr_Format(PyExc_ValueError, "out must have %zd columns", d);
        return NULL;
    }
    if (check_sketch(k, s, r0, r0 + m) < 0)
        return NULL;
    npy_intp item = PyArray_ITEMSIZE(a);
    npy_intp rs = PyArray_STRIDE(a, 0), cs = PyArray_STRIDE(a, 1);
    npy_intp ors = PyArray_STRIDE(out, 0), ocs = PyArray_STRIDE(out, 1);
    if (rs % item || cs % item || ors % item || ocs % item || rs < 0 ||
        cs < 0 || ors < 0 || ocs < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "a and out must have positive strides, whole items");
        return NULL;
    }
    int status;
    Py_BEGIN_ALLOW_THREADS
    if (PyArray_TYPE(a) == NPY_FLOAT64)
        status = randla_sparse_sign_dense_f64(
            (const double *)PyArray_DATA(a), m, d, rs / item, cs / item, r0,
            seed, s, (double *)PyArray_DATA(out), k, ors / item, ocs / item);
    else
        status = randla_sparse_sign_dense_f32(
            (const float *)PyArray_DATA(a), m, d, rs / item, cs / item, r0,
            seed, s, (float *)PyArray_DATA(out), k, ors / item, ocs / item);
    Py_END_ALLOW_THREADS
    if (status < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* indptr and indices: one integer type, int32 or int64, C-contiguous 1-D;
 * indptr nondecreasing from indptr[lo] to indptr[hi], within [0, nnz), and
 * every index it points at in [0, bound), unless bound < 0. */
static int
check_compressed(PyArrayObject *indptr, PyArrayObject *indices,
                 PyArrayObject *data, npy_intp lo, npy_intp hi, npy_intp bound)
{
    int t = PyArray_TYPE(indptr);
    if ((t != NPY_INT32 && t != NPY_INT64) || PyArray_TYPE(indices) != t ||
        PyArray_NDIM(indptr) != 1 || PyArray_NDIM(indices) != 1 ||
        PyArray_NDIM(data) != 1 || !PyArray_IS_C_CONTIGUOUS(indptr) ||
        !PyArray_IS_C_CONTIGUOUS(indices) || !PyArray_IS_C_CONTIGUOUS(data)) {
        PyErr_SetString(PyExc_TypeError,
                        "indptr, indices and data must be contiguous 1-D; "
                        "indptr and indices int32 or int64 alike");
        return -1;
    }
    /* The kernels dereference the indices as C integers. */
    if (!PyArray_ISALIGNED(indptr) || PyArray_ISBYTESWAPPED(indptr) ||
        !PyArray_ISALIGNED(indices) || PyArray_ISBYTESWAPPED(indices)) {
        PyErr_SetString(PyExc_ValueError,
                        "indptr and indices must be aligned, native byte order");
        return -1;
    }
    npy_intp nnz = PyArray_DIM(data, 0);
    /* hi >= len(indptr), not hi + 1 > len(indptr): hi may be LLONG_MAX. */
    if (PyArray_DIM(indices, 0) != nnz || hi >= PyArray_DIM(indptr, 0) ||
        lo < 0 || lo > hi) {
        PyErr_SetString(PyExc_ValueError,
                        "indptr, indices and data do not fit together");
        return -1;
    }
    npy_intp prev = -1;
    for (npy_intp i = lo; i <= hi; i++) {
        npy_intp p = t == NPY_INT32 ? ((const int32_t *)PyArray_DATA(indptr))[i]
                                    : ((const int64_t *)PyArray_DATA(indptr))[i];
        if (p < prev || p < 0 || p > nnz) {
            PyErr_Format(PyExc_ValueError, "indptr is invalid at %zd", i);
            return -1;
        }
        prev = p;
    }
    if (bound < 0)
        return 0;
    npy_intp start = t == NPY_INT32
                         ? ((const int32_t *)PyArray_DATA(indptr))[lo]
                         : ((const int64_t *)PyArray_DATA(indptr))[lo];
    for (npy_intp i = start; i < prev; i++) {
        npy_intp v = t == NPY_INT32
                         ? ((const int32_t *)PyArray_DATA(indices))[i]
                         : ((const int64_t *)PyArray_DATA(indices))[i];
        if (v < 0 || v >= bound) {
            PyErr_Format(PyExc_ValueError,
                         "indices[%zd] = %zd is outside [0, %zd)", i, v, bound);
            return -1;
        }
    }
    return 0;
}

#define CALL_SPARSE(KIND, ...)                                                \
    do {                                                                      \
        int f64 = PyArray_TYPE(data) == NPY_FLOAT64;                          \
        int i64 = PyArray_TYPE(indptr) == NPY_INT64;                          \
        void *p = PyArray_DATA(indptr), *ix = PyArray_DATA(indices);          \
        void *v = PyArray_DATA(data), *o = PyArray_DATA(out);                 \
        Py_BEGIN_ALLOW_THREADS                                                \
        if (f64 && i64)                                                       \
            status = randla_sparse_sign_##KIND##_f64_i64(p, ix, v, __VA_ARGS__); \
        else if (f64)                                                         \
            status = randla_sparse_sign_##KIND##_f64_i32(p, ix, v, __VA_ARGS__); \
        else if (i64)                                                         \
            status = randla_sparse_sign_##KIND##_f32_i64(p, ix, v, __VA_ARGS__); \
        else                                                                  \
            status = randla_sparse_sign_##KIND##_f32_i32(p, ix, v, __VA_ARGS__); \
        Py_END_ALLOW_THREADS                                                  \
    } while (0)

static PyObject *
py_sparse_sign_csr(PyObject *self, PyObject *args)
{
    PyArrayObject *indptr, *indices, *data, *out;
    long long r0, r1, s;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "O!O!O!LLKLO!", &PyArray_Type, &indptr,
                          &PyArray_Type, &indices, &PyArray_Type, &data, &r0,
                          &r1, &seed, &s, &PyArray_Type, &out))
        return NULL;
    if (check_float(data, "data", 0) < 0 || check_float(out, "out", 1) < 0 ||
        check_ndim(out, "out", 2) < 0)
        return NULL;
    if (PyArray_TYPE(data) != PyArray_TYPE(out) ||
        !PyArray_IS_C_CONTIGUOUS(out)) {
        PyErr_SetString(PyExc_TypeError,
                        "out must be C-contiguous with the dtype of data");
        return NULL;
    }
    npy_intp k = PyArray_DIM(out, 0), d = PyArray_DIM(out, 1);
    if (check_sketch(k, s, r0, r1) < 0 ||
        check_compressed(indptr, indices, data, r0, r1, d) < 0)
        return NULL;
    int status;
    CALL_SPARSE(csr, r0, r1, seed, s, o, k, d);
    if (status < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *
py_sparse_sign_csc(PyObject *self, PyObject *args)
{
    PyArrayObject *indptr, *indices, *data, *out;
    long long r0, r1, s;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "O!O!O!LLKLO!", &PyArray_Type, &indptr,
                          &PyArray_Type, &indices, &PyArray_Type, &data, &r0,
                          &r1, &seed, &s, &PyArray_Type, &out))
        return NULL;
    if (check_float(data, "data", 0) < 0 || check_float(out, "out", 1) < 0 ||
        check_ndim(out, "out", 2) < 0)
        return NULL;
    if (PyArray_TYPE(data) != PyArray_TYPE(out) ||
        !PyArray_IS_F_CONTIGUOUS(out)) {
        PyErr_SetString(PyExc_TypeError,
                        "out must be Fortran-contiguous with the dtype of data");
        return NULL;
    }
    npy_intp k = PyArray_DIM(out, 0), d = PyArray_DIM(out, 1);
    /* The row indices are not checked against a bound: they only select
     * rows of S (always within [0, k)), and the kernel reads those in
     * [r0, r1) only. */
    if (check_sketch(k, s, r0, r1) < 0 ||
        check_compressed(indptr, indices, data, 0, d, -1) < 0)
        return NULL;
    int status;
    CALL_SPARSE(csc, d, r0, r1, seed, s, o, k);
    if (status == -2) {
        PyErr_SetString(PyExc_ValueError,
                        "indices must be sorted within each column");
        return NULL;
    }
    if (status < 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"fwht", py_fwht, METH_VARARGS,
     "fwht(a)\n--\n\nUnnormalised Walsh-Hadamard transform of every column "
     "of a (power-of-two rows, C- or F-contiguous), in place."},
    {"sparse_sign_hash", py_sparse_sign_hash, METH_VARARGS,
     "sparse_sign_hash(seed, r0, r1, k, s)\n--\n\n"
     "(rows, signs): the nonzeros of columns r0..r1-1 of the sketch."},
    {"sparse_sign_dense", py_sparse_sign_dense, METH_VARARGS,
     "sparse_sign_dense(a, r0, seed, s, out)\n--\n\n"
     "out += S[:, r0:r0 + len(a)] @ a, unscaled; a dense."},
    {"sparse_sign_csr", py_sparse_sign_csr, METH_VARARGS,
     "sparse_sign_csr(indptr, indices, data, r0, r1, seed, s, out)\n--\n\n"
     "out += S[:, r0:r1] @ A[r0:r1], unscaled; A CSR, out C-contiguous."},
    {"sparse_sign_csc", py_sparse_sign_csc, METH_VARARGS,
     "sparse_sign_csc(indptr, indices, data, r0, r1, seed, s, out)\n--\n\n"
     "out += S[:, r0:r1] @ A[r0:r1], unscaled; A CSC with sorted indices, "
     "out Fortran."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_csketch",
                                    "randla's C sketching kernels (private).",
                                    -1, methods};

PyMODINIT_FUNC
PyInit__csketch(void)
{
    import_array();
    return PyModule_Create(&module);
}

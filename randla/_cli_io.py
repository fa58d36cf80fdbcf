"""Input and output of the ``randla`` command: files, JSON and error lines.

Matrices and vectors are read from ``.npy`` (memory-mapped), ``.npz``,
``.csv`` or Matrix Market ``.mtx`` files, each failure turned into one
ValueError that names the argument and the file; results are written to an
``.npz`` file atomically; summaries are made of numbers that JSON can hold;
an exception becomes one line, told apart as the input's fault or the
computation's, with the place in randla that raised it.
"""

import errno
import io
import json
import math
import os
import secrets
import stat
import tokenize
import traceback
import zipfile
import zlib
from functools import partial

import numpy as np
import scipy.io
import scipy.sparse as sp

# What reading a damaged file can raise, reported as the file's fault.
_READ_ERRORS = (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile, zlib.error)

_FORMATS = (".npy", ".npz", ".csv", ".mtx")

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _check_npy_header(f, what, size):
    """Check the .npy header at the start of the open file f of `size` bytes.

    Reading the header ourselves tells a file that is not .npy at all (which
    numpy.load would take for a pickle) from an array of Python objects, and
    compares the bytes the header's shape needs with the bytes that follow
    it, so that a damaged header is refused before memory is reserved for it.
    """
    try:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown format version {version[0]}.{version[1]}")
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except ValueError as exc:
        raise ValueError(f"{what} is not a .npy array ({error_line(exc)})") from None
    except tokenize.TokenError:  # numpy lets it through for an unclosed header dict
        raise ValueError(
            f"{what} is not a .npy array (its header ends in an unclosed bracket or string)"
        ) from None
    if dtype.hasobject:
        raise ValueError(
            f"{what} holds pickled Python objects (dtype {dtype}), which are refused; "
            "save a numeric array"
        )
    needed, held = math.prod(shape) * dtype.itemsize, size - f.tell()
    if needed > held:
        raise ValueError(
            f"{what} is damaged: its header claims shape {shape} of {dtype} "
            f"({needed} bytes), but {held} bytes of data follow it"
        )


def _read_npz(path, name):
    """The array called `name` in an .npz archive, or its only array."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"the file is not an .npz archive ({exc})") from None
    with archive:
        members = {member.removesuffix(".npy"): member for member in archive.namelist()}
        if name in members:
            key = name
        elif len(members) == 1:
            (key,) = members
        else:
            raise ValueError(
                f"the archive holds {len(members)} arrays ({', '.join(sorted(members))}); "
                f"it must hold exactly one, or one named {name!r}"
            )
        with archive.open(members[key]) as f:
            _check_npy_header(f, f"array {key!r}", archive.getinfo(members[key]).file_size)
            f.seek(0)
            return np.lib.format.read_array(f, allow_pickle=False)


def _physical_memory():
    """The bytes of memory of this machine, or None when the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _read_mtx(path):
    """A Matrix Market file, its header checked first: coordinate gives CSR."""
    rows, cols, entries, form, _, _ = scipy.io.mminfo(path)
    size = os.path.getsize(path)
    # An array entry takes 2 bytes or more ("0\n"; a symmetric array stores
    # half of them), a coordinate entry 4 or more ("1 1\n").
    if (entries if form == "array" else 4 * entries) > size:
        raise ValueError(
            f"the file is damaged: its header claims a {rows} x {cols} matrix with "
            f"{entries} entries, more than its {size} bytes can hold"
        )
    memory = _physical_memory()
    if form == "coordinate" and memory is not None and 8 * (rows + 1) > memory:
        raise ValueError(
            f"its header claims {rows} rows, whose CSR row pointers alone would take "
            f"{8 * (rows + 1)} bytes, more than the {memory} bytes of memory of this machine"
        )
    # scipy's reader (fast_matrix_market, in scipy 1.17.1) crashes the process
    # on a number cut short at the very end of a file without a final newline,
    # as a truncated file has: such a file is read from memory, newline added.
    source = path
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"\n":
            f.seek(0)
            source = io.BytesIO(f.read() + b"\n")
    matrix = scipy.io.mmread(source)
    return sp.csr_array(matrix) if sp.issparse(matrix) else matrix


def _read_array(path, name):
    """The array stored in a file, read according to its extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        with open(path, "rb") as f:
            _check_npy_header(f, "the file", os.fstat(f.fileno()).st_size)
        # Memory-mapped: randla reads it block by block, out of core.
        return np.load(path, mmap_mode="r", allow_pickle=False)
    if ext == ".npz":
        return _read_npz(path, name)
    if ext == ".csv":
        try:
            with open(path) as f:
                return np.loadtxt(f, delimiter=",", ndmin=2)
        except ValueError as exc:
            raise ValueError(
                f"not a numeric CSV file (numbers separated by commas, no header line): {exc}"
            ) from None
    return _read_mtx(path)


def read(path, name):
    """_read_array with every failure as one ValueError naming the argument and the file."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in _FORMATS:
        raise ValueError(
            f"{name} file {path} has an unknown extension {ext!r}; use one of {', '.join(_FORMATS)}"
        )
    try:
        return _read_array(path, name)
    except _READ_ERRORS as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else error_line(exc)
        raise ValueError(f"cannot read {name} from {path}: {reason}") from exc


def load_matrix(path, name):
    """A 2-D matrix from a .npy, .npz, .csv or .mtx file (.mtx coordinate: CSR)."""
    A = read(path, name)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {A.shape} in {path}")
    return A


def load_vector(path, name):
    """A vector from a .npy, .npz, .csv or .mtx file holding shape (n,) or (n, 1)."""
    v = read(path, name)
    if sp.issparse(v):
        v = v.toarray()
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(
            f"{name} must be a vector of shape (n,) or (n, 1), got shape {v.shape} in {path}"
        )
    return v


def error_line(exc):
    """An exception as one line, for ``randla: error: ...``."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split()) or type(exc).__name__


def check_output(output, inputs):
    """Refuse an output that is one of the input files, under any name or link.

    `inputs` holds (argument name, path) pairs; `output` may be None (no -o).
    """
    if not output:
        return
    for name, path in inputs:
        try:
            same = os.path.samefile(output, path)
        except OSError:
            continue  # no output yet, or no input (which reading reports)
        if same:
            raise ValueError(
                f"-o {output} is the input file {path} of {name}; writing it would "
                "destroy the input, so choose another output name"
            )


def write_npz(path, **arrays):
    """Write the arrays to `path` (exactly that name; numpy.savez would add .npz).

    The write is atomic: the archive goes to a temporary file in the same
    directory, which is synced to disk and then renamed over `path`
    (os.replace), so `path` holds either its old content or all of the new,
    even if the process is killed; the directory is synced for the rename to
    last. A symbolic link is followed and the file it names replaced; a new
    file gets the mode of the one it replaces, or 0o666 less the umask. A
    device or a pipe (``-o /dev/null``, ``-o /dev/stdout``) is written in place.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        before = None
    try:
        if before is not None and not stat.S_ISREG(before.st_mode):
            # Built in memory: zipfile seeks back, which /dev/null accepts and ignores.
            archive = io.BytesIO()
            np.savez(archive, **arrays)
            with open(path, "wb") as f:
                f.write(archive.getbuffer())
            return
        if before is not None and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "Permission denied")  # as open(path, "wb")
        _replace(os.path.realpath(path), before, partial(np.savez, **arrays))
    except OSError as exc:
        # Name the output, not a temporary file.
        raise OSError(exc.errno, exc.strerror or str(exc), path) from exc


def _replace(target, before, write):
    """Call write(f) on a temporary file, sync it and rename it to target."""
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, "wb") as f:
            if before is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(before.st_mode))
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def number(x):
    """A float for JSON; "inf", "-inf" or "nan" when not finite (strict JSON has none)."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def print_json(summary):
    """Print a summary as one line of strict JSON (its floats made by `number`)."""
    print(json.dumps(summary, allow_nan=False))


def input_summary(A, path):
    """The fields of a job's summary that describe the matrix A read from `path`."""
    summary = {"A": path, "shape": list(A.shape), "sparse": sp.issparse(A)}
    if sp.issparse(A):
        summary["nnz"] = int(A.nnz)
    return summary


def _in_randla(frame):
    return os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep)


def input_error(exc):
    """Whether exc is the fault of the input, the files or the system, not of the computation.

    An OSError is. A ValueError or TypeError is when a raise statement of
    randla raised it (one of its checks, with a message for the user); raised
    in numpy or scipy, or a LinAlgError, it is a failure of the computation.
    """
    if isinstance(exc, OSError):
        return True
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return (
        not isinstance(exc, np.linalg.LinAlgError)
        and _in_randla(frame)
        and frame.line.startswith("raise")
    )


def origin(exc):
    """file:line of the innermost frame in randla of exc's traceback, for a report."""
    frames = traceback.extract_tb(exc.__traceback__)
    frame = ([f for f in frames if _in_randla(f)] or frames)[-1]
    return f"{os.path.relpath(frame.filename, os.path.dirname(_PACKAGE))}:{frame.lineno}"

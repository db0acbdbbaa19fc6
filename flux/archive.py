"""The ``.npz`` archive format of `flux.save`: named arrays written and read without pickles, with
every array's declared shape and size checked before any of its data is read.

An ``.npz`` file is a zip archive with one ``NAME.npy`` member per array. `write_arrays`
writes the members itself rather than through ``np.savez``, whose keyword arguments would
swallow an array named ``allow_pickle`` (or ``file``). `read_headers` reads only each
member's header, so a file that declares a ``(2**40,)`` array, or more bytes than it holds,
is refused before memory is spent on it.
"""

import math
import zipfile

import numpy as np

__all__ = ["ArchiveError", "write_arrays", "read_headers", "read_array", "Header"]

MAX_HEADER = 10_000   # numpy's own limit on the text of an .npy header


class ArchiveError(ValueError):
    """An archive is not a readable ``.npz`` of plain arrays."""


class Header:
    """What an ``.npz`` member declares: its array's ``shape`` and ``dtype``, and where it lies."""

    def __init__(self, member, shape, dtype, fortran_order):
        self.member, self.shape, self.dtype = member, shape, dtype
        self.fortran_order = fortran_order

    @property
    def nbytes(self):
        return math.prod(self.shape) * self.dtype.itemsize


def write_arrays(stream, arrays):
    """Write ``{name: array}`` to the binary ``stream`` as an uncompressed ``.npz`` archive.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_arrays(buffer, {"allow_pickle": np.ones(2)})
    >>> np.load(io.BytesIO(buffer.getvalue()))["allow_pickle"]
    array([1., 1.])
    """
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def read_header(archive, info):
    """The `Header` of one member, checked against the member's size; `ArchiveError` if not."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(
                member, max_header_size=MAX_HEADER)
        else:
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(
                member, max_header_size=MAX_HEADER)
        offset = member.tell()
    if dtype.hasobject:
        raise ArchiveError(f"{info.filename} holds Python objects (a pickle), which are "
                           f"never loaded")
    header = Header(info, shape, dtype, fortran_order)
    if header.nbytes != info.file_size - offset:
        raise ArchiveError(f"{info.filename} declares shape {shape} of {dtype} "
                           f"({header.nbytes} bytes) but holds {info.file_size - offset}")
    return header


def read_headers(path):
    """``{name: Header}`` for every array of the archive at ``path``, reading no array data.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> write_arrays(buffer, {"w": np.zeros((2, 3), np.float32)})
    >>> read_headers(buffer)["w"].shape
    (2, 3)
    """
    try:
        with zipfile.ZipFile(path) as archive:
            headers = {}
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ArchiveError(f"member {info.filename} is not an .npy array")
                headers[info.filename[:-4]] = read_header(archive, info)
            return headers
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        if isinstance(error, ArchiveError):
            raise
        raise ArchiveError(str(error)) from error


def read_array(path, header):
    """The array a `Header` from ``read_headers(path)`` declares."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(header.member) as member:
            return np.lib.format.read_array(member, allow_pickle=False,
                                            max_header_size=MAX_HEADER)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ArchiveError(f"{header.member.filename}: {error}") from error

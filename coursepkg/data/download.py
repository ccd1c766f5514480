"""Downloaders for MNIST, Fashion-MNIST and CIFAR-10, for readers who are online.

Nothing in the course *needs* them: every chapter runs offline on :func:`coursepkg.data.load_digits`,
:func:`coursepkg.data.make_shapes` and the other shipped data. Online, the files are downloaded once
into a cache folder, checked against their published SHA-256 and parsed with NumPy (IDX gzip files for
the MNISTs, the pickled batches of the CIFAR-10 tarball).

Cache folder: ``cache_dir`` if given, else ``$COURSEPKG_DATA``, else ``~/.cache/coursepkg``; each data
set has a sub-folder (``mnist/``, ``fashion_mnist/``, ``cifar10/``). Offline, copy the original files
there by hand and the functions use them without touching the network. When a file can be neither
found nor downloaded they raise :class:`DatasetUnavailableError`, which names the URLs tried, why each
failed, the folder to put the files in, and the offline alternatives.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import pickle
import re
import struct
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .digits import DataSplit

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "DatasetUnavailableError",
    "download_cifar10",
    "download_fashion_mnist",
    "download_mnist",
    "get_cache_dir",
    "read_idx",
]

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
)

# name -> (mirrors tried in order, {file name: published SHA-256})
_SOURCES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "mnist": (
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        {
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
    "fashion_mnist": (
        (
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        {
            "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
            "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
            "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
            "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
        },
    ),
    "cifar10": (
        ("https://www.cs.toronto.edu/~kriz/",),
        {"cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"},
    ),
}
_OFFLINE_HINT = {
    "mnist": "coursepkg.data.load_digits(size=28) (1797 MNIST-like digits shipped with scikit-learn)",
    "fashion_mnist": "coursepkg.data.load_digits(size=28) (1797 MNIST-like digits shipped with scikit-learn) "
    "or coursepkg.data.make_shapes(size=28)",
    "cifar10": "coursepkg.data.make_shapes(size=32, channels=3) (coloured synthetic shapes) or "
    "coursepkg.data.load_image(...) (photographs shipped with scikit-image)",
}


class DatasetUnavailableError(ConnectionError):
    """A data set could be neither found in the cache nor downloaded.

    A :class:`ConnectionError` (hence an :class:`OSError`). The message says which URLs were tried and
    why each failed, where to place the files by hand, and which offline data set to use instead.

    Attributes
    ----------
    urls : tuple of str
        The URLs tried.
    folder : pathlib.Path or None
        The cache folder where the files are looked for.
    """

    def __init__(self, message: str, *, urls: tuple[str, ...] = (), folder: Path | None = None) -> None:
        super().__init__(message)
        self.urls = urls
        self.folder = folder


def get_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The root of the download cache: ``cache_dir``, else ``$COURSEPKG_DATA``, else ``~/.cache/coursepkg``.

    Nothing is created; the downloaders create ``<root>/<data set>/`` when they need it.
    """
    if cache_dir is None:
        cache_dir = os.environ.get("COURSEPKG_DATA") or Path("~") / ".cache" / "coursepkg"
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"get_cache_dir: `cache_dir` must be a path or None. Received: cache_dir={cache_dir!r}.")
    return Path(cache_dir).expanduser()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, dest: Path, sha256: str | None, timeout: float, progress: bool) -> None:
    """Stream ``url`` into a temporary file next to ``dest``, check it, then rename it to ``dest``."""
    import urllib.request  # lazy: pulls in http.client and ssl

    request = urllib.request.Request(url, headers={"User-Agent": "coursepkg (course data downloader)"})
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            expected = int(length) if length and length.isdigit() else None
            bar = None
            if progress:
                from tqdm.auto import tqdm  # lazy, and only when asked for

                bar = tqdm(total=expected, unit="B", unit_scale=True, desc=dest.name, leave=False)
            try:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        if expected is not None and received != expected:
            raise OSError(f"truncated download: received {received} of {expected} bytes")
        if sha256 is not None and digest.hexdigest() != sha256:
            raise OSError(f"SHA-256 mismatch: expected {sha256}, got {digest.hexdigest()}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(
    func: str,
    dataset: str,
    *,
    cache_dir: Any,
    base_url: str | None,
    verify: bool | None,
    timeout: float,
    progress: bool,
) -> dict[str, Path]:
    """Return the local paths of ``dataset``'s files, downloading the missing ones."""
    mirrors, checksums = _SOURCES[dataset]
    if base_url is not None:
        if not isinstance(base_url, str) or not re.match(r"^(https?|file)://", base_url):
            raise ValueError(
                f"{func}: `base_url` must be an http://, https:// or file:// URL of the folder holding "
                f"{', '.join(checksums)}. Received: base_url={base_url!r}."
            )
        mirrors = (base_url if base_url.endswith("/") else base_url + "/",)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{func}: `timeout` must be a number of seconds. Received: timeout={timeout!r}.")
    if not timeout > 0:
        raise ValueError(f"{func}: `timeout` must be a positive number of seconds. Received: timeout={timeout!r}.")
    if verify is None:
        verify = base_url is None  # the published checksums describe the official files
    folder = get_cache_dir(cache_dir) / dataset
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            f"{func}: cannot create the cache folder {folder} ({exc}). Pass cache_dir=... or set the "
            "COURSEPKG_DATA environment variable to a writable folder."
        ) from exc
    import urllib.error
    from http.client import HTTPException

    paths: dict[str, Path] = {}
    for name, sha in checksums.items():
        path = folder / name
        expected = sha if verify else None
        if path.is_file() and (expected is None or _sha256(path) == expected):
            paths[name] = path
            continue
        failures: list[str] = []
        for mirror in mirrors:
            url = mirror + name
            try:
                _download(url, path, expected, timeout, progress)
            except (OSError, HTTPException, ValueError) as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    exc.close()  # an HTTPError holds the open response (and its socket)
                plain = isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError)
                cause = exc.reason if plain else exc  # URLError wraps the socket error in .reason
                failures.append(f"  {url}: {type(exc).__name__}: {cause}")
                continue
            paths[name] = path
            break
        else:
            urls = tuple(m + name for m in mirrors)
            if path.is_file():
                failures.append(f"  (the copy already in {folder} does not match the published SHA-256)")
            raise DatasetUnavailableError(
                f"{func}: could not download {name}:\n" + "\n".join(failures) + "\n"
                f"If you are offline, download the files {', '.join(checksums)} elsewhere and copy them "
                f"into {folder} (set COURSEPKG_DATA or pass cache_dir=... to use another folder). "
                f"Or use the data that ships with the course: {_OFFLINE_HINT[dataset]}.",
                urls=urls,
                folder=folder,
            )
    return paths


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the format of MNIST and Fashion-MNIST), gzipped or not.

    The format: two zero bytes, a type code (0x08 = uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions ``d``, then ``d`` big-endian uint32 sizes,
    then the data in C order, big-endian.

    Returns
    -------
    ndarray of shape given by the header, in native byte order.

    Raises
    ------
    ValueError
        If the file is not a well-formed IDX file (the message suggests deleting it).
    """
    path = Path(path)
    with path.open("rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":  # gzip magic
        raw = gzip.decompress(raw)
    fix = f"Delete {path} and download it again."
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad header {raw[:4]!r}). {fix}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header. {fix}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(
            f"read_idx: {path} holds {len(raw) - header} data bytes but its header announces shape {shape} "
            f"of {dtype.name} ({count * dtype.itemsize} bytes). {fix}"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _idx_split(paths: dict[str, Path]) -> DataSplit:
    arrays = {name: read_idx(path) for name, path in paths.items()}
    out = []
    for prefix in ("train", "t10k"):
        images = arrays[f"{prefix}-images-idx3-ubyte.gz"]  # (N, H, W) uint8
        labels = arrays[f"{prefix}-labels-idx1-ubyte.gz"]  # (N,)
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{prefix} images of shape {images.shape} do not match labels of shape {labels.shape}; "
                f"delete the files in {next(iter(paths.values())).parent} and download them again."
            )
        out += [(images[:, None] / np.float32(255)).astype(np.float32), labels.astype(np.int64)]  # (N, 1, H, W)
    return DataSplit(*out)


def download_mnist(
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    verify: bool | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> DataSplit:
    """MNIST: 60 000 training and 10 000 test handwritten digits, 28x28 grey (LeCun et al., 1998).

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Root of the cache (default ``$COURSEPKG_DATA``, else ``~/.cache/coursepkg``); the files go in
        its ``mnist/`` sub-folder. Files already there are used without network access.
    base_url : str, optional
        An ``http(s)://`` or ``file://`` folder URL to download from instead of the official mirrors.
    verify : bool, optional
        Check the files against their published SHA-256. Default: yes for the official mirrors, no for
        a custom ``base_url`` (whose files the checksums may not describe).
    timeout : float, default 30
        Seconds to wait for a server before trying the next mirror.
    progress : bool, default True
        Show a tqdm progress bar while downloading.

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``: images of shape (N, 1, 28, 28), float32 in [0, 1]; labels of
        shape (N,), int64 (the digit, 0-9).

    Raises
    ------
    DatasetUnavailableError
        If a file is neither in the cache nor downloadable (offline, server down, checksum mismatch);
        the message says where to place the files by hand and what to use offline.
    """
    options = dict(cache_dir=cache_dir, base_url=base_url, verify=verify, timeout=timeout, progress=progress)
    paths = _fetch("download_mnist", "mnist", **options)
    return _idx_split(paths)


def download_fashion_mnist(
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    verify: bool | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> DataSplit:
    """Fashion-MNIST: 60 000 + 10 000 photos of clothes, 28x28 grey, 10 classes (Xiao et al., 2017).

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Root of the cache (default ``$COURSEPKG_DATA``, else ``~/.cache/coursepkg``); the files go in
        its ``fashion_mnist/`` sub-folder. Files already there are used without network access.
    base_url : str, optional
        An ``http(s)://`` or ``file://`` folder URL to download from instead of the official mirrors.
    verify : bool, optional
        Check the files against their published SHA-256. Default: yes for the official mirrors, no for
        a custom ``base_url`` (whose files the checksums may not describe).
    timeout : float, default 30
        Seconds to wait for a server before trying the next mirror.
    progress : bool, default True
        Show a tqdm progress bar while downloading.

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``: images of shape (N, 1, 28, 28), float32 in [0, 1]; labels of
        shape (N,), int64 (indices into FASHION_MNIST_CLASSES).

    Raises
    ------
    DatasetUnavailableError
        If a file is neither in the cache nor downloadable (offline, server down, checksum mismatch);
        the message says where to place the files by hand and what to use offline.
    """
    options = dict(cache_dir=cache_dir, base_url=base_url, verify=verify, timeout=timeout, progress=progress)
    paths = _fetch("download_fashion_mnist", "fashion_mnist", **options)
    return _idx_split(paths)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickle dicts, lists and NumPy arrays only: a pickle from a mirror cannot run code."""

    _reconstruct = np.ndarray((0,)).__reduce__()[0]  # numpy's _reconstruct, wherever this version keeps it
    _scalar = np.float64(0).__reduce__()[0]
    _allowed = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.multiarray", "scalar"): _scalar,
        ("numpy._core.multiarray", "scalar"): _scalar,
        ("_codecs", "encode"): codecs.encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a CIFAR batch: only NumPy arrays are expected"
            ) from None


def _cifar_split(path: Path) -> DataSplit:
    batches: dict[str, dict] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and re.fullmatch(r"data_batch_\d+|test_batch", base):
                raw = tar.extractfile(member).read()  # read in memory: nothing is extracted to disk
                batches[base] = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    train_names = sorted((b for b in batches if b != "test_batch"), key=lambda b: int(b.rsplit("_", 1)[1]))
    if not train_names or "test_batch" not in batches:
        raise ValueError(
            f"{path} does not hold the CIFAR-10 python batches (data_batch_1..5 and test_batch). "
            "Delete it and download it again."
        )

    def stack(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        data = np.concatenate([np.asarray(batches[b][b"data"], dtype=np.uint8) for b in names])  # (N, 3072)
        labels = np.concatenate([np.asarray(batches[b][b"labels"], dtype=np.int64) for b in names])  # (N,)
        images = data.reshape(-1, 3, 32, 32)  # rows store 1024 R, 1024 G, 1024 B values: already (N, C, H, W)
        return (images / np.float32(255)).astype(np.float32), labels

    x_train, y_train = stack(train_names)
    x_test, y_test = stack(["test_batch"])
    return DataSplit(x_train, y_train, x_test, y_test)


def download_cifar10(
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    verify: bool | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> DataSplit:
    """CIFAR-10: 50 000 training and 10 000 test colour photos, 32x32, 10 classes (Krizhevsky, 2009).

    The 163 MiB python tarball is read in memory (nothing is extracted to disk) and its pickles are
    loaded by an unpickler that accepts NumPy arrays only, so a file from a mirror cannot run code.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Root of the cache (default ``$COURSEPKG_DATA``, else ``~/.cache/coursepkg``); the files go in
        its ``cifar10/`` sub-folder. Files already there are used without network access.
    base_url : str, optional
        An ``http(s)://`` or ``file://`` folder URL to download from instead of the official mirrors.
    verify : bool, optional
        Check the files against their published SHA-256. Default: yes for the official mirrors, no for
        a custom ``base_url`` (whose files the checksums may not describe).
    timeout : float, default 30
        Seconds to wait for a server before trying the next mirror.
    progress : bool, default True
        Show a tqdm progress bar while downloading.

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``: images of shape (N, 3, 32, 32), float32 in [0, 1]; labels of
        shape (N,), int64 (indices into CIFAR10_CLASSES).

    Raises
    ------
    DatasetUnavailableError
        If a file is neither in the cache nor downloadable (offline, server down, checksum mismatch);
        the message says where to place the files by hand and what to use offline.
    """
    options = dict(cache_dir=cache_dir, base_url=base_url, verify=verify, timeout=timeout, progress=progress)
    paths = _fetch("download_cifar10", "cifar10", **options)
    return _cifar_split(paths["cifar-10-python.tar.gz"])

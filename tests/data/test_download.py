"""Tests for coursepkg.data.download, entirely offline.

A real HTTP server on the loopback interface (port chosen by the OS) serves small IDX and CIFAR files
that the tests write; nothing here reaches the internet.
"""

import gzip
import http.server
import io
import os
import pickle
import re
import struct
import tarfile
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from coursepkg.data.digits import DataSplit
from coursepkg.data.download import (
    DatasetUnavailableError,
    download_cifar10,
    download_fashion_mnist,
    download_mnist,
    get_cache_dir,
    read_idx,
)

CLOSED_PORT_URL = "http://127.0.0.1:9/"  # the discard port: nothing listens there
IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Loopback requests must not be sent to a proxy configured in the environment."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


class Server:
    """A static file server on 127.0.0.1 that counts the requests it answers."""

    def __init__(self, root: Path):
        self.hits: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    srv = Server(root)
    srv.root = root
    yield srv
    srv.close()


def write_idx(path: Path, array: np.ndarray, code: int = 0x08, compress: bool = True) -> None:
    """Write ``array`` in the IDX format, independently of the code under test."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    raw = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += np.ascontiguousarray(array, dtype=dtype).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def make_idx_set(folder: Path, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 5, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        write_idx(folder / name, arr)
    return arrays


def check_idx_split(split, arrays):
    assert isinstance(split, DataSplit)
    x_tr, y_tr, x_te, y_te = split
    assert x_tr.shape == (5, 1, 28, 28) and x_te.shape == (3, 1, 28, 28)
    assert x_tr.dtype == x_te.dtype == np.float32 and y_tr.dtype == y_te.dtype == np.int64
    np.testing.assert_array_equal(x_tr[:, 0], arrays["train-images-idx3-ubyte.gz"].astype(np.float32) / 255)
    np.testing.assert_array_equal(x_te[:, 0], arrays["t10k-images-idx3-ubyte.gz"].astype(np.float32) / 255)
    np.testing.assert_array_equal(y_tr, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(y_te, arrays["t10k-labels-idx1-ubyte.gz"])


# --- offline: a clear error ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("download", "sub", "file", "hint"),
    [
        (download_mnist, "mnist", "train-images-idx3-ubyte.gz", r"load_digits\(size=28\)"),
        (download_fashion_mnist, "fashion_mnist", "train-images-idx3-ubyte.gz", r"load_digits\(size=28\)"),
        (download_cifar10, "cifar10", "cifar-10-python.tar.gz", r"make_shapes\(size=32, channels=3\)"),
    ],
)
def test_unreachable_server_raises_a_helpful_error(tmp_path, download, sub, file, hint):
    with pytest.raises(DatasetUnavailableError) as info:
        download(cache_dir=tmp_path, base_url=CLOSED_PORT_URL, timeout=5, progress=False)
    err = info.value
    assert isinstance(err, ConnectionError) and isinstance(err, OSError)
    message = str(err)
    url = CLOSED_PORT_URL + file
    assert f"could not download {file}" in message
    assert url in message and "refused" in message.lower()  # the URL and the cause
    assert str(tmp_path / sub) in message  # where to put the files by hand
    assert "COURSEPKG_DATA" in message
    assert re.search(hint, message), message  # the offline alternative
    assert err.urls == (url,) and err.folder == tmp_path / sub


def test_error_names_the_cache_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEPKG_DATA", str(tmp_path / "from-env"))
    with pytest.raises(DatasetUnavailableError, match=r"copy them into .*from-env[/\\]mnist"):
        download_mnist(base_url=CLOSED_PORT_URL, timeout=5, progress=False)


def test_files_placed_by_hand_are_used_without_network(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = make_idx_set(folder)
    split = download_mnist(cache_dir=tmp_path, base_url=CLOSED_PORT_URL, progress=False)
    check_idx_split(split, arrays)


def test_missing_file_on_server_reports_http_404(tmp_path, server):
    make_idx_set(server.root)
    (server.root / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetUnavailableError, match=r"t10k-labels-idx1-ubyte.gz: HTTPError: HTTP Error 404"):
        download_mnist(cache_dir=tmp_path / "cache", base_url=server.url, progress=False)
    # the three files that did arrive are cached; no partial file is left behind
    cached = sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir())
    assert cached == sorted(IDX_NAMES[:3])


def test_checksum_mismatch_is_rejected(tmp_path, server):
    make_idx_set(server.root)
    with pytest.raises(DatasetUnavailableError, match=r"SHA-256 mismatch: expected 440fcabf"):
        download_mnist(cache_dir=tmp_path, base_url=server.url, verify=True, progress=False)
    assert list((tmp_path / "mnist").iterdir()) == []  # the bad download was not kept


def test_cached_file_with_wrong_checksum_is_reported(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    make_idx_set(folder)
    with pytest.raises(DatasetUnavailableError, match=r"does not match the published SHA-256"):
        download_mnist(cache_dir=tmp_path, base_url=CLOSED_PORT_URL, verify=True, timeout=5, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"base_url": "ftp://example.org/"}, ValueError, r"`base_url` must be an http://, https:// or file://"),
        ({"base_url": "127.0.0.1:9"}, ValueError, r"Received: base_url='127.0.0.1:9'"),
        ({"timeout": 0}, ValueError, r"`timeout` must be a positive number of seconds. Received: timeout=0"),
        ({"timeout": "5"}, TypeError, r"`timeout` must be a number of seconds"),
        ({"cache_dir": 3}, TypeError, r"`cache_dir` must be a path or None"),
    ],
)
def test_argument_errors(tmp_path, kwargs, error, match):
    kwargs = {"cache_dir": tmp_path, "base_url": CLOSED_PORT_URL, "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        download_mnist(**kwargs)


def test_get_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSEPKG_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_cache_dir() == tmp_path / ".cache" / "coursepkg"
    monkeypatch.setenv("COURSEPKG_DATA", str(tmp_path / "data"))
    assert get_cache_dir() == tmp_path / "data"
    assert get_cache_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert get_cache_dir("~/x") == tmp_path / "x"


# --- a loopback server: download, parse, cache -----------------------------------------------------


@pytest.mark.parametrize(("download", "sub"), [(download_mnist, "mnist"), (download_fashion_mnist, "fashion_mnist")])
def test_idx_download_round_trip_and_cache(tmp_path, server, download, sub):
    arrays = make_idx_set(server.root, seed=1)
    cache = tmp_path / "cache"
    check_idx_split(download(cache_dir=cache, base_url=server.url, progress=False), arrays)
    assert sorted(server.hits) == sorted("/" + n for n in IDX_NAMES)
    assert sorted(p.name for p in (cache / sub).iterdir()) == sorted(IDX_NAMES)
    # second call: served from the cache, the server sees no new request
    check_idx_split(download(cache_dir=cache, base_url=server.url, progress=False), arrays)
    assert len(server.hits) == 4


def test_progress_bar_does_not_change_the_result(tmp_path, server):
    arrays = make_idx_set(server.root, seed=2)
    base = server.url.rstrip("/")  # a base URL without the trailing slash works too
    check_idx_split(download_mnist(cache_dir=tmp_path, base_url=base, progress=True), arrays)


def test_file_url_base(tmp_path):
    source = tmp_path / "usb-stick"
    source.mkdir()
    arrays = make_idx_set(source, seed=3)
    check_idx_split(download_mnist(cache_dir=tmp_path / "cache", base_url=source.as_uri(), progress=False), arrays)


def make_cifar_tarball(path: Path, seed: int = 0, per_batch: int = 2, n_test: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        n = n_test if name == "test_batch" else per_batch
        batches[name] = {
            b"batch_label": name.encode(),
            b"labels": rng.integers(0, 10, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [f"img{i}.png".encode() for i in range(n)],
        }
    with tarfile.open(path, "w:gz") as tar:
        for name, batch in [("batches.meta", {b"label_names": [b"airplane"]}), *batches.items()]:
            raw = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return batches


def test_cifar_download_round_trip_and_cache(tmp_path, server):
    batches = make_cifar_tarball(server.root / "cifar-10-python.tar.gz")
    cache = tmp_path / "cache"
    x_tr, y_tr, x_te, y_te = download_cifar10(cache_dir=cache, base_url=server.url, progress=False)
    assert x_tr.shape == (10, 3, 32, 32) and x_te.shape == (3, 3, 32, 32)
    assert x_tr.dtype == np.float32 and y_tr.dtype == y_te.dtype == np.int64
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]  # in batch order
    data = np.concatenate([b[b"data"] for b in train])
    np.testing.assert_array_equal(x_tr, data.reshape(10, 3, 32, 32).astype(np.float32) / 255)
    np.testing.assert_array_equal(y_tr, sum((b[b"labels"] for b in train), []))
    np.testing.assert_array_equal(x_te.reshape(3, -1), batches["test_batch"][b"data"].astype(np.float32) / 255)
    np.testing.assert_array_equal(y_te, batches["test_batch"][b"labels"])
    # channel planes: the first 1024 bytes of a row are the red plane, row-major
    np.testing.assert_array_equal(x_tr[0, 0, 1, :], data[0, 32:64].astype(np.float32) / 255)
    assert server.hits == ["/cifar-10-python.tar.gz"]
    download_cifar10(cache_dir=cache, base_url=server.url, progress=False)
    assert server.hits == ["/cifar-10-python.tar.gz"]
    assert (cache / "cifar10" / "cifar-10-python.tar.gz").is_file()


class Exploit:
    def __reduce__(self):
        return (os.getcwd, ())


def test_cifar_pickles_cannot_run_code(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    raw = pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2)
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load posix.getcwd|refusing to load nt.getcwd"):
        download_cifar10(cache_dir=tmp_path, base_url=CLOSED_PORT_URL, progress=False)


def test_cifar_tarball_without_batches(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("readme.html")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ValueError, match=r"does not hold the CIFAR-10 python batches.*Delete it"):
        download_cifar10(cache_dir=tmp_path, base_url=CLOSED_PORT_URL, progress=False)


# --- the IDX reader --------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize(("code", "dtype"), [(0x08, np.uint8), (0x0C, np.int32), (0x0D, np.float32)])
def test_read_idx_types_and_byte_order(tmp_path, compress, code, dtype):
    arr = (np.arange(24).reshape(2, 3, 4) * 7 - (0 if dtype == np.uint8 else 50)).astype(dtype)
    write_idx(tmp_path / "a.idx", arr, code=code, compress=compress)
    out = read_idx(tmp_path / "a.idx")
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_hand_bytes(tmp_path):
    # int32 (0x0C), two dimensions 1 x 2, values 1 and 258, big-endian
    (tmp_path / "h.idx").write_bytes(bytes([0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2]))
    assert read_idx(tmp_path / "h.idx").tolist() == [[1, 258]]


def test_read_idx_errors(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match=r"is not an IDX file \(bad header b'<htm'\).*Delete"):
        read_idx(tmp_path / "bad.idx")
    write_idx(tmp_path / "short.idx", np.zeros((2, 3), np.uint8))
    raw = gzip.decompress((tmp_path / "short.idx").read_bytes())[:-1]
    (tmp_path / "short.idx").write_bytes(raw)
    with pytest.raises(ValueError, match=r"holds 5 data bytes but its header announces shape \(2, 3\)"):
        read_idx(tmp_path / "short.idx")


def test_error_survives_pickling():
    err = DatasetUnavailableError("offline", urls=("http://x/a",), folder=Path("/tmp/c"))
    copy = pickle.loads(pickle.dumps(err))
    assert isinstance(copy, DatasetUnavailableError) and str(copy) == "offline"

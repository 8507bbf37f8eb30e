"""The course's two datasets, found offline when possible and verified before use.

Lookup order for every dataset:

1. ``$COURSE_DATA_DIR`` - an offline mirror folder holding ``shakespeare.txt`` and
   ``aclImdb_v1.tar.gz`` (classrooms without internet, CI);
2. the per-user cache, ``$COURSE_CACHE_DIR`` or else ``$XDG_CACHE_HOME/seqmodels-course``
   (``~/.cache/seqmodels-course`` by default);
3. a download from the public URL with a progress bar (``keras.utils.get_file``), into the cache.

Integrity: tiny Shakespeare is checked by sha256. The IMDB archive is checked by content (the
number of reviews in every folder), because mirrors repack it. Anything damaged in the cache is
deleted before the error is raised, so the next call starts clean. Downloads and cache writes go
to a temporary name first and are renamed into place, under a lock, so two notebooks loading at
once never see (or leave) a half-written file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:  # POSIX file locks; on other systems concurrent first loads are simply not guarded
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = [
    "DATASETS",
    "IMDB_SPLITS",
    "DatasetDamagedError",
    "DatasetUnavailableError",
    "cache_dir",
    "data_source",
    "load_imdb",
    "load_shakespeare",
]


@dataclass(frozen=True)
class Dataset:
    name: str
    filename: str
    url: str
    sha256: str | None  # None: verified by content instead


DATASETS = {
    "shakespeare": Dataset(
        name="tiny Shakespeare",
        filename="shakespeare.txt",
        url="https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
    "imdb": Dataset(
        name="IMDB Large Movie Review Dataset v1.0",
        filename="aclImdb_v1.tar.gz",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256=None,
    ),
}

#: Reviews per folder of the IMDB archive; the archive is complete when every count matches.
IMDB_FOLDERS = {
    ("train", "neg"): 12_500,
    ("train", "pos"): 12_500,
    ("test", "neg"): 12_500,
    ("test", "pos"): 12_500,
    ("train", "unsup"): 50_000,
}
_LABELS = {"neg": 0, "pos": 1, "unsup": -1}
IMDB_SPLITS = ("train", "test", "unsup")

#: Version of the parsed-reviews cache format; bump it when the layout changes.
_IMDB_CACHE_NAME = "imdb_reviews_v1.npz"
#: Seconds a download may wait on the network before giving up (offline machines fail fast).
DOWNLOAD_TIMEOUT = 20.0


class DatasetUnavailableError(RuntimeError):
    """No mirror, no cache, and the download failed (usually: no internet)."""


class DatasetDamagedError(RuntimeError):
    """A dataset file exists but is not what it should be (checksum or content)."""


# --------------------------------------------------------------------------------------------
# Where things live
# --------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The per-user cache folder (created on first use)."""
    explicit = os.environ.get("COURSE_CACHE_DIR")
    if explicit:
        path = Path(explicit).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base).expanduser() / "seqmodels-course"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _mirror_path(key: str) -> Path | None:
    mirror = os.environ.get("COURSE_DATA_DIR")
    if not mirror:
        return None
    path = Path(mirror).expanduser() / DATASETS[key].filename
    return path if path.is_file() else None


def data_source(key: str) -> str:
    """Where ``key`` ("shakespeare" or "imdb") would be read from now, without reading it.

    One of ``"mirror (COURSE_DATA_DIR)"``, ``"cache"``, ``"download"``. No paths, so that a
    notebook can print it on any machine.
    """
    _check_key(key)
    if _mirror_path(key) is not None:
        return "mirror (COURSE_DATA_DIR)"
    cached = cache_dir() / DATASETS[key].filename
    if cached.is_file() or (key == "imdb" and (cache_dir() / _IMDB_CACHE_NAME).is_file()):
        return "cache"
    return "download"


def _check_key(key: str) -> None:
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {key!r}; expected one of {sorted(DATASETS)}")


@contextlib.contextmanager
def _locked(name: str):
    """Hold an exclusive lock on ``<cache>/.<name>.lock`` (waits for another process)."""
    lock_path = cache_dir() / f".{name}.lock"
    with open(lock_path, "a+") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(path: Path, origin: str) -> str:
    where = {"mirror": "mirror file", "cache": "cache file", "download": "just-downloaded cache file"}
    return f"{where[origin]} {path}"


# --------------------------------------------------------------------------------------------
# Fetching a file: mirror, cache, download
# --------------------------------------------------------------------------------------------


def _download(key: str, target: Path) -> None:
    """Download ``key`` to ``target`` atomically: a temporary folder, then a rename."""
    import keras  # only needed for downloads; keeps `import course_utils.data` light

    ds = DATASETS[key]
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{key}-download-", dir=target.parent))
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        try:
            fetched = keras.utils.get_file(
                fname=ds.filename,
                origin=ds.url,
                file_hash=ds.sha256,
                hash_algorithm="sha256",
                cache_dir=str(tmp_dir),
                cache_subdir="",
            )
        except ValueError as err:  # get_file's checksum failure
            raise DatasetDamagedError(
                f"the download of {ds.name} from {ds.url} is damaged ({err}); nothing was kept. "
                "Try again, or set COURSE_DATA_DIR to a folder with a good copy."
            ) from None
        except Exception as err:
            raise DatasetUnavailableError(
                f"cannot get {ds.name}: no offline mirror (COURSE_DATA_DIR is "
                f"{'unset' if not os.environ.get('COURSE_DATA_DIR') else 'set but has no ' + ds.filename}), "
                f"nothing in the cache ({cache_dir()}), and the download from {ds.url} failed "
                f"({err}). Fix: connect to the internet, or set COURSE_DATA_DIR to a folder "
                f"holding {ds.filename} (an instructor's USB stick or shared drive)."
            ) from None
        os.replace(fetched, target)
    finally:
        socket.setdefaulttimeout(previous_timeout)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _fetch(key: str) -> tuple[Path, str]:
    """Path of ``key``'s file and where it came from: "mirror", "cache" or "download"."""
    mirror = _mirror_path(key)
    if mirror is not None:
        return mirror, "mirror"
    target = cache_dir() / DATASETS[key].filename
    if target.is_file():
        return target, "cache"
    with _locked(key):
        if target.is_file():  # another process finished the download while we waited
            return target, "cache"
        _download(key, target)
    return target, "download"


def _discard_if_cached(path: Path, origin: str) -> str:
    """Delete a damaged file if it is ours (cache or download); never touch a mirror."""
    if origin == "mirror":
        return "The mirror was left as it is: replace that file with a good copy."
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return "It was deleted from the cache; the next call fetches a fresh copy."


# --------------------------------------------------------------------------------------------
# Tiny Shakespeare
# --------------------------------------------------------------------------------------------


def load_shakespeare() -> str:
    """Tiny Shakespeare as one string (1,115,394 characters), verified by sha256."""
    ds = DATASETS["shakespeare"]
    path, origin = _fetch("shakespeare")
    actual = _sha256(path)
    if actual != ds.sha256:
        what = _describe(path, origin)
        advice = _discard_if_cached(path, origin)
        raise DatasetDamagedError(
            f"{ds.name} is damaged: the {what} has sha256 {actual}, expected {ds.sha256} "
            f"(the file {ds.url} serves). {advice}"
        )
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# IMDB reviews
# --------------------------------------------------------------------------------------------

_MEMBER = re.compile(r"^aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")


def _parse_imdb_archive(path: Path) -> dict[str, np.ndarray]:
    """Read every review straight from the .tar.gz (no extraction to disk).

    Returns arrays ready for ``np.savez``: per split the UTF-8 bytes of all reviews, their end
    offsets and labels, in a fixed order (negative then positive, by review id) that does not
    depend on how the archive was packed.
    """
    found: dict[tuple[str, str], list[tuple[int, bytes]]] = {k: [] for k in IMDB_FOLDERS}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            match = _MEMBER.match(member.name)
            if not match or not member.isfile():
                continue
            split, folder, review_id, _rating = match.groups()
            if (split, folder) not in found:
                continue
            handle = archive.extractfile(member)
            found[(split, folder)].append((int(review_id), handle.read()))

    wrong = {
        f"{s}/{f}": len(found[(s, f)])
        for (s, f), expected in IMDB_FOLDERS.items()
        if len(found[(s, f)]) != expected
    }
    if wrong:
        expected = {f"{s}/{f}": n for (s, f), n in IMDB_FOLDERS.items()}
        raise DatasetDamagedError(f"review counts {wrong} differ from the expected {expected}")

    arrays: dict[str, np.ndarray] = {}
    for split in IMDB_SPLITS:
        folders = ["unsup"] if split == "unsup" else ["neg", "pos"]
        source_split = "train" if split == "unsup" else split
        blobs, labels = [], []
        for folder in folders:
            for _, raw in sorted(found[(source_split, folder)], key=lambda item: item[0]):
                blobs.append(raw)
                labels.append(_LABELS[folder])
        arrays[f"{split}_text"] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        arrays[f"{split}_ends"] = np.cumsum([len(b) for b in blobs], dtype=np.int64)
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.int8)
    return arrays


def _write_atomically(arrays: dict[str, np.ndarray], target: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".npz", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; a shared classroom cache is fine
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


_memo: dict[str, dict[str, np.ndarray]] = {}


def _imdb_split_sizes() -> dict[str, int]:
    """Reviews per split implied by IMDB_FOLDERS (25,000 / 25,000 / 50,000)."""
    return {
        "train": IMDB_FOLDERS[("train", "neg")] + IMDB_FOLDERS[("train", "pos")],
        "test": IMDB_FOLDERS[("test", "neg")] + IMDB_FOLDERS[("test", "pos")],
        "unsup": IMDB_FOLDERS[("train", "unsup")],
    }


def _read_parsed_cache(target: Path) -> dict[str, np.ndarray] | None:
    """The parsed-reviews cache, or None if it is missing or not complete (then deleted)."""
    if not target.is_file():
        return None
    try:
        with np.load(target, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        sizes = {s: len(arrays[f"{s}_labels"]) for s in IMDB_SPLITS}
        ok = sizes == _imdb_split_sizes() and all(
            len(arrays[f"{s}_ends"]) == sizes[s]
            and (sizes[s] == 0 or arrays[f"{s}_ends"][-1] == len(arrays[f"{s}_text"]))
            for s in IMDB_SPLITS
        )
    except (OSError, ValueError, KeyError, zlib.error, EOFError, zipfile.BadZipFile):
        ok = False
    if ok:
        return arrays
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    return None


def _imdb_arrays() -> dict[str, np.ndarray]:
    if "imdb" in _memo:
        return _memo["imdb"]
    target = cache_dir() / _IMDB_CACHE_NAME
    arrays = _read_parsed_cache(target)
    if arrays is None:
        # A lock of its own: _fetch below takes the download lock ("imdb") inside this one.
        with _locked("imdb-reviews"):
            arrays = _read_parsed_cache(target)  # built by another process meanwhile?
            if arrays is None:
                path, origin = _fetch("imdb")
                try:
                    arrays = _parse_imdb_archive(path)
                except (tarfile.TarError, EOFError, zlib.error, OSError, DatasetDamagedError) as err:
                    advice = _discard_if_cached(path, origin)
                    raise DatasetDamagedError(
                        f"{DATASETS['imdb'].name} is damaged: the {_describe(path, origin)} "
                        f"could not be read completely ({type(err).__name__}: {err}). {advice}"
                    ) from None
                _write_atomically(arrays, target)
    _memo["imdb"] = arrays
    return arrays


def load_imdb(split: str) -> tuple[list[str], np.ndarray]:
    """Reviews and labels of one IMDB split.

    ``split`` is ``"train"`` or ``"test"`` (25,000 reviews each, label 1 positive and 0 negative,
    negatives first) or ``"unsup"`` (50,000 unlabelled reviews, label -1). Texts are raw: they
    still hold ``<br />`` tags, cleaned by ``course_utils.text``.

    The first call parses the archive (about 20 s) and keeps the reviews in one compact cache
    file; later calls, in any process, read that file in about a second.
    """
    if split not in IMDB_SPLITS:
        raise ValueError(f"unknown IMDB split {split!r}; expected one of {list(IMDB_SPLITS)}")
    arrays = _imdb_arrays()
    blob = arrays[f"{split}_text"].tobytes()
    ends = arrays[f"{split}_ends"].tolist()
    starts = [0, *ends[:-1]]
    texts = [blob[a:b].decode("utf-8", errors="replace") for a, b in zip(starts, ends, strict=True)]
    return texts, arrays[f"{split}_labels"].astype(np.int64)

"""course_utils.data: lookup order, integrity, offline failure, concurrency - with no real network.

Small stand-in datasets are written into tmp_path; the real datasets are checked at the end
(through COURSE_DATA_DIR in CI, or the per-user cache on a student's machine).
"""

import hashlib
import io
import multiprocessing
import os
import socket
import tarfile
import threading
import time

import numpy as np
import pytest

from course_utils import data

SMALL_COUNTS = {
    ("train", "neg"): 3,
    ("train", "pos"): 2,
    ("test", "neg"): 2,
    ("test", "pos"): 3,
    ("train", "unsup"): 4,
}


# ------------------------------------------------------------------ fixtures and builders


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own empty cache, no mirror, and no memo from an earlier test."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "_memo", {})
    yield


def _fake_shakespeare(monkeypatch, tmp_path, text="First Citizen:\nBefore we proceed...\n"):
    """A small text registered as 'shakespeare', served from a file:// URL (no network)."""
    source = tmp_path / "server" / "shakespeare.txt"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    fake = data.Dataset("tiny Shakespeare", "shakespeare.txt", source.as_uri(), digest)
    monkeypatch.setitem(data.DATASETS, "shakespeare", fake)
    return source, text


def _imdb_archive(path, counts=SMALL_COUNTS, truncate=False):
    """Write an aclImdb-shaped .tar.gz with `counts` reviews per folder, in shuffled order."""
    members = []
    for (split, folder), n in counts.items():
        for i in range(n):
            text = f"{split} {folder} review {i} <br />with ünïcode"
            members.append((f"aclImdb/{split}/{folder}/{i}_{7 if folder == 'pos' else 2}.txt", text))
    members.append(("aclImdb/README", "not a review"))
    members.append(("aclImdb/imdb.vocab", "the\nand\n"))
    np.random.default_rng(1).shuffle(members)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in members:
            raw = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    blob = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob[: len(blob) // 2] if truncate else blob)
    return path


def _fake_imdb(monkeypatch, url="file:///nonexistent/aclImdb_v1.tar.gz"):
    monkeypatch.setattr(data, "IMDB_FOLDERS", dict(SMALL_COUNTS))
    fake = data.Dataset("IMDB Large Movie Review Dataset v1.0", "aclImdb_v1.tar.gz", url, None)
    monkeypatch.setitem(data.DATASETS, "imdb", fake)


def _leftovers(folder):
    """Files in the cache other than finished datasets and lock files."""
    return sorted(
        p.name
        for p in folder.iterdir()
        if not p.name.endswith(".lock") and p.name not in {"shakespeare.txt", "aclImdb_v1.tar.gz"}
        and p.name != data._IMDB_CACHE_NAME
    )


# ------------------------------------------------------------------ tiny Shakespeare


def test_lookup_order_mirror_then_cache_then_download(tmp_path, monkeypatch):
    source, text = _fake_shakespeare(monkeypatch, tmp_path)
    assert data.data_source("shakespeare") == "download"
    assert data.load_shakespeare() == text  # downloaded from the file:// "URL"
    assert data.data_source("shakespeare") == "cache"

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "shakespeare.txt").write_text(text, encoding="utf-8")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    source.unlink()  # the "internet" is gone; the mirror must win
    assert data.data_source("shakespeare") == "mirror (COURSE_DATA_DIR)"
    assert data.load_shakespeare() == text


def test_mirror_without_the_file_falls_back_to_cache(tmp_path, monkeypatch):
    _, text = _fake_shakespeare(monkeypatch, tmp_path)
    data.load_shakespeare()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty-mirror"))
    assert data.data_source("shakespeare") == "cache"
    assert data.load_shakespeare() == text


def test_damaged_mirror_is_reported_and_left_alone(tmp_path, monkeypatch):
    _fake_shakespeare(monkeypatch, tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "shakespeare.txt").write_text("garbage", encoding="utf-8")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror))
    with pytest.raises(data.DatasetDamagedError, match=r"damaged.*mirror file .*shakespeare\.txt"):
        data.load_shakespeare()
    assert (mirror / "shakespeare.txt").read_text() == "garbage"  # not ours to delete


def test_damaged_cache_is_deleted_and_a_good_copy_loads_next(tmp_path, monkeypatch):
    _, text = _fake_shakespeare(monkeypatch, tmp_path)
    cached = data.cache_dir() / "shakespeare.txt"
    cached.write_text(text[:-5], encoding="utf-8")  # a truncated earlier download
    with pytest.raises(data.DatasetDamagedError, match="damaged.*cache file.*deleted"):
        data.load_shakespeare()
    assert not cached.exists()
    assert data.load_shakespeare() == text


def test_download_with_wrong_checksum_keeps_nothing(tmp_path, monkeypatch):
    source, _ = _fake_shakespeare(monkeypatch, tmp_path)
    source.write_text("tampered on the server", encoding="utf-8")
    with pytest.raises(data.DatasetDamagedError, match=r"download .* is damaged.*nothing was kept"):
        data.load_shakespeare()
    assert not (data.cache_dir() / "shakespeare.txt").exists()
    assert _leftovers(data.cache_dir()) == []


def test_offline_without_mirror_or_cache_fails_fast_and_clearly(tmp_path, monkeypatch):
    with socket.socket() as probe:  # a local port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/shakespeare.txt"
    fake = data.Dataset("tiny Shakespeare", "shakespeare.txt", url, "0" * 64)
    monkeypatch.setitem(data.DATASETS, "shakespeare", fake)
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailableError) as err:
        data.load_shakespeare()
    assert time.monotonic() - start < 30
    message = str(err.value)
    assert "tiny Shakespeare" in message and url in message and "COURSE_DATA_DIR" in message
    assert _leftovers(data.cache_dir()) == []
    assert not (data.cache_dir() / "shakespeare.txt").exists()


def test_a_network_that_never_answers_times_out(tmp_path, monkeypatch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the connection, then says nothing
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/shakespeare.txt"
    fake = data.Dataset("tiny Shakespeare", "shakespeare.txt", url, "0" * 64)
    monkeypatch.setitem(data.DATASETS, "shakespeare", fake)
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 1.0)
    start = time.monotonic()
    try:
        with pytest.raises(data.DatasetUnavailableError, match="COURSE_DATA_DIR"):
            data.load_shakespeare()
    finally:
        server.close()
    assert time.monotonic() - start < 10
    assert not (data.cache_dir() / "shakespeare.txt").exists()
    assert _leftovers(data.cache_dir()) == []


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset 'wiki'"):
        data.data_source("wiki")


# ------------------------------------------------------------------ IMDB


def test_imdb_splits_labels_and_order_from_a_mirror(tmp_path, monkeypatch):
    _fake_imdb(monkeypatch)
    _imdb_archive(tmp_path / "mirror" / "aclImdb_v1.tar.gz")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mirror"))
    texts, labels = data.load_imdb("train")
    assert labels.tolist() == [0, 0, 0, 1, 1]  # negatives first, then positives
    assert texts[0] == "train neg review 0 <br />with ünïcode"
    assert texts[-1] == "train pos review 1 <br />with ünïcode"
    test_texts, test_labels = data.load_imdb("test")
    assert test_labels.tolist() == [0, 0, 1, 1, 1] and test_texts[2].startswith("test pos")
    unsup_texts, unsup_labels = data.load_imdb("unsup")
    assert len(unsup_texts) == 4 and set(unsup_labels.tolist()) == {-1}
    assert labels.dtype == np.int64


def test_imdb_second_load_comes_from_the_compact_cache(tmp_path, monkeypatch):
    _fake_imdb(monkeypatch)
    mirror = _imdb_archive(tmp_path / "mirror" / "aclImdb_v1.tar.gz")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror.parent))
    first = data.load_imdb("train")
    mirror.unlink()  # the archive is no longer needed once parsed
    monkeypatch.setattr(data, "_memo", {})
    second = data.load_imdb("train")
    assert first[0] == second[0] and np.array_equal(first[1], second[1])


def test_imdb_wrong_split_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown IMDB split 'valid'.*'train', 'test', 'unsup'"):
        data.load_imdb("valid")


def test_imdb_incomplete_mirror_is_damaged(tmp_path, monkeypatch):
    _fake_imdb(monkeypatch)
    counts = dict(SMALL_COUNTS)
    counts[("test", "pos")] = 1  # two reviews missing
    mirror = _imdb_archive(tmp_path / "mirror" / "aclImdb_v1.tar.gz", counts=counts)
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror.parent))
    with pytest.raises(data.DatasetDamagedError, match=r"damaged.*mirror file.*'test/pos': 1"):
        data.load_imdb("train")
    assert mirror.exists()
    assert not (data.cache_dir() / data._IMDB_CACHE_NAME).exists()


def test_imdb_truncated_download_is_deleted_then_a_good_copy_loads(tmp_path, monkeypatch):
    server_copy = _imdb_archive(tmp_path / "server" / "aclImdb_v1.tar.gz", truncate=True)
    _fake_imdb(monkeypatch, url=server_copy.as_uri())
    with pytest.raises(data.DatasetDamagedError, match="damaged.*cache file.*deleted"):
        data.load_imdb("test")
    assert not (data.cache_dir() / "aclImdb_v1.tar.gz").exists()
    assert not (data.cache_dir() / data._IMDB_CACHE_NAME).exists()
    assert _leftovers(data.cache_dir()) == []

    _imdb_archive(server_copy)  # the server is fixed
    texts, labels = data.load_imdb("test")
    assert len(texts) == 5 and labels.sum() == 3


def test_imdb_corrupt_parsed_cache_is_rebuilt(tmp_path, monkeypatch):
    _fake_imdb(monkeypatch)
    mirror = _imdb_archive(tmp_path / "mirror" / "aclImdb_v1.tar.gz")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror.parent))
    (data.cache_dir() / data._IMDB_CACHE_NAME).write_bytes(b"PK\x03\x04 half a file")
    texts, _ = data.load_imdb("unsup")
    assert len(texts) == 4


def _load_in_child(queue):
    try:
        texts, labels = data.load_imdb("train")
        queue.put((texts, labels.tolist()))
    except Exception as err:  # pragma: no cover - reported to the parent
        queue.put(repr(err))


def test_two_processes_loading_at_once_share_one_good_cache(tmp_path, monkeypatch):
    _fake_imdb(monkeypatch)
    mirror = _imdb_archive(tmp_path / "mirror" / "aclImdb_v1.tar.gz")
    monkeypatch.setenv("COURSE_DATA_DIR", str(mirror.parent))
    ctx = multiprocessing.get_context("fork")  # children inherit the monkeypatched module
    queue = ctx.Queue()
    children = [ctx.Process(target=_load_in_child, args=(queue,)) for _ in range(3)]
    for child in children:
        child.start()
    results = [queue.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert all(not isinstance(r, str) for r in results), results
    assert all(r == results[0] for r in results)
    assert _leftovers(data.cache_dir()) == []
    assert data._read_parsed_cache(data.cache_dir() / data._IMDB_CACHE_NAME) is not None


# ------------------------------------------------------------------ the real datasets


@pytest.fixture
def real_env(monkeypatch):
    """Undo the isolation: the real mirror and the user's real cache."""
    for key in ("COURSE_DATA_DIR", "COURSE_CACHE_DIR"):
        if key in _REAL_ENV:
            monkeypatch.setenv(key, _REAL_ENV[key])
        else:
            monkeypatch.delenv(key, raising=False)


_REAL_ENV = {k: os.environ[k] for k in ("COURSE_DATA_DIR", "COURSE_CACHE_DIR") if k in os.environ}


@pytest.mark.real_data
def test_real_shakespeare(real_env):
    text = data.load_shakespeare()
    assert len(text) == 1_115_394
    assert text.startswith("First Citizen:")


@pytest.mark.real_data
def test_real_imdb_has_every_review(real_env):
    sizes = {}
    for split in data.IMDB_SPLITS:
        texts, labels = data.load_imdb(split)
        sizes[split] = len(texts)
        assert len(labels) == len(texts)
        if split == "unsup":
            assert set(labels.tolist()) == {-1}
        else:
            assert np.bincount(labels).tolist() == [12_500, 12_500]
        assert all(isinstance(t, str) and t for t in texts[:100])
    assert sizes == {"train": 25_000, "test": 25_000, "unsup": 50_000}

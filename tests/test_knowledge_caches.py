"""The dictionaries prepared at one start are read back at the next, and a broken cache is only rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import bridge, caches


@pytest.fixture
def cache_dir(tmp_path: Path):
    caches.keep_caches_in(tmp_path / "cache")
    yield tmp_path / "cache"
    caches.keep_caches_in(None)


def test_the_bridge_dictionary_read_back_from_the_cache_is_the_parsed_one(cache_dir: Path) -> None:
    """A restart reads the same senses as a first start, from the cache the first start wrote."""
    path = bridge.dictionary_file()
    if path is None:
        pytest.skip("CC-CEDICT is not installed")
    parsed = bridge._read_dictionary(path)
    [written] = cache_dir.glob("cedict-*.marshal")
    cached = bridge._read_dictionary(path)
    assert len(cached) == len(parsed) and cached.senses("退货") == parsed.senses("退货") != ()
    written.write_bytes(b"not marshal")
    assert len(bridge._read_dictionary(path)) == len(parsed)


def test_an_unwritable_cache_folder_starts_without_caches(tmp_path: Path) -> None:
    """A cache folder that cannot be created costs the cache, not the start."""
    (tmp_path / "file").write_text("x")
    caches.keep_caches_in(tmp_path / "file" / "cache")
    try:
        caches.write_cached("name", {"a": "b"})
        assert caches.read_cached("name") is None
    finally:
        caches.keep_caches_in(None)

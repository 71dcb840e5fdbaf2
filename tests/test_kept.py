"""`KeptCopies`: the bound every in-memory copy of a page or thread lives under."""
from __future__ import annotations

import pytest

from praatmee_site.kept import KeptCopies


def test_when_full_the_copy_used_longest_ago_makes_room():
    kept = KeptCopies(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" was just used, so "b" is now the oldest
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)
    assert len(kept) == 2


def test_putting_a_key_again_replaces_its_copy_without_growing():
    kept = KeptCopies(2)
    kept.put("a", 1)
    kept.put("a", 2)
    assert kept.get("a") == 2
    assert len(kept) == 1


def test_a_store_must_keep_at_least_one_copy():
    with pytest.raises(ValueError):
        KeptCopies(0)

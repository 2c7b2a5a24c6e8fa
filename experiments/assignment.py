"""Which variant a visitor sees: a pure function of the visitor id and the experiment key (docs/experiments.md).

bucket = first 8 bytes of SHA-256("<experiment key>\\n<visitor id>") as an integer, mod the sum of the weights;
the variants, in their order, own consecutive ranges of buckets as wide as their weights. The same visitor gets
the same variant of an experiment on every page and process; two experiments split visitors independently
(their keys differ), and the id is a random token, so nobody can aim at a variant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def bucket_of(visitor_id: str, experiment_key: str, buckets: int) -> int:
    digest = hashlib.sha256(f"{experiment_key}\n{visitor_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def variant_for(visitor_id: str, experiment_key: str, weights: Sequence[tuple[str, int]]) -> str:
    """The key of the variant of `weights` ((key, weight) pairs, in order; weights ≥ 0, sum > 0) for a visitor."""
    total = sum(weight for _key, weight in weights)
    if total <= 0:
        raise ValueError("the weights must add up to more than 0")
    bucket = bucket_of(visitor_id, experiment_key, total)
    for key, weight in weights:
        if bucket < weight:
            return key
        bucket -= weight
    raise AssertionError("unreachable: the buckets cover the weights")  # pragma: no cover

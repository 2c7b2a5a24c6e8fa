"""The raffle draw of DESIGN §7 (giveaways/draw.py): known hash vectors, the draw's properties (no player twice,
odds proportional to tickets), and agreement with the checking script published in docs/raffles.md.

The vectors and `random_raffles` are shared with tests/e2e/test_raffle_verify_js.py, which holds the verify page's
script (static/js/raffle-verify.js) to the same answers in Chromium."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from giveaways import draw
from giveaways.draw import Entry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "raffles.md"

# (message, SHA-256 hex): FIPS 180-2 examples, and UTF-8 text with an astral character.
SHA256_VECTORS = [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
    ("🐐:3\nGoat:10\n", hashlib.sha256("🐐:3\nGoat:10\n".encode()).hexdigest()),
]
# RFC 4231 test case 2: (key, message, HMAC-SHA256 hex).
HMAC_VECTOR = (
    "Jefe",
    "what do ya want for nothing?",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
)

# Uid characters: digits, both cases, accented and CJK letters, BMP characters above the surrogate range (U+E000,
# U+FF5A, U+FFFF) and astral ones (🐐, 𝔸): JS's UTF-16 order puts an astral character before U+E000, code-point
# order after it, so a draw that sorted the JS way would differ.
UID_ALPHABET = "0123456789abcxyzABCXYZ_-éÉßñ猫山\ue000ｚ\uffff🐐𝔸😀"

PROPORTIONAL_TICKETS = [1, 2, 3, 4, 10]
CHI2_CRITICAL_P001 = {3: 16.27, 4: 18.47, 19: 43.82}


def seed_for(n: int) -> str:
    """A reproducible server seed in seed_new's format (64 lowercase hex characters)."""
    return f"{random.Random(n).getrandbits(256):064x}"


def random_raffles(count: int = 100) -> list[dict]:
    """`count` reproducible random raffles: {"seed", "entries": [Entry], "winners_count"}; uids unique per raffle."""
    rng = random.Random(20_240_807)
    raffles = []
    for n in range(count):
        uids: set[str] = set()
        for _ in range(rng.randint(0, 40)):
            uids.add("".join(rng.choice(UID_ALPHABET) for _ in range(rng.randint(1, 8))))
        entries = [Entry(uid, rng.randint(1, 50)) for uid in sorted(uids)]
        rng.shuffle(entries)  # the draw orders them itself
        raffles.append({"seed": seed_for(1000 + n), "entries": entries, "winners_count": rng.randint(1, 5)})
    return raffles


def chi_square(observed: Counter, expected: dict) -> float:
    return sum((observed.get(key, 0) - e) ** 2 / e for key, e in expected.items())


def doc_script_draw():
    """The `draw` function of docs/raffles.md's Python block, its `__main__` part not run."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) == 1, "docs/raffles.md has one Python block: the checking script"
    namespace: dict = {"__name__": "raffle_check_script"}
    exec(compile(blocks[0], str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation's script
    return namespace["draw"]


# --- Known vectors (the e2e test holds the JS to the same ones) ---


@pytest.mark.parametrize(("message", "expected"), SHA256_VECTORS)
def test_sha256_vectors(message, expected):
    assert hashlib.sha256(message.encode("utf-8")).hexdigest() == expected


def test_hmac_sha256_rfc4231_case_2():
    key, message, expected = HMAC_VECTOR
    assert hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest() == expected


def test_seed_format_and_commitment():
    seed = draw.seed_new()
    assert re.fullmatch(r"[0-9a-f]{64}", seed)
    assert re.fullmatch(r"[0-9a-f]{64}", seed_for(1))
    assert draw.seed_hash(seed) == hashlib.sha256(seed.encode("ascii")).hexdigest()
    assert draw.seed_new() != seed


def test_draw_number_is_the_hmac_of_digest_and_position():
    seed, digest = seed_for(7), draw.entries_digest([Entry("a", 1)])
    expected = hmac.new(seed.encode(), f"{digest}:3".encode(), hashlib.sha256).hexdigest()
    assert draw.draw_number(seed, digest, 3) == int(expected, 16)


# --- Entry order and digest ---


def test_entries_are_ordered_by_code_point_and_empty_entries_left_out():
    entries = [Entry("🐐", 1), Entry("\ue000", 2), Entry("B", 3), Entry("a", 4), Entry("zero", 0)]
    ordered = [e.uid for e in draw.entries_ordered(entries)]
    assert ordered == ["B", "a", "\ue000", "🐐"]  # code points: U+E000 < U+1F410
    # UTF-16 code units would order them differently (the astral goat's high surrogate 0xD83D < 0xE000).
    assert sorted(ordered, key=lambda uid: uid.encode("utf-16-be")) != ordered
    assert draw.entries_text(entries) == "B:3\na:4\n\ue000:2\n🐐:1\n"
    assert draw.entries_digest(entries) == hashlib.sha256("B:3\na:4\n\ue000:2\n🐐:1\n".encode()).hexdigest()


# --- Draw properties ---


def test_no_player_is_picked_twice_and_every_seat_is_filled_when_possible():
    for raffle in random_raffles():
        winners = draw.draw_winners(raffle["seed"], raffle["entries"], raffle["winners_count"])
        uids = [w.uid for w in winners]
        assert len(uids) == len(set(uids))
        assert len(uids) == min(raffle["winners_count"], len(raffle["entries"]))
        assert set(winners) <= set(raffle["entries"])


def test_fewer_entries_than_winners_gives_fewer_winners():
    entries = [Entry("alice", 1), Entry("bob", 5)]
    winners = draw.draw_winners(seed_for(1), entries, 5)
    assert sorted(w.uid for w in winners) == ["alice", "bob"]


def test_no_entries_no_winners():
    assert draw.draw_winners(seed_for(2), [], 3) == []
    assert draw.draw_winners(seed_for(2), [Entry("idle", 0)], 3) == []


def test_the_draw_is_deterministic_and_depends_on_the_seed():
    entries = [Entry(f"p{i}", i + 1) for i in range(20)]
    first = draw.draw_winners(seed_for(3), entries, 5)
    assert draw.draw_winners(seed_for(3), list(reversed(entries)), 5) == first
    assert any(draw.draw_winners(seed_for(n), entries, 5) != first for n in range(4, 10))


def _many_draws(count: int = 4000) -> list[list[str]]:
    entries = [Entry(f"p{t:02d}", t) for t in PROPORTIONAL_TICKETS]
    return [[w.uid for w in draw.draw_winners(seed_for(n), entries, 2)] for n in range(count)]


def test_the_first_winner_is_picked_in_proportion_to_tickets():
    draws = _many_draws()
    total = sum(PROPORTIONAL_TICKETS)
    expected = {f"p{t:02d}": len(draws) * t / total for t in PROPORTIONAL_TICKETS}
    statistic = chi_square(Counter(d[0] for d in draws), expected)
    assert statistic < CHI2_CRITICAL_P001[4], statistic


def test_the_second_winner_is_proportional_among_those_left():
    """The joint (first, second) distribution: P(i then j) = t_i/T × t_j/(T − t_i); 20 cells, df = 19."""
    draws = _many_draws()
    total = sum(PROPORTIONAL_TICKETS)
    expected = {
        (f"p{ti:02d}", f"p{tj:02d}"): len(draws) * ti / total * tj / (total - ti)
        for ti in PROPORTIONAL_TICKETS
        for tj in PROPORTIONAL_TICKETS
        if tj != ti
    }
    assert min(expected.values()) > 5  # the chi-square approximation holds
    statistic = chi_square(Counter(tuple(d) for d in draws), expected)
    assert statistic < CHI2_CRITICAL_P001[19], statistic
    # And conditional on the likeliest first winner (10 tickets): the second among 1, 2, 3, 4 (df = 3).
    after = Counter(d[1] for d in draws if d[0] == "p10")
    left = sum(PROPORTIONAL_TICKETS) - 10
    conditional = {f"p{t:02d}": after.total() * t / left for t in PROPORTIONAL_TICKETS if t != 10}
    assert chi_square(after, conditional) < CHI2_CRITICAL_P001[3]


def test_the_chi_square_check_would_catch_a_uniform_draw():
    """The test has teeth: picking uniformly instead of by tickets fails it by far."""
    rng = random.Random(5)
    uniform = Counter(f"p{rng.choice(PROPORTIONAL_TICKETS):02d}" for _ in range(4000))
    total = sum(PROPORTIONAL_TICKETS)
    expected = {f"p{t:02d}": 4000 * t / total for t in PROPORTIONAL_TICKETS}
    assert chi_square(uniform, expected) > 10 * CHI2_CRITICAL_P001[4]


# --- The published checking script agrees with the server ---


def test_the_docs_script_agrees_with_the_server_draw():
    script_draw = doc_script_draw()
    for raffle in random_raffles():
        seed, entries, count = raffle["seed"], raffle["entries"], raffle["winners_count"]
        digest, winners = script_draw(seed, [(e.uid, e.tickets) for e in entries], count)
        assert digest == draw.entries_digest(entries)
        assert winners == [w.uid for w in draw.draw_winners(seed, entries, count)]


def test_the_random_raffles_cover_the_edge_cases():
    raffles = random_raffles()
    assert any(not r["entries"] for r in raffles)
    assert any(len(r["entries"]) < r["winners_count"] for r in raffles if r["entries"])
    uids = [e.uid for r in raffles for e in r["entries"]]
    assert any("🐐" in uid for uid in uids)
    assert any(uid != uid.lower() for uid in uids)
    assert any(any(c.isdigit() for c in uid) for uid in uids)
    # At least one raffle whose code-point order differs from JS's default UTF-16 order.
    assert any(
        [e.uid for e in draw.entries_ordered(r["entries"])]
        != sorted((e.uid for e in r["entries"]), key=lambda uid: uid.encode("utf-16-be"))
        for r in raffles
    )

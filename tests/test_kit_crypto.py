"""Keys, receipts and sealing."""

from __future__ import annotations

import pytest

from shared.crypto import (
    Sealer,
    generate_fernet_key,
    hash_receipt,
    key_prefix,
    new_api_key,
    new_receipt,
    normalize_receipt,
)


def test_prefix_never_reveals_more_than_six_secret_characters() -> None:
    key = "sk_agency_Ab_cd_efghijklmnopqrstuvwxyz_0123456789_ABCDEFG"  # url-safe secrets may hold '_'
    assert key_prefix(key) == "sk_agency_Ab_cd_"
    assert key_prefix("sk_coordinator_xyzuvw123") == "sk_coordinator_xyzuvw"
    for _ in range(500):
        assert len(key_prefix(new_api_key("agency"))) == len("sk_agency_") + 6


def test_receipts_carry_160_bits_and_read_back_in_any_case_or_spacing() -> None:
    receipt = new_receipt()
    assert len(normalize_receipt(receipt)) == 32  # 32 base32 characters = 160 bits
    assert hash_receipt(receipt.lower().replace("-", " ")) == hash_receipt(receipt)
    assert not set("0189") & set(normalize_receipt(receipt)), "base32: no digit a letter could be mistaken for"
    assert normalize_receipt("oi0l-1ab2") == "OIOLIAB2", "0 and 1 typed for the letters O and I"
    assert len({new_receipt() for _ in range(1000)}) == 1000


def test_sealer_rotates_keys() -> None:
    old, new = generate_fernet_key(), generate_fernet_key()
    token = Sealer([old]).seal("siti@example.test")
    rotated = Sealer([new, old])
    assert rotated.open(token) == "siti@example.test"
    resealed = rotated.reseal(token)
    assert Sealer([new]).open(resealed) == "siti@example.test"
    with pytest.raises(ValueError, match="no key matches"):
        Sealer([new]).open(token)

"""SM2 signatures over SM3 (GB/T 32918, GB/T 32905) for the electronic seal (DOMAIN.md §3.5).

The curve arithmetic is gmssl's (pure Python); SM3 is ``cryptography``'s (OpenSSL). This module
adds what gmssl leaves out or does unsafely:

- the per-signature nonce ``k`` comes from ``secrets`` (gmssl's default uses ``random``);
- keys are generated here (gmssl has no key generation);
- signatures are DER ``SEQUENCE {r, s}`` and public keys SubjectPublicKeyInfo with the SM2 curve
  OID, the encodings OpenSSL and every SM2 toolkit exchange (tests cross-check with ``openssl``).

The signer's distinguishing identifier is the standard default ``1234567812345678`` (GB/T 35276),
as in gmssl's ``sign_with_sm3``; OpenSSL 3.0 needs it said (``-pkeyopt
distid:1234567812345678``), its own default being the empty ID.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from gmssl import sm2

ALGORITHM_OID = "1.2.156.10197.1.501"  # SM2 signature with SM3 (GM/T 0006)
_N = int(sm2.default_ecc_table["n"], 16)
# SubjectPublicKeyInfo prefix: SEQUENCE { SEQUENCE { id-ecPublicKey, sm2p256v1 }, BIT STRING }
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


DEFAULT_ID = b"1234567812345678"
_CURVE = bytes.fromhex(
    sm2.default_ecc_table["a"] + sm2.default_ecc_table["b"] + sm2.default_ecc_table["g"]
)


def sm3_digest(data: bytes) -> bytes:
    """SM3 through ``cryptography`` (OpenSSL, C): gmssl's pure-Python SM3 runs at ~30 KB/s."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _e(public_hex: str, data: bytes) -> bytes:
    """e = SM3(Z_A || M), Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)."""
    z = sm3_digest(
        (len(DEFAULT_ID) * 8).to_bytes(2, "big") + DEFAULT_ID + _CURVE + bytes.fromhex(public_hex)
    )
    return sm3_digest(z + data)


@dataclass(frozen=True)
class KeyPair:
    private_hex: str  # 64 hex digits
    public_hex: str  # 128 hex digits: x || y (uncompressed, without the 04 prefix)


def generate_keypair() -> KeyPair:
    d = secrets.randbelow(_N - 2) + 1
    return keypair_from_private(f"{d:064x}")


def keypair_from_private(private_hex: str) -> KeyPair:
    d = int(private_hex, 16)
    if not 0 < d < _N - 1:
        raise ValueError("SM2 private key out of range")
    crypt = sm2.CryptSM2(private_key=f"{d:064x}", public_key="")
    public = crypt._kg(d, sm2.default_ecc_table["g"])
    return KeyPair(f"{d:064x}", public)


def sign(keypair: KeyPair, data: bytes) -> bytes:
    """SM2 signature of ``data`` (SM3 with Z_A of the default ID), DER-encoded."""
    crypt = sm2.CryptSM2(private_key=keypair.private_hex, public_key=keypair.public_hex)
    while True:
        k = f"{secrets.randbelow(_N - 1) + 1:064x}"
        raw = crypt.sign(_e(keypair.public_hex, data), k)
        if raw:  # gmssl returns None for the (negligible) r == 0 / r + k == n cases
            return encode_dss_signature(int(raw[:64], 16), int(raw[64:], 16))


def verify(public_hex: str, data: bytes, signature: bytes) -> bool:
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return False
    if not (0 < r < _N and 0 < s < _N) or len(public_hex) != 128:
        return False
    crypt = sm2.CryptSM2(private_key="", public_key=public_hex)
    try:
        return bool(crypt.verify(f"{r:064x}{s:064x}", _e(public_hex, data)))
    except (ValueError, TypeError):
        return False


def public_key_der(public_hex: str) -> bytes:
    return _SPKI_PREFIX + b"\x04" + bytes.fromhex(public_hex)


def public_key_pem(public_hex: str) -> str:
    body = base64.encodebytes(public_key_der(public_hex)).decode("ascii")
    return f"-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----\n"


def public_hex_from_der(der: bytes) -> str:
    """The x || y hex of an SM2 SubjectPublicKeyInfo (as ``openssl pkey -pubout`` writes)."""
    if not der.startswith(_SPKI_PREFIX) or len(der) != len(_SPKI_PREFIX) + 65:
        raise ValueError("not an SM2 public key")
    return der[len(_SPKI_PREFIX) + 1 :].hex()

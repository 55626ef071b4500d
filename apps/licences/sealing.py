"""Electronic seals (电子印章) and sealed signatures (电子签章) after GB/T 38540, DOMAIN.md §3.5.

The structures follow ``SES_Seal`` and ``SES_Signature`` as far as DOMAIN.md describes them,
encoded as canonical JSON (sorted keys, UTF-8, no spaces) rather than the standard's ASN.1:

- ``SES_Seal`` = ``{"header": {"id": "ES", "version", "vid"}, "esID", "property": {"type",
  "name", "certListType", "certList": [SM3 of each signer certificate], "createDate",
  "validStart", "validEnd"}, "picture": {"type", "data", "width", "height"}, "extDatas"}`` plus
  the seal maker's certificate, the algorithm OID and the maker's SM2 signature.
- ``SES_Signature`` = ``{"toSign": {"version", "eseal", "timeInfo", "dataHash",
  "propertyInfo"}, "cert", "signatureAlgID", "signature"}``; ``dataHash`` is the SM3 of the
  signed document bytes.

Signatures are SM2 over SM3 (``apps.licences.sm2``). The keys live behind ``SealProvider``:
production plugs in an HSM or the provincial seal service (``LICENCE_SEAL_PROVIDER``); the
repository's ``SoftwareSealProvider`` keeps one key per issuing department in ``SealKey`` with
the private key encrypted at rest, and a seal maker key from ``LICENCE_SEAL_MAKER_KEY``.

``verify_signature`` runs the checks of DOMAIN.md §3.5 in order: seal signature and maker
certificate, seal validity, signer certificate in the seal's list, data hash, signature,
(no timestamp yet), revocation.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.licences import sm2

SES_VERSION = 4
VENDOR_ID = "govportal"
SEAL_TYPE_ORGANISATION = 1  # 单位印章
# The signature block is appended to the rendering after ``%%EOF`` as a PDF comment line, which
# every PDF reader skips: the signed bytes are everything before it.
MARKER = b"\n%GOVPORTAL-SES "


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _sm3_hex(data: bytes) -> str:
    return sm2.sm3_digest(data).hex()


# --- the seal maker (制章者) -----------------------------------------------------------------


@lru_cache(maxsize=4)
def _maker_from(secret: str) -> sm2.KeyPair:
    configured = getattr(settings, "LICENCE_SEAL_MAKER_KEY", "")
    if configured:
        return sm2.keypair_from_private(configured)
    # Development and tests: a maker key derived from SECRET_KEY, stable across restarts.
    n = int(sm2.sm2.default_ecc_table["n"], 16)
    d = int(_sm3_hex(f"govportal-seal-maker:{secret}".encode()), 16) % (n - 2) + 1
    return sm2.keypair_from_private(f"{d:064x}")


def seal_maker() -> sm2.KeyPair:
    return _maker_from(settings.SECRET_KEY + getattr(settings, "LICENCE_SEAL_MAKER_KEY", ""))


def maker_certificate() -> dict[str, Any]:
    return {
        "subject": getattr(settings, "LICENCE_SEAL_MAKER_NAME", "govportal 电子印章制作系统"),
        "publicKey": seal_maker().public_hex,
        "algorithm": sm2.ALGORITHM_OID,
    }


# --- the provider interface ----------------------------------------------------------------


@dataclass(frozen=True)
class SealMaterial:
    """What a provider hands back for one department: its seal and signer certificate."""

    es_id: str
    seal: dict[str, Any]  # signed SES_Seal
    certificate: dict[str, Any]


class SealProvider(Protocol):
    """Signs with a department's seal key. ``sign`` gets the bytes to sign and returns a DER SM2
    signature; the private key never leaves the provider."""

    def material_for(self, department: Any) -> tuple[Any, SealMaterial]: ...

    def sign(self, key: Any, data: bytes) -> bytes: ...


def build_certificate(
    *, department: Any, public_hex: str, valid_from: date, valid_until: date
) -> dict[str, Any]:
    body = {
        "subject": department.name,
        "subjectCode": department.uscc,
        "publicKey": public_hex,
        "notBefore": valid_from.isoformat(),
        "notAfter": valid_until.isoformat(),
        "issuer": maker_certificate()["subject"],
    }
    return {**body, "signature": base64.b64encode(sm2.sign(seal_maker(), canonical(body))).decode()}


def build_seal(
    *,
    es_id: str,
    department: Any,
    certificate: dict[str, Any],
    valid_from: date,
    valid_until: date,
    picture_svg: str,
) -> dict[str, Any]:
    tbs = {
        "header": {"id": "ES", "version": SES_VERSION, "vid": VENDOR_ID},
        "esID": es_id,
        "property": {
            "type": SEAL_TYPE_ORGANISATION,
            "name": f"{department.name}电子证照专用章",
            "certListType": 2,  # a list of certificate digests
            "certList": [_sm3_hex(canonical(certificate))],
            "createDate": timezone.now().isoformat(timespec="seconds"),
            "validStart": valid_from.isoformat(),
            "validEnd": valid_until.isoformat(),
        },
        "picture": {
            "type": "svg",
            "data": base64.b64encode(picture_svg.encode()).decode(),
            "width": 40,
            "height": 40,
        },
        "extDatas": [],
    }
    return {
        "eSealInfo": tbs,
        "cert": maker_certificate(),
        "signAlgID": sm2.ALGORITHM_OID,
        "signedValue": base64.b64encode(sm2.sign(seal_maker(), canonical(tbs))).decode(),
    }


def provider() -> SealProvider:
    path = getattr(
        settings, "LICENCE_SEAL_PROVIDER", "apps.licences.sealing_software.SoftwareSealProvider"
    )
    return import_string(path)()


# --- signing and verifying a document --------------------------------------------------------


def sign_document(
    data: bytes, *, material: SealMaterial, key: Any, sealer: SealProvider, property_info: str
) -> dict[str, Any]:
    to_sign = {
        "version": SES_VERSION,
        "eseal": material.seal,
        "timeInfo": timezone.now().isoformat(timespec="seconds"),
        "dataHash": _sm3_hex(data),
        "propertyInfo": property_info,
    }
    return {
        "toSign": to_sign,
        "cert": material.certificate,
        "signatureAlgID": sm2.ALGORITHM_OID,
        "signature": base64.b64encode(sealer.sign(key, canonical(to_sign))).decode(),
    }


def attach(data: bytes, ses_signature: dict[str, Any]) -> bytes:
    return data + MARKER + base64.b64encode(canonical(ses_signature)) + b"\n"


def detach(data: bytes) -> tuple[bytes, dict[str, Any] | None]:
    """(signed bytes, SES_Signature) of a sealed file; (data, None) when it carries none."""
    at = data.rfind(MARKER)
    if at < 0:
        return data, None
    line = data[at + len(MARKER) :].split(b"\n", 1)[0]
    try:
        signature = json.loads(base64.b64decode(line, validate=True))
    except ValueError:
        return data, None
    return data[:at], signature if isinstance(signature, dict) else None


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    reason: str  # ok / no_seal / seal_invalid / seal_expired / cert_invalid / cert_expired /
    # cert_not_in_seal / hash_mismatch / signature_invalid / seal_revoked
    es_id: str = ""
    signer_code: str = ""
    data_hash: str = ""
    signed_at: datetime | None = None


def _b64(value: Any) -> bytes:
    return base64.b64decode(str(value), validate=True)


def verify_signature(
    data: bytes,
    signature: dict[str, Any] | None,
    *,
    today: date | None = None,
    is_revoked: Any = None,
) -> SealCheck:
    """The checks of DOMAIN.md §3.5 on ``signature`` over ``data`` (the signed bytes).
    ``is_revoked(es_id)`` answers the revocation check from the seal registry."""
    if signature is None:
        return SealCheck(False, "no_seal")
    try:
        to_sign = signature["toSign"]
        seal = to_sign["eseal"]
        info = seal["eSealInfo"]
        prop = info["property"]
        cert = signature["cert"]
        maker = seal["cert"]
        # 1. the seal's signature by the seal maker, whose certificate we trust
        if maker.get("publicKey") != seal_maker().public_hex or not sm2.verify(
            maker["publicKey"], canonical(info), _b64(seal["signedValue"])
        ):
            return SealCheck(False, "seal_invalid")
        es_id = str(info["esID"])
        today = today or timezone.localdate()
        # 2. the seal's validity period
        if not (
            date.fromisoformat(prop["validStart"]) <= today <= date.fromisoformat(prop["validEnd"])
        ):
            return SealCheck(False, "seal_expired", es_id)
        # 3. the signer's certificate: issued by the maker, current, listed in the seal
        cert_body = {k: v for k, v in cert.items() if k != "signature"}
        if not sm2.verify(seal_maker().public_hex, canonical(cert_body), _b64(cert["signature"])):
            return SealCheck(False, "cert_invalid", es_id)
        if not (
            date.fromisoformat(cert["notBefore"]) <= today <= date.fromisoformat(cert["notAfter"])
        ):
            return SealCheck(False, "cert_expired", es_id)
        if _sm3_hex(canonical(cert)) not in prop["certList"]:
            return SealCheck(False, "cert_not_in_seal", es_id)
        # 4. the data hash
        data_hash = _sm3_hex(data)
        if to_sign["dataHash"] != data_hash:
            return SealCheck(False, "hash_mismatch", es_id)
        # 5. the signature
        if not sm2.verify(cert["publicKey"], canonical(to_sign), _b64(signature["signature"])):
            return SealCheck(False, "signature_invalid", es_id)
        signed_at = datetime.fromisoformat(to_sign["timeInfo"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return SealCheck(False, "seal_invalid")
    # 6. timestamp (GB/T 20520): none issued yet. 7. revocation of the seal.
    if is_revoked is not None and is_revoked(es_id):
        return SealCheck(False, "seal_revoked", es_id)
    return SealCheck(True, "ok", es_id, str(cert["subjectCode"]), data_hash, signed_at)

"""A standard PAdES signature (pyHanko) on the licence PDF, so ordinary PDF readers show the
file as signed by the issuing department.

The GB/T 38540-style SM2 seal stays the legal seal and is what 验真 checks: it covers the
rendering and sits after ``%%EOF`` as a comment line (``sealing.attach``). The PAdES signature is
an incremental update appended after that line and covers the whole file, SM2 line included;
``sealing.detach`` still finds the SM2 block (the last marker) and the bytes it signed, so upload
verification is unchanged. PDF readers do not know SM2, so the PAdES key is ECDSA P-256:

* a platform root certificate (CA) and, per seal key (``es_id``), a department signing
  certificate issued by that root, valid as long as the seal key;
* the private keys are derived with HKDF-SHA256 from ``SECRET_KEY`` + ``LICENCE_SEAL_MAKER_KEY``
  (like the seal maker's key in ``sealing``), so nothing new is stored and every process signs
  with the same certificates; a new seal key gives a new certificate. Production would plug an
  HSM or the provincial CA in here, as for ``SealProvider``.

Readers show the signature as valid once the root certificate (``root_certificate_pem()``) is
trusted (it is published at ``/licences/root-certificate.pem``). ``LICENCE_PADES`` turns it off.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

from django.conf import settings
from django.utils import timezone

ROOT_NAME = "govportal 电子证照签章根证书"
ROOT_VALID = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2049, 12, 31, tzinfo=UTC))
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def available() -> bool:
    return bool(getattr(settings, "LICENCE_PADES", True))


def _secret() -> str:
    return settings.SECRET_KEY + getattr(settings, "LICENCE_SEAL_MAKER_KEY", "")


@lru_cache(maxsize=256)
def _derived_key(secret: str, label: str) -> ec.EllipticCurvePrivateKey:
    material = HKDF(
        algorithm=hashes.SHA256(), length=48, salt=b"govportal-pades", info=label.encode()
    ).derive(secret.encode())
    return ec.derive_private_key(int.from_bytes(material) % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _serial(label: str) -> int:
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:16]) >> 1


@lru_cache(maxsize=4)
def _root(secret: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _derived_key(secret, "root")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "govportal"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial("root"))
        .not_valid_before(ROOT_VALID[0])
        .not_valid_after(ROOT_VALID[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return key, cert


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def root_certificate_pem() -> bytes:
    """The root to install in a PDF reader's trusted certificates."""
    return _root(_secret())[1].public_bytes(serialization.Encoding.PEM)


@lru_cache(maxsize=64)
def _department(
    secret: str, es_id: str, name: str, uscc: str, valid_from: Any, valid_until: Any
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    root_key, root = _root(secret)
    key = _derived_key(secret, f"department:{es_id}")
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, uscc),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        ]
    )
    # The seal key's dates are local (Asia/Shanghai) days.
    local = timezone.get_default_timezone()
    start = datetime.combine(valid_from, time.min, tzinfo=local).astimezone(UTC)
    end = datetime.combine(valid_until, time.min, tzinfo=local).astimezone(UTC) + timedelta(1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(_serial(f"department:{es_id}"))
        .not_valid_before(max(start, ROOT_VALID[0]))
        .not_valid_after(min(end, ROOT_VALID[1]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    return key, cert


def _eof_after_seal(content: bytes) -> bytes:
    """Repeat the rendering's ``startxref … %%EOF`` after the SM2 seal line: PDF readers look
    for ``%%EOF`` in the last 1,024 bytes and the seal line is longer. No new cross-reference
    section; the pointer is the rendering's own."""
    from apps.licences.sealing import detach

    body, _signature = detach(content)
    at = body.rfind(b"startxref")
    if at < 0 or content.rstrip().endswith(b"%%EOF"):
        return content
    offset = body[at + len(b"startxref") :].split()[0]
    return content + b"startxref\n" + offset + b"\n%%EOF\n"


def sign(content: bytes, *, seal_key: Any, reason: str) -> bytes:
    """``content`` with a PAdES (B-B) signature of the department of ``seal_key`` appended as an
    incremental update."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    department = seal_key.department
    secret = _secret()
    key, cert = _department(
        secret,
        seal_key.es_id,
        department.name,
        department.uscc,
        seal_key.valid_from,
        seal_key.valid_until,
    )
    root = asn1_x509.Certificate.load(_root(secret)[1].public_bytes(serialization.Encoding.DER))
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([root]),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(_eof_after_seal(content)), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name="LicenceSignature",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        name=department.name,
    )
    return _outside_event_loop(signers.sign_pdf, writer, meta, signer=signer).getvalue()


def _outside_event_loop(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run pyHanko's synchronous signer, which calls ``asyncio.run``: directly when this thread
    runs no event loop (gunicorn, Celery), otherwise in a short-lived thread of its own (an
    eager task under an async caller, e.g. Playwright's sync API in the browser tests)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()

"""The PAdES signature (pyHanko) over the SM2-sealed licence PDF: valid and trusted against the
platform root for a PDF reader, the SM2 seal and 验真 unchanged, tampering caught by both."""

import io

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from django.test import override_settings

from apps.licences import pades, sealing
from apps.licences.models import LicenceFile
from apps.licences.selectors import verify_file
from apps.licences.services import ensure_licence_file
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db


def _root() -> asn1_x509.Certificate:
    _type, _headers, der = pem.unarmor(pades.root_certificate_pem())
    return asn1_x509.Certificate.load(der)


def _pades_status(content: bytes):
    reader = PdfFileReader(io.BytesIO(content), strict=False)
    (signature,) = reader.embedded_signatures
    return signature, validate_pdf_signature(signature, ValidationContext(trust_roots=[_root()]))


def test_the_licence_file_is_pades_signed_by_the_issuer_and_still_verifies(department):
    # given
    licence = person_licence(department)

    # when
    content = bytes(ensure_licence_file(licence_id=licence.pk).content)

    # then: a PDF reader trusting the platform root sees the department's valid signature over
    # the whole file
    signature, status = _pades_status(content)
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage.name == "ENTIRE_FILE"
    assert department.name in signature.signer_cert.subject.human_friendly
    # and the SM2 seal still covers the rendering and 验真 answers valid
    body, ses = sealing.detach(content)
    assert ses is not None
    assert body.startswith(b"%PDF")
    assert verify_file(content).is_valid


def test_a_changed_byte_breaks_both_signatures(department):
    content = bytearray(ensure_licence_file(licence_id=person_licence(department).pk).content)
    at = content.index(b"/Title") + 8
    content[at] ^= 0x01

    _signature, status = _pades_status(bytes(content))
    assert status.intact is False
    assert verify_file(bytes(content)).reason == "hash_mismatch"


def test_certificates_are_the_same_in_every_process(department):
    # given: the derived keys and certificates forgotten, as in a fresh process
    first = pades.root_certificate_pem()
    pades._root.cache_clear()
    pades._derived_key.cache_clear()

    # then: the same root, so files signed by any worker validate against one root
    assert pades.root_certificate_pem() == first


@override_settings(LICENCE_PADES=False)
def test_off_switch(department):
    content = bytes(ensure_licence_file(licence_id=person_licence(department).pk).content)
    assert b"/ByteRange" not in content
    assert verify_file(content).is_valid
    assert LicenceFile.objects.count() == 1


@pytest.mark.django_db
def test_the_root_certificate_is_published_on_the_verification_page(client) -> None:
    # given the public verification page
    page = client.get("/licences/verify/")
    assert "/licences/root-certificate.pem" in page.content.decode()
    # when the root certificate is downloaded
    response = client.get("/licences/root-certificate.pem")
    # then it is the root the department certificates chain to, as PEM, without a login
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    assert response.content == pades.root_certificate_pem()
    assert response.content.startswith(b"-----BEGIN CERTIFICATE-----")


def test_signing_works_under_a_caller_running_an_event_loop(department, settings):
    # given: an SM2-sealed file not yet PAdES-signed, and a caller that runs an asyncio event
    # loop (pyHanko's synchronous signer calls asyncio.run, which refuses to run inside one),
    # as Playwright's sync API does around an eager render in the browser tests
    import asyncio

    settings.LICENCE_PADES = False
    row = ensure_licence_file(licence_id=person_licence(department).pk)
    key = type(row.seal_key).objects.select_related("department").get(pk=row.seal_key_id)
    sealed = bytes(row.content)

    async def sign_inside_a_loop() -> bytes:
        return pades.sign(sealed, seal_key=key, reason="电子证照签章")

    # when
    content = asyncio.run(sign_inside_a_loop())

    # then: the file is signed all the same, and the SM2 seal still verifies
    _signature, status = _pades_status(content)
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert verify_file(content).is_valid

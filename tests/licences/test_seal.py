"""The licence file: SM2/SM3 primitives cross-checked with OpenSSL, the sealed PDF, and
verification by upload (the checks of DOMAIN.md §3.5 each refusing with its reason)."""

import base64
import json
import shutil
import subprocess
from datetime import date, timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from apps.licences import sealing, sm2
from apps.licences.constants import LicenceAction
from apps.licences.models import LicenceFile, SealKey, VerificationRecord
from apps.licences.sealing_software import SoftwareSealProvider, create_seal_key
from apps.licences.selectors import verify_file
from apps.licences.services import (
    LicenceActor,
    change_licence,
    change_licence_status,
    ensure_licence_file,
    revoke_seal_key,
)
from tests.identity.factories import verified_user
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db

OPENSSL = shutil.which("openssl")
DISTID = "distid:1234567812345678"


def _openssl_has_sm2() -> bool:
    if OPENSSL is None:
        return False
    probe = subprocess.run(
        [OPENSSL, "list", "-public-key-algorithms"], capture_output=True, text=True, check=False
    )
    return "SM2" in probe.stdout


needs_openssl = pytest.mark.skipif(not _openssl_has_sm2(), reason="openssl without SM2")


# --- SM2 / SM3 against an independent implementation -----------------------------------------


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905 Appendix A, example 1: "abc"
    assert sm2.sm3_digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_signature_verifies_and_refuses_other_data_and_keys():
    keys = sm2.generate_keypair()
    signature = sm2.sign(keys, "照面信息".encode())
    assert sm2.verify(keys.public_hex, "照面信息".encode(), signature)
    assert not sm2.verify(keys.public_hex, "照面信息!".encode(), signature)
    assert not sm2.verify(sm2.generate_keypair().public_hex, "照面信息".encode(), signature)
    assert not sm2.verify(keys.public_hex, "照面信息".encode(), b"\x30\x00")


@needs_openssl
def test_openssl_verifies_our_signature(tmp_path):
    keys = sm2.generate_keypair()
    data = "电子证照 SM2 签名".encode()
    (tmp_path / "pub.pem").write_text(sm2.public_key_pem(keys.public_hex))
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "sig").write_bytes(sm2.sign(keys, data))

    def openssl_verify(path: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                *(OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem")),
                *("-rawin", "-digest", "sm3", "-pkeyopt", DISTID),
                *("-in", path, "-sigfile", str(tmp_path / "sig")),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    assert "Signature Verified Successfully" in openssl_verify(str(tmp_path / "data")).stdout
    (tmp_path / "other").write_bytes(data + b"x")
    assert openssl_verify(str(tmp_path / "other")).returncode != 0


@needs_openssl
def test_we_verify_an_openssl_signature(tmp_path):
    key = tmp_path / "key.pem"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "SM2", "-out", str(key)], check=True)
    der = subprocess.run(
        [OPENSSL, "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    data = "颁发机构的电子签章".encode()
    (tmp_path / "data").write_bytes(data)
    subprocess.run(
        [
            *(OPENSSL, "pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-digest", "sm3"),
            *("-pkeyopt", DISTID, "-in", str(tmp_path / "data"), "-out", str(tmp_path / "sig")),
        ],
        check=True,
    )
    public = sm2.public_hex_from_der(der)
    assert sm2.verify(public, data, (tmp_path / "sig").read_bytes())
    assert not sm2.verify(public, data + b"!", (tmp_path / "sig").read_bytes())


# --- the sealed file ---------------------------------------------------------------------------


@pytest.fixture
def sealed(db, department):
    holder = verified_user("章一凡")
    licence = person_licence(department, holder=holder)
    row = ensure_licence_file(licence_id=licence.pk)
    return licence, bytes(row.content)


def test_file_is_a_pdf_with_an_embedded_cjk_font_and_a_seal(sealed):
    licence, content = sealed
    assert content.startswith(b"%PDF-")
    signed, signature = sealing.detach(content)
    assert signed.rstrip().endswith(b"%%EOF")
    assert b"/FontFile2" in signed  # the TrueType CJK subset is embedded
    assert signature["toSign"]["propertyInfo"] == licence.identifier
    assert signature["toSign"]["eseal"]["eSealInfo"]["header"]["id"] == "ES"
    assert signature["signatureAlgID"] == "1.2.156.10197.1.501"
    # the holder's ID number is never in the file in clear, nor the identifier in the QR
    assert licence.holder_code.encode() not in content


def test_file_is_rendered_once(sealed, django_assert_max_num_queries):
    licence, content = sealed
    with django_assert_max_num_queries(1):
        again = ensure_licence_file(licence_id=licence.pk)
    assert bytes(again.content) == content
    assert LicenceFile.objects.count() == 1


@needs_openssl
def test_openssl_verifies_the_seal_of_a_file(sealed, tmp_path):
    _licence, content = sealed
    signed, signature = sealing.detach(content)
    public = signature["cert"]["publicKey"]
    (tmp_path / "pub.pem").write_text(sm2.public_key_pem(public))
    (tmp_path / "tbs").write_bytes(sealing.canonical(signature["toSign"]))
    (tmp_path / "sig").write_bytes(base64.b64decode(signature["signature"]))
    result = subprocess.run(
        [
            *(OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem")),
            *("-rawin", "-digest", "sm3", "-pkeyopt", DISTID),
            *("-in", str(tmp_path / "tbs"), "-sigfile", str(tmp_path / "sig")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Signature Verified Successfully" in result.stdout
    # and the signed hash is OpenSSL's SM3 of the rendering
    (tmp_path / "pdf").write_bytes(signed)
    digest = subprocess.run(
        [OPENSSL, "dgst", "-sm3", "-r", str(tmp_path / "pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert digest == signature["toSign"]["dataHash"]


def test_a_sealed_file_verifies(sealed):
    licence, content = sealed
    answer = verify_file(content)
    assert (answer.is_valid, answer.reason, answer.licence) == (True, "valid", licence)


def test_one_changed_byte_is_refused(sealed):
    _licence, content = sealed
    at = content.index(b"/Title") + 8
    tampered = content[:at] + bytes([content[at] ^ 1]) + content[at + 1 :]
    assert verify_file(tampered).reason == "hash_mismatch"


def test_a_file_without_a_seal_is_refused(sealed):
    _licence, content = sealed
    signed, _signature = sealing.detach(content)
    assert verify_file(signed).reason == "no_seal"
    assert verify_file(b"not a pdf").reason == "no_seal"


def test_a_seal_from_another_departments_key_is_refused(sealed, other_department):
    # given: the same rendering sealed with another department's genuine seal
    licence, content = sealed
    signed, _signature = sealing.detach(content)
    sealer = SoftwareSealProvider()
    key, material = sealer.material_for(other_department)
    forged = sealing.attach(
        signed,
        sealing.sign_document(
            signed, material=material, key=key, sealer=sealer, property_info=licence.identifier
        ),
    )
    # then
    answer = verify_file(forged)
    assert (answer.is_valid, answer.reason) == (False, "seal_wrong_issuer")


def test_a_seal_with_a_key_not_in_its_certificate_is_refused(sealed):
    _licence, content = sealed
    signed, signature = sealing.detach(content)
    intruder = sm2.generate_keypair()
    signature["cert"] = {**signature["cert"], "publicKey": intruder.public_hex}
    signature["signature"] = base64.b64encode(
        sm2.sign(intruder, sealing.canonical(signature["toSign"]))
    ).decode()
    assert verify_file(sealing.attach(signed, signature)).reason == "cert_invalid"


def test_an_expired_seal_certificate_is_refused(db, department):
    # given: the department's seal and certificate ended yesterday
    start = timezone.localdate() - timedelta(days=400)
    create_seal_key(department, valid_from=start, valid_until=start + timedelta(days=30))
    old = SealKey.objects.get(department=department)
    licence = person_licence(department)
    sealer = SoftwareSealProvider()
    material = sealing.SealMaterial(old.es_id, old.seal, old.certificate)
    signed = b"%PDF-1.7\n%%EOF\n"
    content = sealing.attach(
        signed,
        sealing.sign_document(
            signed, material=material, key=old, sealer=sealer, property_info=licence.identifier
        ),
    )
    # then
    assert verify_file(content).reason == "seal_expired"
    # and a file sealed after that uses a fresh key
    row = ensure_licence_file(licence_id=licence.pk)
    assert row.seal_key_id != old.pk
    assert verify_file(bytes(row.content)).is_valid


def test_a_revoked_seal_is_refused(sealed):
    licence, content = sealed
    key = LicenceFile.objects.get(licence=licence).seal_key
    revoke_seal_key(seal_key_id=key.pk, user=None, reason="密钥泄露")
    assert verify_file(content).reason == "seal_revoked"


def test_a_revoked_licence_is_refused_with_its_date(sealed):
    licence, content = sealed
    change_licence_status(
        licence_id=licence.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.REVOKE,
        reason="违法经营",
    )
    answer = verify_file(content)
    assert (answer.is_valid, answer.reason) == (False, "revoked")
    assert timezone.localdate().isoformat() in answer.message


def test_an_old_version_says_superseded(sealed):
    licence, content = sealed
    change_licence(licence_id=licence.pk, actor=LicenceActor.system(), kind="renew", reason="延续")
    answer = verify_file(content)
    assert (answer.is_valid, answer.reason, answer.superseded_by) == (False, "superseded", "002")


def test_seal_outside_its_validity_is_refused_on_that_day(sealed):
    _licence, content = sealed
    assert verify_file(content, today=date(2000, 1, 1)).reason == "seal_expired"


def test_the_seal_structure_is_signed_by_the_seal_maker(sealed):
    _licence, content = sealed
    signed, signature = sealing.detach(content)
    signature["toSign"]["eseal"]["eSealInfo"]["property"]["validEnd"] = "2999-12-31"
    resealed = sealing.attach(signed, json.loads(json.dumps(signature)))
    assert verify_file(resealed).reason == "seal_invalid"


# --- the pages ---------------------------------------------------------------------------------


def test_holder_downloads_the_pdf(client, department, django_assert_max_num_queries):
    holder = verified_user("柳青")
    licence = person_licence(department, holder=holder)
    ensure_licence_file(licence_id=licence.pk)
    client.force_login(holder)
    # session, user, licence (+type, issuer), enterprise capacity check, the file
    with django_assert_max_num_queries(6):
        response = client.get(reverse("licences:download", args=[licence.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert bytes(response.content).startswith(b"%PDF-")
    meta = client.get(reverse("licences:download", args=[licence.pk]), {"format": "json"})
    assert meta.json()["certificate_identifier"] == licence.identifier


def test_verify_page_checks_an_uploaded_file(client, sealed, django_assert_max_num_queries):
    from django.core.files.uploadedfile import SimpleUploadedFile

    licence, content = sealed
    upload = SimpleUploadedFile("licence.pdf", content, content_type="application/pdf")
    # file by digest (+licence, type, issuer, seal key), revocation check, record
    with django_assert_max_num_queries(6):
        page = client.post(reverse("licences:verify"), {"file": upload})
    assert page.status_code == 200
    assert "该证照真实有效" in page.content.decode()
    assert licence.holder_name not in page.content.decode()  # masked

    tampered = content.replace(b"/Title", b"/Titel", 1)
    upload = SimpleUploadedFile("licence.pdf", tampered, content_type="application/pdf")
    page = client.post(reverse("licences:verify"), {"file": upload})
    assert "文件内容已被篡改" in page.content.decode()
    assert list(VerificationRecord.objects.values_list("channel", "reason").order_by("pk")) == [
        ("file", "valid"),
        ("file", "hash_mismatch"),
    ]


def test_verify_page_without_a_file_says_so(client, db):
    page = client.post(reverse("licences:verify"), {})
    assert page.status_code == 400
    assert "请选择要核验的电子证照文件" in page.content.decode()


def test_verify_page_is_rate_limited(client, db, settings):
    settings.LICENCE_VERIFY_PAGE_RATE = 5
    url, query = reverse("licences:verify"), {"token": "x"}
    answers = [client.get(url, query, REMOTE_ADDR="192.0.2.7").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    assert "查询过于频繁" in client.get(url, query, REMOTE_ADDR="192.0.2.7").content.decode()
    # another address is not affected, and nothing of the address is stored
    assert client.get(url, query, REMOTE_ADDR="192.0.2.8").status_code == 200
    assert VerificationRecord.objects.count() == 6

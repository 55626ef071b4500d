"""The uploaded contract and the performance milestones."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.marketplace.constants import ContractStatus
from apps.marketplace.models import Contract, ContractMilestone
from apps.marketplace.services import (
    add_milestone,
    confirm_completion,
    confirm_contract,
    confirm_milestone,
    report_milestone,
    select_directly,
    upload_contract,
)
from tests.marketplace.factories import (
    after_award_publicity,
    l3_user,
    listed_agency,
    published_project,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% contract signed by both sides\n%%EOF\n"


@pytest.fixture
def contract(service, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    project = published_project(service, method="direct")
    agency = listed_agency(service)
    select_directly(
        user=project.owner_user, project_id=project.pk, agency_id=agency.pk, price=Decimal(9000)
    )
    return after_award_publicity(project)


def _sides(contract):
    return contract.project.owner_user, contract.agency.enterprise.legal_representative


def test_uploaded_contract_counts_for_the_uploader_and_the_other_side_confirms(contract):
    owner, agent = _sides(contract)
    refusals = {}
    for name, user, upload in (
        ("not_pdf", owner, SimpleUploadedFile("c.pdf", b"MZ not a pdf")),
        ("stranger", l3_user(), SimpleUploadedFile("c.pdf", PDF)),
    ):
        with pytest.raises(DomainError) as error:
            upload_contract(user=user, contract_id=contract.pk, document=upload)
        refusals[name] = error.value.code
    # when: the owner uploads, the agency confirms online
    upload_contract(user=owner, contract_id=contract.pk, document=SimpleUploadedFile("c.pdf", PDF))
    half = Contract.objects.get().status
    confirm_contract(user=agent, contract_id=contract.pk)
    # then
    assert refusals == {"not_pdf": "invalid_file", "stranger": "forbidden"}
    contract.refresh_from_db()
    assert (half, contract.status) == (ContractStatus.AWAITING_SIGNATURE, ContractStatus.SIGNED)
    assert contract.document_sha256 == hashlib.sha256(PDF).hexdigest()
    uploaded = AuditEvent.objects.get(action="marketplace.contract_uploaded")
    assert uploaded.data["sha256"] == contract.document_sha256


def test_completion_waits_for_every_milestone(contract):
    owner, agent = _sides(contract)
    milestone = add_milestone(
        user=owner,
        contract_id=contract.pk,
        title="提交环境影响报告表初稿",
        due_on=timezone.localdate() + timedelta(days=10),
    )
    with pytest.raises(DomainError) as agency_adds:
        add_milestone(user=agent, contract_id=contract.pk, title="x", due_on=timezone.localdate())
    with pytest.raises(DomainError) as before_signing:
        report_milestone(user=agent, milestone_id=milestone.pk)
    for user in (owner, agent):
        confirm_contract(user=user, contract_id=contract.pk)
    with pytest.raises(DomainError) as unreported:
        confirm_milestone(user=owner, milestone_id=milestone.pk)
    report_milestone(user=agent, milestone_id=milestone.pk)
    with pytest.raises(DomainError) as open_milestone:
        confirm_completion(user=agent, contract_id=contract.pk)
    confirm_milestone(user=owner, milestone_id=milestone.pk)
    for user in (owner, agent):
        confirm_completion(user=user, contract_id=contract.pk)
    # then
    assert agency_adds.value.code == "forbidden"
    assert before_signing.value.code == "invalid_state"
    assert unreported.value.code == "invalid_state"
    assert open_milestone.value.code == "milestones_open"
    assert Contract.objects.get().status == ContractStatus.COMPLETED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "marketplace.milestone_added",
        "marketplace.milestone_reported",
        "marketplace.milestone_confirmed",
    } <= actions


def test_upload_and_milestones_through_the_page(client, contract):
    owner, agent = _sides(contract)
    url = reverse("marketplace:contract", args=[contract.project_id])
    page_url = reverse("marketplace:project", args=[contract.project_id])
    client.force_login(owner)
    page = client.get(page_url).content.decode()
    client.post(url, {"action": "upload", "document": SimpleUploadedFile("c.pdf", PDF)})
    client.post(
        url,
        {
            "action": "milestone_add",
            "title": "现场踏勘",
            "due_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        },
    )
    client.force_login(agent)
    client.post(url, {"action": "confirm"})
    milestone = ContractMilestone.objects.get()
    client.post(url, {"action": "milestone_report", "milestone": milestone.pk})
    agency_page = client.get(page_url).content.decode()
    client.logout()
    public = client.get(page_url).content.decode()
    # then
    assert "上传合同文本" in page
    assert Contract.objects.get().status == ContractStatus.SIGNED
    assert ContractMilestone.objects.get().reported_at is not None
    assert "机构已报告完成，待业主确认" in agency_page
    assert "SHA-256" not in public

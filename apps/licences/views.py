"""Pages of the licences app: the wallet (卡包) and public verification (验真)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import segno

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.exceptions import DomainError
from apps.identity.models import Enterprise, StaffMembership
from apps.licences import pades, selectors, services
from apps.licences.forms import AuthorisationForm
from apps.licences.models import VerificationToken


def _enterprise(request: HttpRequest) -> Enterprise | None:
    raw = request.GET.get("enterprise") or request.POST.get("enterprise")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    enterprise = Enterprise.objects.filter(pk=int(raw)).first()
    if enterprise is None:
        raise Http404
    return enterprise


def _wallet_enterprise(request: HttpRequest) -> Enterprise | None:
    """``?enterprise=`` of a wallet page, refused (audited 404) unless the user may open it."""
    enterprise = _enterprise(request)
    if enterprise is not None and not selectors.can_open_enterprise_wallet(
        request.user, enterprise
    ):
        services.record_access_refused(
            actor=services.LicenceActor.of_user(request.user),
            identifier=f"enterprise:{enterprise.pk}",
            channel="wallet.enterprise",
        )
        raise Http404
    return enterprise


@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    enterprise = _wallet_enterprise(request)
    licences = list(selectors.list_licences_for(request.user, enterprise=enterprise))
    return render(
        request,
        "licences/wallet.html",
        {
            "licences": licences,
            "enterprise": enterprise,
            "enterprises": selectors.wallet_enterprises(request.user),
        },
    )


def _licence_or_audited_404(request: HttpRequest, pk: int, channel: str) -> Any:
    """The licence the user may see; a refusal (someone else's or no such licence) is audited
    before the 404, with the licence id and the page, never the licence's data."""
    try:
        return selectors.get_licence_for(request.user, pk)
    except Http404:
        services.record_access_refused(
            actor=services.LicenceActor.of_user(request.user),
            identifier=f"id:{pk}",
            channel=channel,
        )
        raise


@login_required
def licence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    licence = _licence_or_audited_404(request, pk, "wallet.detail")
    return render(
        request,
        "licences/licence_detail.html",
        {
            "licence": licence,
            "face": selectors.masked_face(licence),
            "versions": selectors.licence_versions(licence),
            "history": list(licence.history.all()),
            "uses": list(selectors.list_uses_for(licence)[:50]),
            "answer": selectors.verify_licence(licence),
        },
    )


@login_required
@require_POST
def licence_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """A fresh QR: 验真 (for anyone handed the licence) or 亮证 (for a clerk to scan)."""
    licence = _licence_or_audited_404(request, pk, "wallet.qr")
    purpose = request.POST.get("purpose", VerificationToken.Purpose.VERIFY)
    if purpose not in VerificationToken.Purpose.values:
        raise Http404
    token, row = services.create_verification_token(
        licence_id=licence.pk, user=request.user, purpose=purpose
    )
    url = request.build_absolute_uri(reverse("licences:verify") + f"?token={token}")
    qr = segno.make(url, error="m")
    return render(
        request,
        "licences/licence_qr.html",
        {
            "licence": licence,
            "svg": qr.svg_inline(scale=5, dark="#1a1a1a", omitsize=True),
            "url": url,
            "token_row": row,
            "is_show": purpose == VerificationToken.Purpose.SHOW,
        },
    )


@login_required
def licence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The sealed PDF of this version (rendered on first need); ``?format=json`` gives the
    GB/T 36903 metadata and face data instead."""
    licence = _licence_or_audited_404(request, pk, "wallet.download")
    if request.GET.get("format") == "json":
        return _metadata_download(licence)
    row = services.ensure_licence_file(licence_id=licence.pk)
    response = HttpResponse(bytes(row.content), content_type="application/pdf")
    filename = f"licence-{licence.pk}-v{licence.version:03d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _metadata_download(licence: Any) -> HttpResponse:
    body = {
        "certificate_identifier": licence.identifier,
        "certificate_name": licence.name,
        "certificate_type_code": licence.licence_type.code,
        "certificate_number": licence.number,
        "issuer": licence.issuer.name,
        "issuer_code": licence.issuer_code,
        "issue_date": licence.issued_on.isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else "长期",
        "jurisdiction_code": licence.jurisdiction_code,
        "holder": licence.holder_name,
        "holder_code": licence.holder_code,
        "holder_code_type": licence.holder_code_type,
        "face_data": licence.face_data,
        "status": licence.status,
        "version": f"{licence.version:03d}",
        "predecessor": licence.predecessor.identifier if licence.predecessor else None,
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="licence-{licence.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


MAX_UPLOAD = 5 * 1024 * 1024


def _over_limit(request: HttpRequest) -> bool:
    """A per-address counter in the cache for one minute; the address itself is only hashed
    into the cache key and never stored or logged."""
    ident = hashlib.sha256(request.META.get("REMOTE_ADDR", "").encode()).hexdigest()[:32]
    key = f"licences:verify-page:{ident}:{int(time.time() // 60)}"
    cache.add(key, 0, 70)
    try:
        return cache.incr(key) > settings.LICENCE_VERIFY_PAGE_RATE
    except ValueError:
        return False


def verify(request: HttpRequest) -> HttpResponse:
    """Public 验真 page: a token from a QR (or typed in), or an uploaded licence file."""
    token = request.GET.get("token", "").strip()
    answer, error, channel = None, "", "token"
    if (token or request.method == "POST") and _over_limit(request):
        response = render(
            request,
            "licences/verify.html",
            {"error": _("查询过于频繁，请一分钟后再试")},
            status=429,
        )
        response["Retry-After"] = "60"
        return response
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要核验的电子证照文件")
        elif upload.size > MAX_UPLOAD:
            error = _("文件过大（不超过5MB）")
        else:
            answer, channel = selectors.verify_file(upload.read()), "file"
    elif token:
        answer = selectors.verify_token(token[:100])
    if answer is not None:
        services.record_verification(
            licence=answer.licence,
            channel=channel,
            outcome="valid" if answer.is_valid else "invalid",
            reason=answer.reason,
        )
    response = render(
        request,
        "licences/verify.html",
        {"answer": answer, "token": token, "error": error},
        status=400 if error else 200,
    )
    response["Cache-Control"] = "no-store"
    # same-origin, not no-referrer: with no-referrer Chromium sends ``Origin: null`` on the
    # upload form's POST and the CSRF check refuses it; the token still never leaves the site.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
def root_certificate(request: HttpRequest) -> HttpResponse:
    """The platform root of the licence PDFs' PAdES signatures: a PDF reader that trusts it
    shows every licence file as validly signed by its issuing department."""
    response = HttpResponse(pades.root_certificate_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="govportal-licence-root.pem"'
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _token_from(raw: str) -> str:
    """A scanned QR gives the verify URL; a typed code is the token itself."""
    raw = raw.strip()
    if "token=" in raw:
        raw = parse_qs(urlsplit(raw).query).get("token", [""])[0]
    return raw[:100]


@login_required
def office_show(request: HttpRequest) -> HttpResponse:
    """/office/licences/show/: a clerk opens a licence the holder shows (亮证)."""
    membership = (
        StaffMembership.objects.filter(user=request.user, is_active=True)
        .select_related("department")
        .first()
    )
    if membership is None:
        raise PermissionDenied
    licence, error = None, ""
    raw = request.POST.get("code", "") if request.method == "POST" else ""
    if raw:
        actor = services.LicenceActor.of_user(request.user, membership.department)
        try:
            licence = services.open_shown_licence(token=_token_from(raw), actor=actor)
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "licences/office_show.html",
        {
            "licence": licence,
            "answer": selectors.verify_licence(licence) if licence else None,
            "error": error,
        },
    )


@login_required
def authorisations(request: HttpRequest) -> HttpResponse:
    """用证授权 of a wallet: the holder sees who may read which licences until when, grants a
    department a new authorisation and revokes one."""
    enterprise = _wallet_enterprise(request)
    licences = list(selectors.list_licences_for(request.user, enterprise=enterprise))
    form = AuthorisationForm(request.POST or None, licences=licences)
    error = ""
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                raw = request.POST.get("revoke", "")
                if not raw.isdigit():
                    raise Http404
                services.revoke_use_authorisation(authorisation_id=int(raw), user=request.user)
                return redirect(_authorisations_url(enterprise))
            if form.is_valid():
                data = form.cleaned_data
                services.grant_use_authorisation(
                    user=request.user,
                    enterprise=enterprise,
                    department=data["department"],
                    purpose=data["purpose"],
                    expires_at=data["expires_at"],
                    licence=data["licence"],
                    licence_types=[data["licence_type"].code] if data["licence_type"] else [],
                )
                return redirect(_authorisations_url(enterprise))
        except DomainError as exc:
            error = exc.message
    grants = selectors.authorisations_for(request.user, enterprise)
    now = timezone.now()
    return render(
        request,
        "licences/authorisations.html",
        {
            "enterprise": enterprise,
            "form": form,
            "error": error,
            "grants": [(g, g.revoked_at is None and g.expires_at > now) for g in grants],
        },
        status=400 if (error or form.errors) else 200,
    )


def _authorisations_url(enterprise: Enterprise | None) -> str:
    url = reverse("licences:authorisations")
    return f"{url}?enterprise={enterprise.pk}" if enterprise else url

"""Django admin for identity. ID and phone numbers appear masked only: the admin offers no
unaudited way to read them (reveals go through ``services.reveal_person_id_number``)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from apps.identity import services
from apps.identity.models import (
    AgentAuthorisation,
    ApiClient,
    AssuranceRaise,
    Enterprise,
    EnterpriseRole,
    LegalPersonRecord,
    Person,
    PopulationRecord,
    RelyingParty,
    SsoSignIn,
    StaffMembership,
    User,
    WalkInPerson,
)
from apps.identity.pii import mask_id_number, mask_name
from apps.identity.validators import clean_id_number


class PersonInline(admin.StackedInline):
    model = Person
    can_delete = False
    fields = ["name", "masked_id_number", "masked_phone", "assurance_level", "level_raised_at"]
    readonly_fields = fields


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(User)
class GovportalUserAdmin(UserAdmin):
    inlines = [PersonInline, StaffMembershipInline]
    list_display = ["username", "masked_name", "is_staff", "is_active", "date_joined"]


class AssuranceRaiseInline(admin.TabularInline):
    model = AssuranceRaise
    extra = 0
    can_delete = False
    fields = ["from_level", "to_level", "method", "raised_by", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "masked_id_number", "masked_phone", "assurance_level"]
    list_filter = ["assurance_level"]
    search_fields = ["user__username"]
    fields = ["user", "name", "masked_id_number", "masked_phone", "assurance_level"]
    readonly_fields = fields
    inlines = [AssuranceRaiseInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PopulationRecord)
class PopulationRecordAdmin(admin.ModelAdmin):
    list_display = ["masked_name", "masked_id", "household_region", "status"]
    list_filter = ["status"]
    fields = ["masked_name", "masked_id", "gender", "household_region", "status"]
    readonly_fields = ["masked_name", "masked_id"]

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: PopulationRecord) -> str:
        return mask_name(obj.name)

    @admin.display(description=_("身份证号码"))
    def masked_id(self, obj: PopulationRecord) -> str:
        return mask_id_number(obj.id_number)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WalkInPerson)
class WalkInPersonAdmin(admin.ModelAdmin):
    """Read-only and masked: rows are written by the window intake and the claim only."""

    list_display = [
        "masked_name",
        "masked_id_number",
        "masked_phone",
        "identified_at",
        "claimed_at",
    ]
    fields = [*list_display, "identified_by", "claimed_by"]
    readonly_fields = fields

    @admin.display(description=_("姓名"))
    def masked_name(self, obj: WalkInPerson) -> str:
        return obj.masked_name

    @admin.display(description=_("身份证号码"))
    def masked_id_number(self, obj: WalkInPerson) -> str:
        return obj.masked_id_number

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj: WalkInPerson) -> str:
        return obj.masked_phone

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LegalPersonRecordForm(forms.ModelForm):
    """The legal representative's ID number is write-only: the form shows it masked and takes
    a new one (validated, encrypted, indexed) only when typed."""

    new_legal_rep_id_number = forms.CharField(
        label=_("法定代表人证件号码（变更时填写）"),
        required=False,
        max_length=24,
        help_text=_("留空则不变更；保存后将与已绑定企业核对，法定代表人变更的授权随之失效"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = LegalPersonRecord
        fields = [
            "uscc",
            "name",
            "entity_type",
            "status",
            "legal_rep_name",
            "registered_on",
            "address",
            "business_scope",
        ]

    def clean_new_legal_rep_id_number(self) -> str:
        value = self.cleaned_data["new_legal_rep_id_number"].strip()
        if value:
            return clean_id_number(value)
        if self.instance.pk is None:
            raise forms.ValidationError(_("新增法人库记录时须填写法定代表人证件号码"))
        return ""


@admin.register(LegalPersonRecord)
class LegalPersonRecordAdmin(admin.ModelAdmin):
    """Edits go through the same re-check as the registry sync: when the record now names a
    different legal representative, the bound enterprise's representative, agent
    authorisations and licence administrators end (``services.recheck_enterprise_against_
    registry``), audited."""

    form = LegalPersonRecordForm
    list_display = ["name", "uscc", "legal_rep_name", "status"]
    list_filter = ["status"]
    search_fields = ["name", "uscc"]
    readonly_fields = ["masked_legal_rep_id"]

    @admin.display(description=_("法定代表人证件号码"))
    def masked_legal_rep_id(self, obj: LegalPersonRecord) -> str:
        return mask_id_number(obj.legal_rep_id_number) if obj.pk else ""

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "uscc"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj: LegalPersonRecord, form, change) -> None:
        new_id = form.cleaned_data.get("new_legal_rep_id_number")
        if new_id:
            obj.set_legal_rep_id_number(new_id)
        super().save_model(request, obj, form, change)
        enterprise = Enterprise.objects.filter(uscc=obj.uscc).first()
        if enterprise is not None:
            result = services.recheck_enterprise_against_registry(
                enterprise, actor=request.user, source="admin_registry_edit"
            )
            _report_recheck(self, request, [result])


def _report_recheck(model_admin, request, results) -> None:
    ended = [r for r in results if r.representative_ended]
    for result in ended:
        model_admin.message_user(
            request,
            _(
                "法定代表人已变更：原法定代表人的权限已终止，%(auths)d项经办人授权失效，"
                "%(roles)d名证照管理员被移除。"
            )
            % {"auths": result.voided_authorisations, "roles": result.ended_admin_roles},
            messages.WARNING,
        )


class EnterpriseRoleInline(admin.TabularInline):
    """Read-only: licence administrators are appointed and removed by the legal representative
    on the profile page (``services.add_licence_administrator``: at most five, audited)."""

    model = EnterpriseRole
    fk_name = "enterprise"
    extra = 0
    fields = ["user", "role", "granted_by", "created_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    """The legal representative follows the 法人库 (bound by the person on the profile page,
    ended by the registry re-check); the admin cannot set it. Saving re-checks the registry."""

    list_display = ["name", "uscc", "legal_rep_name", "status"]
    list_filter = ["status"]
    search_fields = ["name", "uscc"]
    raw_id_fields = ["registry_record"]
    readonly_fields = ["legal_representative", "registry_record"]
    inlines = [EnterpriseRoleInline]
    actions = ["recheck_registry"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "uscc"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj: Enterprise, form, change) -> None:
        super().save_model(request, obj, form, change)
        result = services.recheck_enterprise_against_registry(
            obj, actor=request.user, source="admin_enterprise_edit"
        )
        _report_recheck(self, request, [result])

    @admin.action(description=_("按法人库重新核对法定代表人"))
    def recheck_registry(self, request, queryset) -> None:
        results = [
            services.recheck_enterprise_against_registry(
                enterprise, actor=request.user, source="admin_action"
            )
            for enterprise in queryset
        ]
        _report_recheck(self, request, results)
        changed = sum(1 for r in results if r.representative_ended or r.status_changed)
        self.message_user(
            request,
            _("已核对%(count)d家企业。") % {"count": len(results)}
            + (_("其中%(changed)d家有变更。") % {"changed": changed} if changed else ""),
        )


@admin.register(AgentAuthorisation)
class AgentAuthorisationAdmin(admin.ModelAdmin):
    list_display = ["enterprise", "agent", "scope", "expires_at", "revoked_at"]
    list_filter = ["scope", "revoke_reason"]
    raw_id_fields = ["enterprise", "agent", "granted_by", "revoked_by"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role", "hall", "window", "is_active"]
    list_filter = ["role", "is_active"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["department"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["__str__", "department", "allowed_scopes", "is_active"]


@admin.register(RelyingParty)
class RelyingPartyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "department", "allowed_scopes", "is_active"]


@admin.register(SsoSignIn)
class SsoSignInAdmin(admin.ModelAdmin):
    """Read-only: what each person agreed to at SSO sign-in (docs/sso.md)."""

    list_display = ["created_at", "user", "application", "acr_level", "enterprise", "capacity"]
    list_filter = ["capacity", "acr_level"]
    raw_id_fields = ["user", "application", "enterprise", "authorisation"]
    readonly_fields = [
        "user",
        "application",
        "scope",
        "acr_level",
        "auth_time",
        "enterprise",
        "capacity",
        "authorisation",
        "created_at",
    ]
    exclude = ["grant", "access_token"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

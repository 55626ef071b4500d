"""Django admin for identity. ID and phone numbers appear masked only: the admin offers no
unaudited way to read them (reveals go through ``services.reveal_person_id_number``)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

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
)
from apps.identity.pii import mask_id_number, mask_name


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


@admin.register(LegalPersonRecord)
class LegalPersonRecordAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "legal_rep_name", "status"]
    list_filter = ["status"]
    search_fields = ["name", "uscc"]
    exclude = ["legal_rep_id_number", "legal_rep_id_index"]


class EnterpriseRoleInline(admin.TabularInline):
    model = EnterpriseRole
    fk_name = "enterprise"
    extra = 0
    raw_id_fields = ["user", "granted_by"]


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "legal_rep_name", "status"]
    list_filter = ["status"]
    search_fields = ["name", "uscc"]
    raw_id_fields = ["legal_representative", "registry_record"]
    inlines = [EnterpriseRoleInline]


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

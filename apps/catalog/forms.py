"""The online application form of an item: a JSON Schema rendered as a Chinese Django form.

The schema is the ``form_schema`` element of an ``ItemVersion`` (draft items are checked with
the same code before publishing). Supported subset (``check_form_schema`` refuses the rest):

- top level ``{"type": "object", "properties": {...}, "required": [...]}``; property order from
  ``"x-order": [keys]`` (PostgreSQL ``jsonb`` does not keep key order), else by key;
- property ``type``: ``string`` (``format`` ``date``/``email``, ``enum``, ``pattern``,
  ``minLength``/``maxLength``, ``"x-widget": "textarea"``), ``integer``/``number``
  (``minimum``/``maximum``), ``boolean``, ``array`` of a string ``enum`` (multiple choice);
- ``title`` is the Chinese label, ``description`` the help text, ``"x-enumNames"`` the labels of
  ``enum`` values, ``"x-errorMessage"`` the message shown when ``pattern`` fails;
- ``"x-format"``: ``id-number`` (居民身份证号码, GB 11643), ``uscc`` (GB 32100), ``mobile``;
- ``"x-applicant-kinds"``: the applicant kinds (``person``, ``enterprise``, ``agent``; see
  ``ApplicantKind``) a property is for. A property without it is for every kind; a property
  not for the applicant's kind is neither shown nor accepted, and leaves ``required`` (so one
  schema holds 本人承诺 for a person and 本单位承诺 for an enterprise). Schemas without the
  key behave as before. ``schema_for_kind`` gives the projection.

Validation runs twice: the Django form fields (Chinese messages), then the full schema with
``jsonschema`` so nothing the schema says is skipped; schema errors are mapped to the field.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

import jsonschema
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.identity.validators import clean_id_number

SUPPORTED_TYPES = {"string", "integer", "number", "boolean", "array"}
SUPPORTED_X_FORMATS = {"id-number", "uscc", "mobile"}
APPLICANT_KINDS = ("person", "enterprise", "agent")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")

REQUIRED_MESSAGE = gettext_lazy("请填写此项")
CHOICE_REQUIRED_MESSAGE = gettext_lazy("请选择此项")


def _field_errors() -> dict[str, Any]:
    return {
        "required": REQUIRED_MESSAGE,
        "invalid": gettext_lazy("格式不正确"),
        "invalid_choice": gettext_lazy("请选择有效的选项"),
        "max_length": gettext_lazy("不能超过%(limit_value)d个字"),
        "min_length": gettext_lazy("至少需要%(limit_value)d个字"),
        "max_value": gettext_lazy("不能大于%(limit_value)s"),
        "min_value": gettext_lazy("不能小于%(limit_value)s"),
    }


def _properties(schema: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    properties = schema.get("properties") or {}
    order = [key for key in schema.get("x-order", []) if key in properties]
    rest = sorted(key for key in properties if key not in order)
    return [(key, properties[key]) for key in order + rest]


def check_form_schema(schema: Mapping[str, Any]) -> list[str]:
    """Problems (Chinese) that stop ``schema`` from being used as an application form."""
    if not schema:
        return []
    problems = []
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [_("申请表不是有效的 JSON Schema：%(msg)s") % {"msg": exc.message}]
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return [_("申请表的顶层应为 object 类型并列出 properties")]
    for key, spec in _properties(schema):
        if not re.match(r"^[a-z][a-z0-9_]*$", key):
            problems.append(_("字段标识 %(key)s 只能使用小写字母、数字和下划线") % {"key": key})
        if not spec.get("title"):
            problems.append(_("字段 %(key)s 缺少中文标题（title）") % {"key": key})
        kind = spec.get("type")
        if kind not in SUPPORTED_TYPES:
            problems.append(_("字段 %(key)s 的类型不受支持") % {"key": key})
        if kind == "array" and not (spec.get("items") or {}).get("enum"):
            problems.append(_("多选字段 %(key)s 需要在 items 中列出选项（enum）") % {"key": key})
        x_format = spec.get("x-format")
        if x_format and x_format not in SUPPORTED_X_FORMATS:
            problems.append(_("字段 %(key)s 的 x-format 不受支持") % {"key": key})
        kinds = spec.get("x-applicant-kinds")
        if kinds is not None and (
            not isinstance(kinds, list) or not kinds or set(kinds) - set(APPLICANT_KINDS)
        ):
            problems.append(
                _("字段 %(key)s 的 x-applicant-kinds 只能列出 person、enterprise、agent")
                % {"key": key}
            )
    for key in schema.get("required", []):
        if key not in schema["properties"]:
            problems.append(_("必填字段 %(key)s 未在 properties 中定义") % {"key": key})
    return problems


def schema_for_kind(schema: Mapping[str, Any], kind: str | None) -> dict[str, Any]:
    """``schema`` as the applicant of ``kind`` fills it in: properties marked
    ``x-applicant-kinds`` without ``kind`` removed (from ``required`` and ``x-order`` too).
    ``kind=None`` keeps every property (the whole schema, as stored)."""
    schema = dict(schema or {})
    if kind is None or not schema:
        return schema
    properties = schema.get("properties") or {}
    kept = {
        key: spec
        for key, spec in properties.items()
        if not isinstance(spec, Mapping)
        or "x-applicant-kinds" not in spec
        or kind in spec["x-applicant-kinds"]
    }
    schema["properties"] = kept
    if "required" in schema:
        schema["required"] = [key for key in schema["required"] if key in kept]
    if "x-order" in schema:
        schema["x-order"] = [key for key in schema["x-order"] if key in kept]
    return schema


def kinds_note(spec: Mapping[str, Any]) -> str:
    """Who fills a property in, for the item's guide (empty when everyone does)."""
    kinds = set(spec.get("x-applicant-kinds") or APPLICANT_KINDS)
    if kinds >= set(APPLICANT_KINDS):
        return ""
    if kinds == {"person"}:
        return _("自然人申请时填写")
    if kinds == {"enterprise", "agent"}:
        return _("单位申请时填写")
    if kinds == {"enterprise"}:
        return _("单位负责人申请时填写")
    if kinds == {"agent"}:
        return _("经办人代单位申请时填写")
    return _("部分申请人填写")


def _choices(spec: Mapping[str, Any]) -> list[tuple[Any, str]]:
    values = spec.get("enum", [])
    names = spec.get("x-enumNames") or [str(v) for v in values]
    return list(zip(values, names, strict=False))


def _x_format_validator(x_format: str) -> Any:
    def validate(value: str) -> None:
        if not value:
            return
        if x_format == "id-number":
            # The identity app's check (length, birth date, check digit), not stdnum's
            # region table, which lags behind GB/T 2260: a number the population registry
            # and real-name verification accept must be accepted on the form too.
            try:
                clean_id_number(value)
            except ValidationError as exc:
                raise ValidationError(_("请输入有效的居民身份证号码")) from exc
        elif x_format == "uscc":
            try:
                uscc.validate(value)
            except StdnumError as exc:
                raise ValidationError(_("请输入有效的统一社会信用代码")) from exc
        elif x_format == "mobile" and not _MOBILE.match(value):
            raise ValidationError(_("请输入11位手机号码"))

    return validate


def _make_field(spec: Mapping[str, Any], *, required: bool) -> forms.Field:
    kind = spec.get("type")
    common: dict[str, Any] = {
        "label": spec.get("title"),
        "help_text": spec.get("description", ""),
        "required": required,
        "error_messages": _field_errors(),
    }
    if kind == "boolean":
        # A required boolean is a declaration the applicant must tick (承诺).
        common["error_messages"]["required"] = CHOICE_REQUIRED_MESSAGE
        return forms.BooleanField(**common)
    if kind == "integer":
        return forms.IntegerField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    if kind == "number":
        return forms.FloatField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    if kind == "array":
        common["error_messages"]["required"] = CHOICE_REQUIRED_MESSAGE
        return forms.MultipleChoiceField(
            choices=_choices(spec["items"]), widget=forms.CheckboxSelectMultiple, **common
        )
    if "enum" in spec:
        common["error_messages"]["required"] = CHOICE_REQUIRED_MESSAGE
        return forms.ChoiceField(choices=[("", "——"), *_choices(spec)], **common)
    if spec.get("format") == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.get("format") == "email":
        common["error_messages"]["invalid"] = gettext_lazy("请输入有效的电子邮箱地址")
        return forms.EmailField(max_length=spec.get("maxLength"), **common)
    validators = []
    if spec.get("x-format"):
        validators.append(_x_format_validator(spec["x-format"]))
    if spec.get("pattern"):
        message = spec.get("x-errorMessage") or _("格式不正确")
        validators.append(RegexValidator(spec["pattern"], message))
    widget = forms.Textarea(attrs={"rows": 3}) if spec.get("x-widget") == "textarea" else None
    return forms.CharField(
        max_length=spec.get("maxLength"),
        min_length=spec.get("minLength"),
        validators=validators,
        widget=widget,
        strip=True,
        **common,
    )


class ApplicationForm(forms.Form):
    """A form built from an item's schema; ``json_data()`` gives what is stored on the case.

    Labels end in a full-width colon (Chinese punctuation); required fields carry the
    ``required`` CSS class on their row (the templates mark them) and ``aria-required``."""

    schema: Mapping[str, Any]
    required_css_class = "required"

    def json_data(self) -> dict[str, Any]:
        assert self.is_valid()
        result: dict[str, Any] = {}
        for key, value in self.cleaned_data.items():
            if value in ("", None, []):
                continue  # leave optional fields out so the schema's types still hold
            result[key] = value.isoformat() if isinstance(value, datetime.date) else value
        return result


def build_application_form(
    version: Any, data: Mapping[str, Any] | None = None, *, kind: str | None = None
) -> ApplicationForm:
    """A bound (``data`` given) or unbound form for ``version.form_schema`` as the applicant
    of ``kind`` fills it in (``None``: every field), labels in Chinese."""
    schema = schema_for_kind(version.form_schema or {}, kind)
    required = set(schema.get("required", []))
    form = ApplicationForm(data=data, prefix=None, label_suffix="：")
    form.schema = schema
    for key, spec in _properties(schema):
        field = _make_field(spec, required=key in required)
        if field.required:
            field.widget.attrs["aria-required"] = "true"
        form.fields[key] = field
    return form


_SCHEMA_MESSAGES = {
    "required": REQUIRED_MESSAGE,
    "type": gettext_lazy("类型不正确"),
    "enum": gettext_lazy("请选择有效的选项"),
    "pattern": gettext_lazy("格式不正确"),
    "maxLength": gettext_lazy("内容过长"),
    "minLength": gettext_lazy("内容过短"),
    "maximum": gettext_lazy("数值过大"),
    "minimum": gettext_lazy("数值过小"),
    "format": gettext_lazy("格式不正确"),
    "additionalProperties": gettext_lazy("含有申请表中没有的字段"),
}


def _schema_errors(schema: Mapping[str, Any], instance: Mapping[str, Any]) -> dict[str, list[str]]:
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(instance):
        if error.validator == "required":
            field = error.message.split("'")[1] if "'" in error.message else "__all__"
        else:
            field = str(error.absolute_path[0]) if error.absolute_path else "__all__"
        spec = (schema.get("properties") or {}).get(field, {})
        if error.validator == "pattern" and spec.get("x-errorMessage"):
            message = spec["x-errorMessage"]
        else:
            message = str(_SCHEMA_MESSAGES.get(str(error.validator), _("内容不符合申请表要求")))
        errors.setdefault(field, []).append(message)
    return errors


def validate_application_data(
    version: Any, data: Mapping[str, Any], *, kind: str | None = None
) -> dict[str, Any]:
    """Cleaned, JSON-ready application data, or ``ValidationError`` with Chinese field messages.

    Works on plain JSON (API) and on ``QueryDict`` (HTML form posts) alike. With ``kind``,
    the fields of that applicant kind only are validated and kept (others are dropped).
    """
    schema = schema_for_kind(version.form_schema or {}, kind)
    if hasattr(data, "getlist"):
        form = build_application_form(version, data, kind=kind)
    else:
        # JSON input: Django form fields expect strings/lists, booleans stay booleans.
        normalised = {
            key: ("" if value is None else value)
            for key, value in dict(data).items()
            if not isinstance(value, bool) or value
        }
        form = build_application_form(version, normalised, kind=kind)
        unknown = sorted(set(data) - set(form.fields))
        if unknown and schema.get("additionalProperties") is False:
            raise ValidationError({key: [_("含有申请表中没有的字段")] for key in unknown})
    if not form.is_valid():
        raise ValidationError({key: list(msgs) for key, msgs in form.errors.items()})
    cleaned = form.json_data()
    errors = _schema_errors(schema, cleaned) if schema else {}
    if errors:
        raise ValidationError(errors)
    return cleaned

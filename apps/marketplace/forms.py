"""Forms of the marketplace pages (labels in Chinese; validation of rules is in services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.marketplace.constants import BidMode, SelectionMethod
from apps.marketplace.models import IntermediaryService, QualificationGrade


class AgencyRegistrationForm(forms.Form):
    enterprise = forms.TypedChoiceField(label=_("申请入驻的企业"), coerce=int)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32)
    introduction = forms.CharField(
        label=_("机构简介"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    service = forms.ModelChoiceField(
        label=_("承接的中介服务"), queryset=IntermediaryService.objects.filter(is_published=True)
    )
    qualification_code = forms.CharField(label=_("资质类别编码"), max_length=32)
    qualification_name = forms.CharField(label=_("资质名称"), max_length=100)
    grade = forms.TypedChoiceField(
        label=_("资质等级"), choices=QualificationGrade.choices, coerce=int
    )
    number = forms.CharField(label=_("证书编号"), max_length=64)
    issuer = forms.CharField(label=_("发证机关"), max_length=100)
    valid_from = forms.DateField(
        label=_("有效期起"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("有效期至"), widget=forms.DateInput(attrs={"type": "date"})
    )
    certificate = forms.FileField(label=_("证书扫描件"), required=False)
    commitment = forms.BooleanField(label=_("我已阅读并签署《诚信承诺书》"), required=True)

    def __init__(self, *args, enterprises=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].choices = [(e.pk, f"{e.name}（{e.uscc}）") for e in enterprises]


class ProjectForm(forms.Form):
    owner = forms.TypedChoiceField(
        label=_("项目业主"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_(
            "以单位名义发布须为其法定代表人、证照管理员或经授权的经办人，且实名核验达到三级。"
        ),
    )
    name = forms.CharField(label=_("项目名称"), max_length=200)
    service = forms.ModelChoiceField(
        label=_("中介服务事项"), queryset=IntermediaryService.objects.filter(is_published=True)
    )
    scope = forms.CharField(label=_("服务范围"), widget=forms.Textarea(attrs={"rows": 3}))
    requirement_code = forms.CharField(
        label=_("资质要求（资质类别编码，可留空）"), max_length=32, required=False
    )
    requirement_grade = forms.TypedChoiceField(
        label=_("资质等级要求"), choices=QualificationGrade.choices, coerce=int, required=False
    )
    budget = forms.DecimalField(label=_("预算或最高限价（元）"), min_value=0, decimal_places=2)
    time_limit_days = forms.IntegerField(label=_("服务时限（日）"), min_value=1)
    is_fiscal_funded = forms.BooleanField(
        label=_("使用财政性资金（采购限额以下须在中介超市选取）"), required=False
    )
    method = forms.ChoiceField(label=_("选取方式"), choices=SelectionMethod.choices)
    direct_reason = forms.CharField(label=_("直接选取理由"), max_length=300, required=False)
    registration_closes_at = forms.DateTimeField(
        label=_("报名截止时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    selection_at = forms.DateTimeField(
        label=_("选取时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    big_list_size = forms.IntegerField(label=_("大名单数量（信用择优）"), min_value=0, initial=0)
    small_list_size = forms.IntegerField(label=_("小名单数量（信用择优）"), min_value=0, initial=0)
    bid_rounds = forms.IntegerField(label=_("竞价轮数"), min_value=0, initial=0)
    bid_round_minutes = forms.IntegerField(label=_("每轮时长（分钟）"), min_value=0, initial=0)
    bid_mode = forms.ChoiceField(
        label=_("竞价方式"), choices=BidMode.choices, initial=BidMode.SEALED, required=False
    )
    rubric = forms.CharField(
        label=_("评分细则（方案择优，每行“指标:权重”，合计100）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact = forms.CharField(label=_("联系方式"), max_length=100, required=False)

    def __init__(self, *args, enterprises=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("本人（以个人名义发布）"))] + [
            (e.pk, f"{e.name}（{e.uscc}）") for e in enterprises
        ]

    def clean_rubric(self) -> dict[str, int]:
        rubric: dict[str, int] = {}
        for line in self.cleaned_data["rubric"].splitlines():
            if not line.strip():
                continue
            name, _sep, weight = line.replace("：", ":").partition(":")
            if not name.strip() or not weight.strip().isdigit():
                raise forms.ValidationError(_("每行格式为“指标:权重”，权重为整数"))
            rubric[name.strip()] = int(weight)
        return rubric


class NonceForm(forms.Form):
    nonce = forms.CharField(label=_("业主随机数"), max_length=64)


class RegistrationForm(forms.Form):
    agency = forms.TypedChoiceField(label=_("以哪家机构报名"), coerce=int)
    quoted_price = forms.DecimalField(
        label=_("报价（元，方案择优必填）"), required=False, min_value=0, decimal_places=2
    )
    proposal = forms.CharField(
        label=_("服务方案（方案择优必填）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, agencies=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, a.enterprise.name) for a in agencies]

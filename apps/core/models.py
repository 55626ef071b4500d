"""Shared base data: regions, departments, service halls and windows, the working-day calendar."""

from stdnum.cn import uscc

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base of every model (STYLE.md M1)."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


def validate_uscc(value: str) -> None:
    """统一社会信用代码, GB 32100-2015 check digit (DOMAIN.md §4.4)."""
    from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

    from django.core.exceptions import ValidationError

    try:
        uscc.validate(value)
    except InvalidLength as exc:
        raise ValidationError(_("统一社会信用代码应为18位"), code="uscc_length") from exc
    except InvalidChecksum as exc:
        raise ValidationError(_("统一社会信用代码校验位错误"), code="uscc_checksum") from exc
    except InvalidFormat as exc:
        raise ValidationError(
            _("统一社会信用代码含有非法字符（不得含 I、O、Z、S、V）"), code="uscc_format"
        ) from exc


class RegionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省级")
    CITY = 2, _("市级")
    COUNTY = 3, _("县级")
    TOWNSHIP = 4, _("乡级")
    VILLAGE = 5, _("村级")


class Region(TimeStampedModel):
    """行政区划 (GB/T 2260). Six digits to county; towns and villages use 9/12 digits."""

    code = models.CharField(
        _("区划代码"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3}(\d{3})?)?$", _("区划代码应为6、9或12位数字"))],
    )
    name = models.CharField(_("名称"), max_length=64)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


class AdministrativeLevel(models.IntegerChoices):
    """Level of a department (省/市/县/乡/村), aligned with GB/T 39046 A.2 行使层级 2-6."""

    PROVINCE = 2, _("省级")
    CITY = 3, _("市级")
    COUNTY = 4, _("县级")
    TOWNSHIP = 5, _("乡级")
    VILLAGE = 6, _("村级")


class Department(TimeStampedModel):
    """实施主体: a government department or authorised organisation."""

    name = models.CharField(_("名称"), max_length=128)
    short_name = models.CharField(_("简称"), max_length=64, blank=True)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc]
    )
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=AdministrativeLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    phone = models.CharField(_("咨询电话"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门（实施主体）")
        verbose_name_plural = _("部门（实施主体）")
        ordering = ["region__code", "name"]
        indexes = [models.Index(fields=["region", "level"])]

    def __str__(self) -> str:
        return self.name


class ServiceHall(TimeStampedModel):
    """政务服务大厅 / 便民服务中心."""

    name = models.CharField(_("名称"), max_length=128)
    code = models.CharField(_("大厅编码"), max_length=32, unique=True)
    region = models.ForeignKey(
        Region, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="halls"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=AdministrativeLevel.choices)
    address = models.CharField(_("地址"), max_length=200)
    opening_hours = models.CharField(_("办公时间"), max_length=200, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("政务服务大厅")
        verbose_name_plural = _("政务服务大厅")
        ordering = ["region__code", "code"]

    def __str__(self) -> str:
        return self.name


class WindowKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("综合受理窗口")
    DEPARTMENT = "department", _("部门专窗")
    DELIVERY = "delivery", _("出件窗口")
    HELP = "help", _("帮办代办窗口")


class ServiceWindow(TimeStampedModel):
    """A window (窗口) in a hall; the statistical key for 好差评 together with the hall code."""

    hall = models.ForeignKey(
        ServiceHall, verbose_name=_("大厅"), on_delete=models.CASCADE, related_name="windows"
    )
    number = models.CharField(_("窗口号"), max_length=16)
    name = models.CharField(_("窗口名称"), max_length=64)
    kind = models.CharField(
        _("窗口类型"), max_length=16, choices=WindowKind.choices, default=WindowKind.COMPREHENSIVE
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("进驻部门"), blank=True, related_name="windows"
    )
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("服务窗口")
        verbose_name_plural = _("服务窗口")
        ordering = ["hall", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="core_window_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.hall.name} {self.number}号窗口"


class CalendarSource(models.TextChoices):
    CHINESE_CALENDAR = "chinese_calendar", _("chinese-calendar 数据包")
    ADMIN = "admin", _("管理员录入")


class CalendarYear(TimeStampedModel):
    """Whether a year's State Council holiday arrangement is known.

    A year without a row here (or with ``is_published`` off) is computed with its statutory
    holidays only (``calendar.statutory_holidays``), provisionally,
    and the system says so loudly (DOMAIN.md §0.1).
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    is_published = models.BooleanField(
        _("已录入国务院放假安排"),
        default=False,
        help_text=_(
            "勾选后，该年按录入的节假日和调休计算工作日；未勾选则暂按法定节假日推算并告警。"
        ),
    )
    source = models.CharField(
        _("来源"), max_length=32, choices=CalendarSource.choices, default=CalendarSource.ADMIN
    )
    notice = models.CharField(_("通知文号或说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日（休息）")
    WORKDAY = "workday", _("调休上班日")


class CalendarDay(TimeStampedModel):
    """An exception to the weekday rule: a holiday on a weekday or a 调休 working weekend."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("节日名称"), max_length=32, blank=True)
    source = models.CharField(
        _("来源"), max_length=32, choices=CalendarSource.choices, default=CalendarSource.ADMIN
    )

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

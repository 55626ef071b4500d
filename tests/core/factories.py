import factory
from stdnum.cn import uscc

from apps.core.models import AdministrativeLevel, Department, Region, RegionLevel


def make_uscc(n: int, region_code: str = "360000") -> str:
    """A synthetic but valid 统一社会信用代码 for a government organ (prefix 11)."""
    body = f"11{region_code}{n:08d}0"  # 17 characters
    return body + uscc.calc_check_digit(body)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "360000"
    name = "江西省"
    level = RegionLevel.PROVINCE


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("uscc",)

    name = factory.Sequence(lambda n: f"测试部门{n}")
    uscc = factory.Sequence(lambda n: make_uscc(n + 1))
    region = factory.SubFactory(RegionFactory)
    level = AdministrativeLevel.PROVINCE

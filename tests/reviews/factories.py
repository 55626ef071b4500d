"""好差评 test data, built through the services where the app would build it."""

from __future__ import annotations

from typing import Any

import factory

from apps.core.models import AdministrativeLevel, ServiceHall, ServiceWindow
from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.models import ServiceAuthority, ServiceRecord
from tests.core.factories import DepartmentFactory, RegionFactory
from tests.identity.factories import StaffMembershipFactory


class HallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceHall

    name = factory.Sequence(lambda n: f"测试政务服务大厅{n}")
    code = factory.Sequence(lambda n: f"H36{n:04d}")
    region = factory.SubFactory(RegionFactory)
    level = AdministrativeLevel.PROVINCE
    address = "南昌市红谷滩区"


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceWindow
        skip_postgeneration_save = True

    hall = factory.SubFactory(HallFactory)
    number = factory.Sequence(lambda n: f"{n + 1:02d}")
    name = "综合受理窗口"

    @factory.post_generation
    def departments(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.departments.add(*extracted)


def clerk_at(window: ServiceWindow, department: Any) -> Any:
    return StaffMembershipFactory(
        department=department, role=StaffRole.CLERK, hall=window.hall, window=window
    ).user


def window_service(
    department: Any,
    *,
    clerk: Any = None,
    served_user: Any = None,
    window: ServiceWindow | None = None,
) -> ServiceRecord:
    window = window or WindowFactory(departments=[department])
    clerk = clerk or clerk_at(window, department)
    return services.record_window_service(
        clerk=clerk,
        window_id=window.pk,
        department_id=department.pk,
        summary="营业执照变更登记",
        item_code="11360000MB0000000X4000111",
        item_name="营业执照变更登记",
        served_user=served_user,
    )


def authority(region_code: str = "360000") -> Any:
    """A 政务服务管理机构 for ``region_code`` and one supervisor in it."""
    region = RegionFactory(code=region_code)
    department = DepartmentFactory(name="江西省政务服务管理局", region=region)
    ServiceAuthority.objects.create(department=department)
    return StaffMembershipFactory(department=department, role=StaffRole.SUPERVISOR).user


BAD_REASON = "60151"  # 服务效率：等候时间长 (offline set v1)
ONLINE_BAD_REASON = "50151"
GOOD_OPTION = "60101"

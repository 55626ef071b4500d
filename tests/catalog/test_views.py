"""Citizen pages: the printable guide, browsing, and helpful search pages."""

import pytest

from django.urls import reverse

from apps.catalog import services
from apps.catalog.licence_types import licence_type_code
from apps.catalog.services import ensure_themes, update_item
from tests.catalog.factories import element_fields, materials, published_item, superuser

pytestmark = pytest.mark.django_db


def test_guide_shows_every_element_and_where_to_go(client, department) -> None:
    from apps.core.models import ServiceHall, ServiceWindow

    actor = superuser()
    item = services.create_item(
        actor=actor,
        department=department,
        fields=element_fields(
            name="普通护照签发",
            visits_required=1,
            visits_reason="需现场采集指纹",
            local_basic_code="JX-GA-0101",
            legal_limit_days=15,
            promised_limit_days=7,
            online_depth=["1", "2", "3", "4", "7"],
            min_assurance_level=3,
            is_free=False,
            fee_items=[
                {"name": "护照工本费", "standard": "120元/本", "basis": "发改价格〔2017〕1186号"}
            ],
            result_type="licence",
            result_licence_type=licence_type_code("普通护照"),
        ),
        materials=materials(notes="须为有效期内的证件", legal_basis="《中华人民共和国护照法》"),
    )
    version = services.publish_item(actor=actor, item_id=item.pk)
    hall = ServiceHall.objects.create(
        name="江西省政务服务中心",
        code="H1",
        region=department.region,
        level=2,
        address="南昌市红谷滩区",
        opening_hours="工作日 9:00-17:00",
    )
    window = ServiceWindow.objects.create(hall=hall, number="03", name="公安专窗")
    window.departments.add(department)
    response = client.get(reverse("catalog:item-detail", args=[item.implementation_code]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "普通护照签发",
        version.implementation_code,
        version.basic_code,
        "行政许可",
        "需现场采集指纹",
        "居民身份证",
        "可免提交",
        "电子证照：居民身份证",
        "窗口办理、电脑端网上办理",
        "受理条件",
        "办理流程",
        "准予许可决定书",
        "江西省政务服务中心",
        "03号窗口",
        "打印办事指南",
        # local code, time limits and case kind, online depth, minimum real-name level
        "JX-GA-0101",
        "15 个工作日",
        "7 个工作日",
        "承诺件",
        "互联网受理",
        "互联网电子证照反馈",
        "L3 实人认证",
        # a charged fee with its standard and basis, the result's e-licence type
        "护照工本费：120元/本（依据：发改价格〔2017〕1186号）",
        "同步生成电子证照：普通护照",
        # materials' notes and legal basis
        "须为有效期内的证件",
        "《中华人民共和国护照法》",
        # the application form: its fields, whether required, the options
        "申请表",
        "申请人姓名",
        "迁入日期",
        "首次申领、到期换领、遗失补领",
    ):
        assert text in html, text
    assert "不收费" not in html
    rows = html.split("<h2>申请表</h2>")[1].split("</table>")[0]
    assert (rows.count("<td>必填</td>"), rows.count("<td>选填</td>")) == (5, 1)


def test_guide_of_draft_item_is_not_found(client, department) -> None:
    from tests.catalog.factories import draft_item

    item = draft_item(department)
    assert (
        client.get(reverse("catalog:item-detail", args=[item.implementation_code])).status_code
        == 404
    )


def test_browse_by_life_event(client, department) -> None:
    ensure_themes()
    item, _ = published_item(department, name="出生医学证明办理")
    update_item(actor=superuser(), item_id=item.pk, theme_codes=["birth"])
    services.publish_item(actor=superuser(), item_id=item.pk)  # themes count once published
    published_item(department, name="企业注销登记")
    response = client.get(reverse("catalog:index"), {"event": "birth"})
    html = response.content.decode()
    assert "出生医学证明办理" in html
    assert "企业注销登记" not in html


@pytest.mark.parametrize(
    ("query", "text"),
    [("", "请输入要办理的事情"), ("qqqqxz", "没有找到"), ("！！", "请输入要办理的事情")],
)
def test_empty_and_nonsense_searches_get_help(client, department, query, text) -> None:
    published_item(department)
    response = client.get(reverse("catalog:search"), {"q": query})
    assert response.status_code == 200
    assert text in response.content.decode()


def test_browse_by_region_includes_the_levels_above(client) -> None:
    # given: a province, a city and two of its counties, each with an item
    from apps.core.models import AdministrativeLevel, RegionLevel
    from tests.core.factories import DepartmentFactory, RegionFactory

    province = RegionFactory()
    city = RegionFactory(code="360100", name="南昌市", level=RegionLevel.CITY, parent=province)
    county = RegionFactory(code="360102", name="东湖区", level=RegionLevel.COUNTY, parent=city)
    other = RegionFactory(code="360103", name="西湖区", level=RegionLevel.COUNTY, parent=city)
    for region, level, name in (
        (province, AdministrativeLevel.PROVINCE, "省级事项"),
        (city, AdministrativeLevel.CITY, "市级事项"),
        (county, AdministrativeLevel.COUNTY, "东湖区事项"),
        (other, AdministrativeLevel.COUNTY, "西湖区事项"),
    ):
        published_item(DepartmentFactory(region=region, level=level), name=name)
    # when
    response = client.get(reverse("catalog:index"), {"region": county.code})
    # then
    html = response.content.decode()
    assert [name for name in ("省级事项", "市级事项", "东湖区事项") if name not in html] == []
    assert "西湖区事项" not in html
    assert '<option value="360102" selected>东湖区</option>' in html


def test_search_pages_keep_the_query_and_filters(client, department) -> None:
    # given: more matches than fit on one page
    from apps.catalog.views import PAGE_SIZE

    for _ in range(PAGE_SIZE + 1):
        published_item(department, name="护照签发")
    # when
    response = client.get(
        reverse("catalog:search"), {"q": "护照 & 签发", "department": department.uscc, "page": 1}
    )
    # then: the next-page link carries the (encoded) text and the filter, and page 2 works
    html = response.content.decode()
    expected = f"?q=%E6%8A%A4%E7%85%A7+%26+%E7%AD%BE%E5%8F%91&amp;department={department.uscc}"
    assert f'{expected}&amp;page=2"' in html
    second = client.get(
        reverse("catalog:search"), {"q": "护照 & 签发", "department": department.uscc, "page": 2}
    )
    assert second.content.decode().count('class="item-list__item card"') == 1

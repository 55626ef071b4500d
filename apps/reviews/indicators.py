"""Version 1 of the rating indicators (DOMAIN.md §2.3 ◐): 线上 and 线下, each indicator with
options for a good grade and bad-reason options for a 差评. A later change is a new version."""

from __future__ import annotations

# kind → [(indicator code, name, [good options], [bad reasons])]; option codes are the
# indicator code + a 2-digit suffix (01–49 good, 51–99 bad).
V1: dict[str, list[tuple[str, str, list[str], list[str]]]] = {
    "online": [
        ("501", "办事效率", ["办理速度快", "一次办成"], ["办理时间长", "多次跑动或重复提交"]),
        ("502", "办事指南精确度", ["指南清楚准确"], ["指南与实际要求不符", "材料要求不清楚"]),
        ("503", "办事便捷度", ["网上办理方便", "材料精简"], ["操作步骤繁琐", "要求提交不必要材料"]),
        ("504", "平台操作性", ["页面清晰易用"], ["系统卡顿或出错", "找不到办理入口"]),
    ],
    "offline": [
        ("601", "服务效率", ["等候时间短", "一次办成"], ["等候时间长", "多次跑动"]),
        ("602", "服务水平", ["业务熟练", "解答清楚"], ["业务不熟练", "一次性告知不到位"]),
        ("603", "服务态度", ["热情耐心", "文明礼貌"], ["态度生硬", "推诿扯皮"]),
    ],
}


def seed_indicator_sets(indicator_set_model, indicator_model, option_model) -> None:
    """Create version 1 of both sets if missing (used by the data migration)."""
    for kind, rows in V1.items():
        indicator_set, created = indicator_set_model.objects.get_or_create(
            kind=kind, version=1, defaults={"is_active": True}
        )
        if not created:
            continue
        for order, (code, name, good, bad) in enumerate(rows):
            indicator = indicator_model.objects.create(
                indicator_set=indicator_set, code=code, name=name, order=order
            )
            for n, label in enumerate(good, start=1):
                option_model.objects.create(
                    indicator=indicator, code=f"{code}{n:02d}", label=label, order=n
                )
            for n, label in enumerate(bad, start=51):
                option_model.objects.create(
                    indicator=indicator,
                    code=f"{code}{n:02d}",
                    label=label,
                    is_bad_reason=True,
                    order=n,
                )


def ensure_indicator_sets() -> None:
    """Version 1 with the app's models (demo loader, tests after a flush). Idempotent."""
    from apps.reviews.models import Indicator, IndicatorOption, IndicatorSet

    seed_indicator_sets(IndicatorSet, Indicator, IndicatorOption)

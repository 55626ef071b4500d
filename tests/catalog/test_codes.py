"""Code structure validation (DOMAIN.md §1.3): part by part, never on length alone."""

import pytest

from apps.catalog import codes
from tests.core.factories import make_uscc

USCC = make_uscc(7)
BAD_USCC = USCC[:-1] + ("1" if USCC[-1] != "1" else "2")


@pytest.mark.parametrize(
    ("_case", "code", "valid"),
    [
        ("twelve_digits_as_in_production", "370117002011", True),
        ("ten_chars_as_in_gbt39046", "XK00101000", True),
        ("lowercase", "xk00101000", False),
        ("punctuation", "3701-17002011", False),
        ("placeholder", "000000000000", False),
        ("too_long", "1" * 21, False),
    ],
)
def test_basic_code(_case: str, code: str, valid: bool) -> None:
    assert (codes.validate_basic_code(code) == []) is valid


@pytest.mark.parametrize(
    ("_case", "code", "basic", "level", "errors"),
    [
        ("production_31_chars", f"{USCC}3370117002011", "370117002011", "3", []),
        # A 10-character basic code makes a 29-character implementation code: still valid.
        ("other_length_same_structure", f"{USCC}2XK00101000", "XK00101000", "2", []),
        (
            "bad_uscc_check_digit",
            f"{BAD_USCC}3370117002011",
            "370117002011",
            "3",
            ["实施编码前18位不是有效的统一社会信用代码"],
        ),
        (
            "another_departments_uscc",
            f"{make_uscc(8)}3370117002011",
            "370117002011",
            "3",
            ["实施编码中的统一社会信用代码与实施主体不一致"],
        ),
        (
            "level_not_a2_code",
            f"{USCC}8370117002011",
            "370117002011",
            "3",
            ["实施编码第19位应为行使层级代码（1-7）"],
        ),
        (
            "level_differs_from_item",
            f"{USCC}4370117002011",
            "370117002011",
            "3",
            ["实施编码中的行使层级与事项的行使层级不一致"],
        ),
        (
            "basic_code_differs",
            f"{USCC}3370117002012",
            "370117002011",
            "3",
            ["实施编码末段应为该事项的基本编码"],
        ),
        (
            "too_short_to_have_parts",
            "370117002011",
            "370117002011",
            "3",
            ["实施编码应由实施主体统一社会信用代码、行使层级代码和基本编码组成"],
        ),
    ],
)
def test_implementation_code(_case: str, code: str, basic: str, level: str, errors: list) -> None:
    # when
    result = codes.validate_implementation_code(
        code, department_uscc=USCC, exercise_level=level, basic_code=basic
    )
    # then
    assert result == errors


def test_variant_and_local_codes() -> None:
    implementation = f"{USCC}3370117002011"
    assert (
        codes.validate_variant_code(implementation + "01", implementation_code=implementation) == []
    )
    assert codes.validate_variant_code("X" + implementation, implementation_code=implementation)
    assert codes.validate_variant_code(implementation + "-a", implementation_code=implementation)
    assert (
        codes.validate_local_code("511A0138000000-511602000000-000-115113010833722043-1-00") == []
    )
    assert codes.validate_local_code("本地编码") != []
    assert codes.validate_local_code("") == []

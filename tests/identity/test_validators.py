"""ID numbers (GB 11643) and credit codes (GB 32100): valid vectors pass, each kind of error is
refused with its own Chinese message (DOMAIN.md §4.4)."""

import pytest

from django.core.exceptions import ValidationError

from apps.identity.demo import make_id_number
from apps.identity.validators import clean_id_number, clean_phone, validate_uscc


@pytest.mark.parametrize(
    "number", ["11010519491231002X", "11010519491231002x", "110105 19491231 002X"]
)
def test_valid_id_number_is_normalised(number: str) -> None:
    assert clean_id_number(number) == "11010519491231002X"


@pytest.mark.parametrize(
    ("_case", "number", "code", "message"),
    [
        ("wrong_check_digit", "110105194912310021", "id_checksum", "身份证号码校验位错误"),
        ("too_short", "11010519491231002", "id_length", "身份证号码应为18位（当前17位）"),
        ("too_long", "11010519491231002X1", "id_length", "身份证号码应为18位（当前19位）"),
        ("letter_inside", "1101051949123A002X", "id_format", "前17位应为数字"),
        (
            "impossible_birth_date",
            make_id_number("110105", "19490231", 2),
            "id_birth_date",
            "出生日期 19490231 不存在",
        ),
        (
            "thirteenth_month",
            make_id_number("110105", "19491331", 2),
            "id_birth_date",
            "出生日期 19491331 不存在",
        ),
        (
            "born_in_the_future",
            make_id_number("110105", "20991231", 2),
            "id_birth_date",
            "出生日期 20991231 不合理",
        ),
    ],
)
def test_invalid_id_number_refused_with_message(
    _case: str, number: str, code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        clean_id_number(number)
    assert excinfo.value.code == code
    assert message in excinfo.value.messages[0]


@pytest.mark.parametrize(
    "code",
    [
        "91110108551385082Q",
        "91110000600037341L",
        "11100000000013338W",
        "11370800MB28559184",
        "12441500196720244T",
    ],
)
def test_valid_credit_codes(code: str) -> None:
    validate_uscc(code)


@pytest.mark.parametrize(
    ("_case", "code", "error_code", "message"),
    [
        ("wrong_check_digit", "91110108551385082A", "uscc_checksum", "校验位错误"),
        ("too_short", "91110108551385082", "uscc_length", "应为18位"),
        ("forbidden_letter", "9111010855138508IQ", "uscc_format", "不得含 I、O、Z、S、V"),
    ],
)
def test_invalid_credit_code_refused_with_message(
    _case: str, code: str, error_code: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert excinfo.value.code == error_code
    assert message in excinfo.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "clean"), [("138 0000 1234", "13800001234"), ("+8613800001234", "13800001234")]
)
def test_phone_normalised(raw: str, clean: str) -> None:
    assert clean_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12800001234", "1380000123", "abc"])
def test_bad_phone_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="11位"):
        clean_phone(raw)

"""GB/T 36904 identifiers (DOMAIN.md §3.2): three real identifiers and ways to get one wrong."""

import pytest

from apps.core.exceptions import DomainError
from apps.licences.identifiers import build_identifier, is_valid_identifier, parse_identifier

REAL = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
    "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
]


@pytest.mark.parametrize("identifier", REAL)
def test_real_identifiers_validate_and_round_trip(identifier) -> None:
    # when
    parsed = parse_identifier(identifier)

    # then: the check character is recomputed to the same identifier
    assert str(parsed) == identifier


def test_parts_of_the_hunan_identifier() -> None:
    parsed = parse_identifier(REAL[0])
    assert (parsed.type_code, parsed.issuer_code, parsed.serial, parsed.version) == (
        "11100000000013338W011",
        "11430000006122244L",
        "20230000403",
        1,
    )


@pytest.mark.parametrize("identifier", REAL)
def test_every_other_check_character_is_refused(identifier) -> None:
    body, check = identifier[:-1], identifier[-1]
    wrong = [c for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != check]
    assert [c for c in wrong if is_valid_identifier(body + c)] == []


@pytest.mark.parametrize(
    ("_case", "identifier", "message"),
    [
        ("lowercase_all", REAL[0].lower(), "校验位"),
        ("lowercase_check", REAL[0][:-1] + "u", "校验位"),
        ("lowercase_issuer", REAL[0].replace("244L", "244l"), "颁发机构"),
        ("lowercase_type", REAL[0].replace("338W011", "338w011"), "证照类型代码"),
        ("lowercase_serial", REAL[2].replace("000000016", "00000001a"), "流水号"),
        ("type_code_short", REAL[0].replace("W011", "W01"), "证照类型代码"),
        ("type_code_bad_uscc", REAL[0].replace("13338W011", "13338X011"), "证照类型代码"),
        ("type_code_letters", REAL[0].replace("W011", "W0A1"), "证照类型代码"),
        ("issuer_short", REAL[0].replace("11430000006122244L", "1143000000612224L"), "颁发机构"),
        ("version_two_digits", REAL[0].replace(".001.U", ".01.U"), "版本号"),
        ("check_two_chars", REAL[0] + "U", "校验位"),
        ("missing_part", REAL[0].replace(".20230000403", ""), "组成"),
        ("wrong_root", REAL[0].replace("1.2.156.3005.2", "1.2.156.3005.3"), "开头"),
        ("empty", "", "开头"),
        (
            "version_zero",
            "1.2.156.3005.2.11100000000013338W011.11430000006122244L.X.000.0",
            "版本号",
        ),
    ],
)
def test_malformed_identifiers_are_refused_with_a_reason(_case, identifier, message) -> None:
    with pytest.raises(DomainError) as error:
        parse_identifier(identifier)
    assert error.value.code == "licence_identifier_invalid"
    if message:
        assert message in error.value.message


def test_lowercase_serial_is_refused() -> None:
    with pytest.raises(DomainError, match="流水号"):
        build_identifier(
            type_code="11100000000013338W011",
            issuer_code="11430000006122244L",
            serial="abc123",
        )


def test_version_raise_keeps_the_other_parts() -> None:
    # given
    first = parse_identifier(REAL[1])

    # when
    second = first.next_version()

    # then: only the version and the check character change, and the result validates
    assert (second.type_code, second.issuer_code, second.serial) == (
        first.type_code,
        first.issuer_code,
        first.serial,
    )
    assert second.version == 3
    assert str(second).startswith(
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.003."
    )
    assert is_valid_identifier(str(second))


def test_new_identifiers_never_use_a_legacy_issuer_code() -> None:
    with pytest.raises(DomainError, match="颁发机构"):
        build_identifier(type_code="11100000MB03271699022", issuer_code="340100", serial="1")

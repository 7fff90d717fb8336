"""Identity values are validated and normalised per kind; CSV headers map to fields."""

from __future__ import annotations

import pytest

from tresen.contacts.identities import normalise
from tresen.contacts.importer import plan, read_csv
from tresen.errors import Invalid


def test_normalised_values() -> None:
    assert normalise("email", "  Ada@Example.COM ") == "ada@example.com"
    assert normalise("phone", "0045 20-12 34 56") == "+4520123456"
    assert normalise("whatsapp", "+49 (30) 1234567") == "+49301234567"
    assert normalise("external_id", " C-42 ") == "C-42"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "no-at-sign"),
        ("email", "a@b"),
        ("email", "two@@example.com"),
        ("email", "x" * 400 + "@example.com"),
        ("phone", "call me"),
        ("phone", "123"),
        ("fax", "123456"),
        ("external_id", "   "),
    ],
)
def test_bad_values(kind: str, value: str) -> None:
    with pytest.raises(Invalid):
        normalise(kind, value)


def test_csv_separator_bom_and_mapping() -> None:
    header, rows = read_csv("\ufeffName;E-Mail\nAda;ada@example.com\n".encode())
    assert header == ["Name", "E-Mail"] and list(rows) == [["Ada", "ada@example.com"]]
    assert plan(header, {"E-Mail": "email"}) == ["name", "email"]
    header, _ = read_csv(b"name\temail\n")
    assert header == ["name", "email"]
    with pytest.raises(Invalid, match="not mapped"):
        plan(["name", "Shoe"], {})
    with pytest.raises(Invalid, match="same name"):
        plan(["name", "name"], {})

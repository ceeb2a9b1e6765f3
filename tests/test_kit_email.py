"""The one rule for an email address: the request type that takes it, and the check before a message is written."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.http.inputs import EmailAddress, is_email_address


class Contact(BaseModel):
    email: EmailAddress


@pytest.mark.parametrize(
    "address",
    ["siti.aminah@example.test", "a+b@lapas.example", "a@b.c", "ö@ü.example", "a" * 64 + "@" + "b" * 63 + ".test"],
)
def test_an_address_is_taken_and_passes_the_check(address: str) -> None:
    assert Contact.model_validate({"email": address}).email == address
    assert is_email_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "not an address",
        "not an address\r\nBcc: x@evil.test",
        "@example.test",
        "siti@",
        "a..b@example.test",
        '"quoted"@example.test',
        "user@localhost",
        "x@[127.0.0.1]",
        "a@" + "b" * 250 + ".test",
    ],
)
def test_what_is_not_an_address_is_refused_by_both(address: str) -> None:
    with pytest.raises(ValidationError):
        Contact.model_validate({"email": address})
    assert not is_email_address(address)


def test_surrounding_whitespace_is_stripped_and_the_domain_lowercased() -> None:
    assert Contact.model_validate({"email": " Sari@Hub.Example\n"}).email == "Sari@hub.example"


def test_the_document_says_it_is_an_email() -> None:
    schema = Contact.model_json_schema()["properties"]["email"]
    assert (schema["type"], schema["format"], schema["maxLength"]) == ("string", "email", 254)

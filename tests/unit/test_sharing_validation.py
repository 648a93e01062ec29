"""What clients send to the sharing routes: bad values are a 400 naming the field, never a fault later."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from photosync.domain.errors import InvalidRequest
from photosync.domain.validation import parse_email, parse_link_request, parse_role

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("email", ["", "no-at-sign", "two@@example.com", "a@b", "sp ace@example.com",
                                   "tab\t@example.com", "x" * 250 + "@example.com", 7, None])
def test_an_email_that_is_not_one_is_refused(email):
    with pytest.raises(InvalidRequest) as refused:
        parse_email({"email": email})
    assert refused.value.details == {"field": "email"}


def test_an_email_is_one_address_whatever_its_case():
    assert parse_email({"email": "  Ann.Lee@Example.COM "}) == "ann.lee@example.com"


@pytest.mark.parametrize("role", ["owner", "Viewer", "", None, 1])
def test_only_viewer_and_contributor_are_member_roles(role):
    with pytest.raises(InvalidRequest):
        parse_role({"role": role})


@pytest.mark.parametrize("body", [
    {"expires_at": "2030-06-01T11:59:59Z"},  # in the past
    {"expires_at": "2030-07-01T00:00:00"},  # no offset: a different moment for every client
    {"expires_at": "2030-02-30T00:00:00Z"},
    {"expires_at": "9999-12-31T23:59:59-01:00"},  # past year 9999 in UTC
    {"expires_at": 1893456000},
    {"password": ""}, {"password": 1234}, {"password": "x" * 1025},
    {"allow_download": "false"}, {"allow_download": 0},
])
def test_a_bad_link_request_is_refused(body):
    with pytest.raises(InvalidRequest):
        parse_link_request(body, now=NOW)


def test_a_link_request_s_defaults_and_its_expiry_in_utc():
    assert parse_link_request({}, now=NOW) == parse_link_request(
        {"expires_at": None, "password": None, "allow_download": True}, now=NOW
    )
    request = parse_link_request({"expires_at": "2030-06-02T14:00:00+02:00", "allow_download": False}, now=NOW)
    assert request.expires_at == NOW + timedelta(days=1) and request.expires_at.tzinfo == timezone.utc
    assert request.allow_download is False and request.password is None

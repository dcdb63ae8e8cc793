"""The company profile in the admin: one row, admins only, audited, safe logo."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from audit.models import AuditEvent
from documents.models import CompanyProfile, validate_siret, validate_vat_number

pytestmark = pytest.mark.django_db


def _png() -> bytes:

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (31, 78, 121)).save(buffer, "PNG")
    return buffer.getvalue()


def _form(**extra):
    data = {
        "legal_name": "Atelier Bernard",
        "legal_form": "SAS",
        "address": "12 rue des Artisans\n69007 Lyon",
        "siret": "912 345 675 00009",
        "rcs": "RCS Lyon 912 345 675",
        "vat_applies": "on",
        "vat_number": "FR 65 912345675",
        "share_capital": "20000",
        "email": "contact@atelier.example",
        "phone": "",
        "website": "",
        "default_vat_rate": "20",
        "quote_validity_days": "30",
        "payment_terms": "30 jours",
        "legal_footer": "",
    }
    return data | extra


def test_admin_edits_the_single_profile_and_it_is_audited(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:documents_companyprofile_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:documents_companyprofile_change", args=[1]
    )
    url = response["Location"]
    response = client.post(url, _form(logo=SimpleUploadedFile("logo.png", _png())))
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = CompanyProfile.objects.get()
    assert (profile.pk, profile.siret, profile.vat_number) == (
        1,
        "91234567500009",
        "FR65912345675",
    )
    assert profile.logo.name.startswith("company/")
    event = AuditEvent.objects.get(action="config_changed")
    assert "legal_name" in event.data["fields"]
    assert client.get(reverse("admin:documents_companyprofile_add")).status_code == 403
    assert CompanyProfile.objects.count() == 1


def test_logo_must_be_a_real_png_or_jpeg(client, admin_user):
    client.force_login(admin_user)
    url = reverse(
        "admin:documents_companyprofile_change", args=[CompanyProfile.load().pk]
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, content in [
        ("logo.svg", svg),
        ("logo.png", _png() + b"<html><script>alert(1)</script>"),
        ("logo.png", b"\x89PNG\r\n\x1a\nnot really"),
    ]:
        response = client.post(url, _form(logo=SimpleUploadedFile(name, content)))
        assert response.status_code == 200, name
        assert CompanyProfile.load().logo.name == "", name


@pytest.mark.parametrize("persona", ["member", "manager"])
def test_only_admins_see_the_profile(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    url = reverse(
        "admin:documents_companyprofile_change", args=[CompanyProfile.load().pk]
    )
    assert client.get(url).status_code in (302, 403)


def test_the_singleton_is_enforced_by_the_database():
    CompanyProfile.load()
    second = CompanyProfile(legal_name="Autre")
    second.save()  # save() pins pk = 1: it updates the one row
    assert CompanyProfile.objects.count() == 1
    with pytest.raises(ValidationError):
        CompanyProfile.load().delete()


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("91234567500009", True),
        ("91234567500008", False),
        ("1234", False),
        ("35600000000001", True),
    ],
)
def test_siret_validation(value, ok):
    if ok:
        validate_siret(value)
    else:
        with pytest.raises(ValidationError):
            validate_siret(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("FR65912345675", True),
        ("FR66912345675", False),
        ("FR6591234567", False),
        ("DE123456789", True),
    ],
)
def test_vat_number_validation(value, ok):
    if ok:
        validate_vat_number(value)
    else:
        with pytest.raises(ValidationError):
            validate_vat_number(value)

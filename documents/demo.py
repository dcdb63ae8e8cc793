"""Demo documents and quotes, made through the real services.

Called by `seed_demo` after the demo cases exist: fills the company profile,
attaches a few documents (with versions), and gives quotes to cases in every
state: drafts, issued, sent (lines at 20 %, 10 % and 5.5 %), one accepted
through the public acceptance service, one declined, one expired and one
revised. E-mails of the demo are discarded.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.html import escape
from PIL import Image, ImageDraw

from config import clock, tasks
from documents import services
from documents.models import CompanyProfile, Quote
from documents.pdf import html_to_pdf
from flows.engine import services as flow_services
from flows.models import Case, ChecklistItem, Flow

DEMO_PROFILE = {
    "legal_name": "Atelier Bernard Agencement",
    "legal_form": "SAS",
    "address": "12 rue des Artisans\n69007 Lyon",
    "siret": "91234567500009",
    "rcs": "RCS Lyon 912 345 675",
    "vat_applies": True,
    "vat_number": "FR65912345675",
    "share_capital": Decimal("20000"),
    "email": "contact@atelier-bernard.example",
    "phone": "04 72 00 00 00",
    "website": "atelier-bernard.example",
    "legal_footer": "Assurance décennale : Mutuelle des Artisans, contrat n° 123-456, "
    "couverture France métropolitaine. Médiateur de la consommation : "
    "Médiation du Bâtiment, mediation-batiment.example.",
}

# description, quantity, unit, unit price HT, VAT rate
CATALOGUE = [
    ("Dépose de l'existant et évacuation des gravats", "1", "forfait", "850.00", "20"),
    (
        "Fourniture et pose de cloisons en plaques de plâtre BA13",
        "24.5",
        "m²",
        "62.00",
        "10",
    ),
    ("Peinture des murs et plafonds, deux couches", "68", "m²", "24.50", "10"),
    (
        "Isolation thermique des combles (laine de roche 300 mm)",
        "35",
        "m²",
        "48.00",
        "5.5",
    ),
    ("Fourniture et pose d'un bloc-porte", "2", "u", "420.00", "20"),
    ("Éclairage LED encastré", "12", "u", "89.90", "20"),
    ("Main-d'œuvre électricien", "14", "h", "52.00", "20"),
    ("Mobilier sur mesure (comptoir d'accueil)", "1", "u", "3250.00", "20"),
]

ADDRESSES = [
    "8 place Bellecour\n69002 Lyon",
    "45 avenue Jean Jaurès\n69007 Lyon",
    "3 rue Mercière\n69002 Lyon",
    "117 cours Lafayette\n69006 Lyon",
    "22 quai Saint-Antoine\n69002 Lyon",
    "6 rue de la République\n69001 Lyon",
    "58 boulevard des Belges\n69006 Lyon",
    "14 rue Paul Bert\n69003 Lyon",
]


def _png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, height, height], fill=color)
    draw.rectangle([height + 10, height // 3, width - 10, height // 3 + 8], fill=color)
    draw.rectangle(
        [height + 10, height // 2 + 4, width - 60, height // 2 + 10],
        fill=(90, 100, 114),
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _pdf(title: str, body: str) -> bytes:
    return html_to_pdf(
        f'<html lang="fr"><head><title>{escape(title)}</title></head><body>'
        f"<h1>{escape(title)}</h1><p>{escape(body)}</p></body></html>"
    )


def fill_company_profile() -> CompanyProfile:
    profile = CompanyProfile.load()
    if profile.legal_name:
        return profile
    for name, value in DEMO_PROFILE.items():
        setattr(profile, name, value)
    profile.logo.save("logo.png", ContentFile(_png(360, 96, (31, 78, 121))), save=False)
    profile.full_clean()
    profile.save()
    return profile


def _actor(case: Case):
    if case.owner_id:
        return case.owner
    return get_user_model().objects.get(username="manon")


def _lines(offset: int, count: int) -> list[services.LineData]:
    lines = []
    for index in range(count):
        description, quantity, unit, price, rate = CATALOGUE[
            (offset + index) % len(CATALOGUE)
        ]
        lines.append(
            services.LineData(
                description=description,
                quantity=Decimal(quantity),
                unit=unit,
                unit_price=Decimal(price),
                vat_rate=Decimal(rate),
            )
        )
    return lines


def _draft(case: Case, index: int, *, lines: int = 4) -> Quote:
    user = _actor(case)
    quote = services.create_quote(case, user=user)
    return services.save_draft(
        quote,
        user=user,
        fields={
            "client_address": ADDRESSES[index % len(ADDRESSES)],
            "client_email": case.email or f"contact{index}@client.example",
            "notes": "Travaux réalisables en 3 semaines à compter de l'acompte.",
        },
        lines=_lines(index, lines),
    )


def _issued(case: Case, index: int) -> Quote:
    return services.issue_quote(_draft(case, index), user=_actor(case))


def _sent(case: Case, index: int) -> tuple[Quote, str]:
    quote = _issued(case, index)
    token = services.send_quote(
        quote, user=_actor(case), base_url="http://localhost:8000/"
    )
    return quote, token


def _tick_manual_items(case: Case) -> None:
    for item in ChecklistItem.objects.filter(
        status__flow=case.flow, status__code=case.status, kind=ChecklistItem.Kind.MANUAL
    ):
        flow_services.set_checklist_item(case, item, user=_actor(case), done=True)


def _upload(case: Case, *, category: str, title: str, name: str, content: bytes):
    return services.upload_document(
        case,
        user=_actor(case),
        file=SimpleUploadedFile(name, content),
        category=category,
        title=title,
    )


def _moment(case: Case, days_ago: float, now):
    """`days_ago` days back, but never before the case entered its status."""
    wanted = now - timedelta(days=days_ago)
    return min(now, max(wanted, case.status_entered_at + timedelta(hours=1)))


def _seed_uploads(cases: dict[str, list[Case]], now) -> None:
    """Documents, one of them in two versions."""
    for index, case in enumerate(cases["rendez_vous"][:3]):
        with clock.frozen_at(_moment(case, 3 - index * 0.2, now)):
            _upload(
                case,
                category="compte-rendu",
                title="Compte rendu de visite",
                name="compte-rendu.txt",
                content=(
                    f"Visite : {case.title}.\n"
                    "Points à chiffrer : dépose, cloisons, peinture.\n"
                ).encode(),
            )
        if index == 0:
            with clock.frozen_at(_moment(case, 1, now)):
                _upload(
                    case,
                    category="compte-rendu",
                    title="Compte rendu de visite",
                    name="compte-rendu-v2.txt",
                    content=(
                        "Version corrigée après l'appel du client : "
                        "ajout de l'éclairage.\n"
                    ).encode(),
                )
                _upload(
                    case,
                    category="piece-client",
                    title="Photo de la façade",
                    name="facade.png",
                    content=_png(640, 400, (63, 143, 139)),
                )
    for case in cases["qualifie"][:1]:
        with clock.frozen_at(_moment(case, 2, now)):
            _upload(
                case,
                category="piece-client",
                title="Plan de l'existant",
                name="plan-existant.pdf",
                content=_pdf("Plan de l'existant", "Relevé fourni par le client."),
            )


def _seed_drafts(cases: dict[str, list[Case]], now) -> int:
    """Drafts on cases whose meeting took place."""
    count = 0
    for index, case in enumerate(cases["rendez_vous"][:2]):
        with clock.frozen_at(_moment(case, 0.8, now)):
            _draft(case, index)
        count += 1
    return count


def _seed_quoted(quoted: list[Case], now) -> int:
    """Issued, accepted, declined and sent quotes on the quoted cases."""
    count = 0
    for index, case in enumerate(quoted[:4]):
        with clock.frozen_at(_moment(case, 4 - index * 0.3, now)):
            if index == 0:
                # Issued, not sent yet.
                _issued(case, index)
            elif index == 1:
                # Accepted through the public acceptance; the follow-up
                # was ticked, so the case moves to its won status.
                _tick_manual_items(case)
                _quote, token = _sent(case, index)
                services.accept_quote(
                    token,
                    name=case.contact_name or "Client",
                    ip="203.0.113.24",
                    user_agent="Mozilla/5.0 (démo) Firefox/128.0",
                    comment="Parfait, vous pouvez commander le mobilier.",
                )
                # The signed copy and the move, at the demo's moment.
                tasks.drain()
            elif index == 2:
                _quote, token = _sent(case, index)
                services.decline_quote(
                    token,
                    reason="Budget trop élevé cette année, nous reviendrons vers vous.",
                    ip="198.51.100.7",
                    user_agent="Mozilla/5.0 (démo) Safari/17.0",
                )
            else:
                _sent(case, index)
        count += 1
    return count


def _seed_negotiation(cases: list[Case], now) -> int:
    """A first version sent, then a revised one sent."""
    count = 0
    for index, case in enumerate(cases[:2], start=10):
        with clock.frozen_at(_moment(case, 6, now)):
            first, _token = _sent(case, index)
        with clock.frozen_at(_moment(case, 2, now)):
            revision = services.revise_quote(first, user=_actor(case))
            services.save_draft(
                revision,
                user=_actor(case),
                fields={"notes": "Version 2 : remise sur la main-d'œuvre."},
                lines=_lines(index, 3),
            )
            services.issue_quote(revision, user=_actor(case))
            services.send_quote(
                revision, user=_actor(case), base_url="http://localhost:8000/"
            )
        count += 2
    return count


def _seed_expired(candidates: list[Case], now) -> int:
    """One quote sent a while ago with a validity that has passed since."""
    for case in candidates:
        moment = _moment(case, 40, now)
        if moment > now - timedelta(days=3):
            continue
        with clock.frozen_at(moment):
            quote = _draft(case, 20)
            services.save_draft(
                quote,
                user=_actor(case),
                fields={"valid_until": timezone.localdate(moment) + timedelta(days=1)},
                lines=_lines(20, 3),
            )
            services.issue_quote(quote, user=_actor(case))
            services.send_quote(
                quote, user=_actor(case), base_url="http://localhost:8000/"
            )
        services.expire_quotes()
        return 1
    return 0


def seed_documents(flow: Flow) -> int:
    """Add the demo documents and quotes unless quotes exist; return how many quotes."""
    if Quote.objects.filter(case__flow=flow).exists():
        return 0
    services.ensure_default_categories()
    fill_company_profile()
    cases = {
        code: list(
            Case.objects.filter(flow=flow, status=code)
            .select_related("owner", "flow")
            .order_by("reference")
        )
        for code in ("rendez_vous", "devis_envoye", "negociation", "qualifie")
    }
    now = timezone.now()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
    ):
        _seed_uploads(cases, now)
        count = _seed_drafts(cases, now)
        count += _seed_quoted(cases["devis_envoye"], now)
        count += _seed_negotiation(cases["negociation"], now)
        count += _seed_expired(
            cases["devis_envoye"][4:] + cases["negociation"][2:], now
        )
        tasks.drain()  # the e-mails enqueued, into the dummy backend
    return count

"""Rendering notifications: every template in every language, strictness, and no secrets."""

from __future__ import annotations

import re

import pytest

from models.notify import Audience, Recipient
from providers.notify.render import (
    CUSTOMER_TEMPLATES,
    INJECTED,
    LANGUAGES,
    STAFF_TEMPLATES,
    TEMPLATE_NAMES,
    TEMPLATES_DIR,
    TemplateError,
    available_languages,
    referenced_names,
    render,
    required_variables,
    secret_like,
)
from tests.providers.notify_samples import CONTEXTS, CUSTOMER, sample_note

ALL_RENDERINGS = [
    (name, lang) for name in sorted(TEMPLATE_NAMES) for lang in available_languages(name)
]


def _numbers_in(context: dict) -> list[str]:
    found = []
    for value in context.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and re.fullmatch(r"\+1\d{10}", item):
                found.append(item)
    return found


@pytest.mark.parametrize(("name", "lang"), ALL_RENDERINGS)
def test_every_template_renders_in_every_language_it_has(name: str, lang: str) -> None:
    note = sample_note(name, lang)
    msg = render(note)
    assert msg.language == lang
    assert msg.subject and "\n" not in msg.subject
    assert not msg.text.startswith("Subject:")
    assert "Undefined" not in msg.text and "None" not in msg.text
    # Numbers are shown in national format, never in E.164.
    for e164 in _numbers_in(note.context):
        assert e164 not in msg.text
        national = f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
        assert national in msg.text, f"{name}/{lang} does not show {national}"
    assert msg.html is not None and f'<html lang="{lang}">' in msg.html


def test_the_template_set_is_exactly_customer_plus_staff() -> None:
    on_disk = {p.name.removesuffix(".txt.j2") for p in (TEMPLATES_DIR / "en").glob("[!_]*.txt.j2")}
    assert on_disk == TEMPLATE_NAMES
    assert not CUSTOMER_TEMPLATES & STAFF_TEMPLATES


@pytest.mark.parametrize("name", sorted(CUSTOMER_TEMPLATES))
def test_customer_templates_exist_in_all_four_languages_with_the_same_variables(name: str) -> None:
    assert available_languages(name) == list(LANGUAGES)
    english = (TEMPLATES_DIR / "en" / f"{name}.txt.j2").read_text()
    for lang in LANGUAGES[1:]:
        translated = (TEMPLATES_DIR / lang / f"{name}.txt.j2").read_text()
        assert translated != english, f"{lang}/{name} is a copy of the English text"
        assert required_variables(name, lang) == required_variables(name, "en"), (name, lang)


@pytest.mark.parametrize("name", sorted(STAFF_TEMPLATES))
def test_staff_templates_are_english_and_any_language_falls_back(name: str) -> None:
    assert available_languages(name) == ["en"]
    msg = render(sample_note(name, "pt"))
    assert msg.language == "en"
    assert msg.text == render(sample_note(name, "en")).text


@pytest.mark.parametrize("name", sorted(TEMPLATE_NAMES))
def test_samples_give_exactly_what_each_template_needs(name: str) -> None:
    # The samples double as the documentation of each template's variables.
    assert set(CONTEXTS[name]) == required_variables(name)


ONLY_NOW = {
    "en": "Only now, not before, you can cancel the service",
    "es": "Solo ahora, no antes, puede cancelar",
    "pt": "Somente agora, não antes, você pode cancelar",
    "fr": "Seulement maintenant, pas avant, vous pouvez résilier",
}
NOT_YET = {
    "en": "Do not cancel your service with Verizon yet",
    "es": "Todavía no cancele su servicio con Verizon",
    "pt": "Ainda não cancele seu serviço com a Verizon",
    "fr": "Ne résiliez pas encore votre service chez Verizon",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_port_complete_says_cancel_the_old_service_only_now(lang: str) -> None:
    text = render(sample_note("port_complete", lang)).text
    assert ONLY_NOW[lang] in text
    # The numbers that did not port must not be cancelled, in every language too.
    assert "(650) 555-0199" in text
    assert ONLY_NOW[lang] not in render(sample_note("port_day", lang)).text
    assert NOT_YET[lang] in render(sample_note("port_day", lang)).text


def test_a_missing_variable_is_a_clear_non_retryable_error() -> None:
    note = sample_note("foc_confirmed", "es")
    del note.context["foc_time"]
    del note.context["time_zone"]
    with pytest.raises(TemplateError) as info:
        render(note)
    assert info.value.retryable is False
    message = str(info.value)
    assert "es/foc_confirmed.txt.j2" in message
    assert "foc_time, time_zone" in message
    assert note.key in message


def test_a_number_that_is_not_e164_is_refused() -> None:
    note = sample_note(
        "numbers_ready", context={**CONTEXTS["numbers_ready"], "numbers": ["415 555 0123x"]}
    )
    with pytest.raises(TemplateError, match="not an E.164 phone number"):
        render(note)


@pytest.mark.parametrize(
    "key",
    [
        "account_number",
        "pin",
        "passcode",
        "pin_passcode",
        "accountNumber",
        "losing_pin",
        "smtp_password",
    ],
)
def test_context_keys_named_like_secrets_are_refused(key: str) -> None:
    note = sample_note("loa_signed", context={**CONTEXTS["loa_signed"], key: "1234"})
    with pytest.raises(TemplateError, match="named like secrets") as info:
        render(note)
    assert info.value.retryable is False
    assert "1234" not in str(info.value)


def test_secret_names_are_matched_by_word() -> None:
    for harmless in ("shipping", "pinned_numbers", "spin", "account_name", "number_count"):
        assert not secret_like(harmless), harmless


def test_vault_references_are_refused_as_values() -> None:
    note = sample_note(
        "loa_signed", context={**CONTEXTS["loa_signed"], "signer_name": "sec_" + "0" * 32}
    )
    with pytest.raises(TemplateError, match="vault references"):
        render(note)


@pytest.mark.parametrize(("name", "lang"), ALL_RENDERINGS)
def test_templates_never_reference_secrets(name: str, lang: str) -> None:
    used = referenced_names(name, lang)
    assert not [n for n in used if secret_like(n)], used
    assert not {"account_number", "pin", "pin_passcode", "passcode"} & required_variables(
        name, lang
    )


def test_staff_templates_are_never_sent_to_customers() -> None:
    note = sample_note("loa_declined", to=CUSTOMER)
    with pytest.raises(TemplateError, match="for PMs and ops only"):
        render(note)


def test_escalation_needs_a_priority() -> None:
    with pytest.raises(TemplateError, match="needs priority P1..P4"):
        render(sample_note("escalation", priority=None))
    assert "within 15 minutes" in render(sample_note("escalation", priority="P1")).text


def test_injected_variables_cannot_be_overridden_from_context() -> None:
    note = sample_note(
        "loa_signed", context={**CONTEXTS["loa_signed"], "request_id": "PR-0000-0000"}
    )
    with pytest.raises(TemplateError, match="filled from the Notification"):
        render(note)
    assert "request_id" in INJECTED


def test_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(TemplateError, match="unknown template 'foc_confimred'.*foc_confirmed"):
        render(sample_note("loa_signed").model_copy(update={"template": "foc_confimred"}))


def test_html_is_escaped_and_text_is_not() -> None:
    ctx = {**CONTEXTS["cancelled"], "reason": "<script>alert('x')</script> & more"}
    msg = render(sample_note("cancelled", context=ctx))
    assert "<script>alert('x')</script> & more" in msg.text
    assert "<script>" not in msg.html
    assert "&lt;script&gt;" in msg.html and "&amp; more" in msg.html
    assert "<li>(415) 555-0123</li>" in msg.html


def test_greeting_uses_the_recipients_names() -> None:
    to = [
        Recipient(audience=Audience.CUSTOMER, address="a@x.example", name="Ana"),
        Recipient(audience=Audience.CUSTOMER, address="b@x.example"),
    ]
    assert render(sample_note("loa_signed", "es", to=to)).text.startswith("Hola, Ana:")
    to = [Recipient(audience=Audience.CUSTOMER, address="b@x.example")]
    assert render(sample_note("loa_signed", "fr", to=to)).text.startswith("Bonjour,")


def test_staff_mail_links_the_workflow_in_the_temporal_ui() -> None:
    text = render(sample_note("carrier_silent")).text
    assert "http://localhost:8233/namespaces/default/workflows/PR-2026-0042-1" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_exception_mail_covers_the_carrier_catalogue_in_every_language(lang: str) -> None:
    catalogue = pytest.importorskip("providers.carrier.exceptions")
    from providers.notify.render import environment

    words = environment().get_template(f"{lang}/_exceptions.j2").module
    labels = environment().get_template(f"{lang}/_labels.j2").module
    for code in catalogue.CODES:
        rem = catalogue.remediation_for(code, numbers=["+14155550123"])
        assert code in words.fixes, f"{lang}: no customer wording of the fix for {code}"
        assert code == "OTHER" or code in words.reasons, f"{lang}: no customer wording of {code}"
        assert set(rem.fields_to_amend) <= set(labels.field_names), (
            lang,
            code,
            rem.fields_to_amend,
        )
        assert rem.who_acts in labels.who_names
        ctx = {
            **CONTEXTS["exception"],
            "exception_code": rem.code,
            "what_is_wrong": rem.what_is_wrong,
            "who_acts": rem.who_acts,
            "fields": rem.fields_to_amend,
            "numbers": rem.numbers,
        }
        text = render(sample_note("exception", lang, context=ctx)).text
        assert words.fixes[code] in text
        for field in rem.fields_to_amend:
            assert labels.field_names[field] in text


def test_an_unknown_carrier_code_shows_the_carriers_words() -> None:
    ctx = {
        **CONTEXTS["exception"],
        "exception_code": "OTHER",
        "what_is_wrong": "the carrier said: E1234: customer on credit hold",
        "who_acts": "pm",
        "fields": [],
        "numbers": [],
    }
    text = render(sample_note("exception", "fr", context=ctx)).text
    assert "the carrier said: E1234: customer on credit hold" in text
    assert "n'a pas accepté la demande de portabilité." in text
    assert "Vous n'avez rien à faire pour le moment" in text


FALLBACK_CARRIER = {
    "en": "your previous provider",
    "es": "su proveedor anterior",
    "pt": "sua operadora anterior",
    "fr": "votre ancien fournisseur",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_port_complete_for_a_request_with_several_carriers(lang: str) -> None:
    ctx = {**CONTEXTS["port_complete"], "losing_carrier": None, "first_invoice_date": None}
    text = render(sample_note("port_complete", lang, context=ctx)).text
    assert ONLY_NOW[lang].split(",")[0] in text
    assert FALLBACK_CARRIER[lang] in text and "None" not in text


def test_a_none_that_would_be_printed_is_refused() -> None:
    note = sample_note("loa_sent", context={**CONTEXTS["loa_sent"], "sign_by": None})
    with pytest.raises(TemplateError, match="would print None.*sign_by"):
        render(note)


@pytest.mark.parametrize(("name", "lang"), ALL_RENDERINGS)
def test_any_variable_set_to_none_renders_cleanly_or_is_refused(name: str, lang: str) -> None:
    for var in sorted(required_variables(name, lang)):
        note = sample_note(name, lang, context={**CONTEXTS[name], var: None})
        try:
            msg = render(note)
        except TemplateError:
            continue
        assert "None" not in msg.text and "None" not in msg.subject, (name, lang, var)

import pytest

from voice.tts.normalize import normalize, split_sentences


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Een paspoort kost € 84,70.", "Een paspoort kost vierentachtig euro zeventig."),
        ("€84,70", "vierentachtig euro zeventig"),
        ("EUR 84,70", "vierentachtig euro zeventig"),
        ("€ 5,-", "vijf euro"),
        ("€ 0,50", "vijftig cent"),
        ("€ 1.250", "duizendtweehonderdvijftig euro"),
        ("op 14-03-2026", "op veertien maart tweeduizendzesentwintig"),
        ("op 14 maart 2026", "op veertien maart tweeduizendzesentwintig"),
        ("op 1/1", "op één januari"),
        ("om 9:30", "om negen uur dertig"),
        ("om 09.30 uur", "om negen uur dertig"),
        ("van 9:00 tot 17:00 uur", "van negen uur tot zeventien uur"),
        ("postcode 2511 AB", "postcode vijfentwintig elf, aa bee"),
        ("postcode 2511AB", "postcode vijfentwintig elf, aa bee"),
        ("bel 14 020", "bel veertien nul twintig"),
        ("bel 112", "bel één één twee"),
        ("bel 1400", "bel veertienhonderd"),
        ("bel 06-12345678", "bel nul zes, één twee drie vier vijf zes zeven acht"),
        ("de 3e keer", "de derde keer"),
        ("21% korting", "eenentwintig procent korting"),
        ("huisnummer 12a", "huisnummer twaalf a"),
        ("De WOZ-waarde", "De wos-waarde"),
        ("uit de BRP", "uit de bee er pee"),
        ("met DigiD", "met diegie dee"),
        ("de Wmo", "de wee em oo"),
        ("het KCC", "het kaa see see"),
        ("per e-mail", "per iemeel"),
        ("ma t/m vr", "maandag tot en met vrijdag"),
        ("bijv. een pas", "bijvoorbeeld een pas"),
        ("zo snel", "zo snel"),
        ("kijk op www.gemeente.nl/afval", "kijk op de website"),
        ("kijk op https://example.org/x?y=1", "kijk op de website"),
        ("mail info@gemeente.nl", "mail het iemeel adres op de website"),
        ("  veel   spaties ", "veel spaties"),
    ],
)
def test_normalize(text, spoken):
    assert normalize(text) == spoken


def test_no_digits_or_urls_left_for_espeak():
    out = normalize("Bel 0800-2000 of 14 020, of kijk op www.rijksoverheid.nl. Kosten: € 84,70.")
    assert not any(ch.isdigit() for ch in out)
    assert "www" not in out and ".nl" not in out


def test_split_sentences():
    text = "J. de Vries woont o.a. hier. Dat kost ca. 3,5 euro! Klopt dat? Ja."
    assert split_sentences(text) == [
        "J. de Vries woont o.a. hier.",
        "Dat kost ca. 3,5 euro!",
        "Klopt dat?",
        "Ja.",
    ]
    assert split_sentences("") == []
    assert split_sentences("Om 9.30 uur open.") == ["Om 9.30 uur open."]

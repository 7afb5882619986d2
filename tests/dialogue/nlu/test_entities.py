"""Entity extraction from recogniser-style Dutch text."""

from datetime import datetime

import pytest

from dialogue.nlu.codes import elfproef, phone_value
from dialogue.nlu.entities import Entity, extract

NOW = datetime(2026, 11, 25, 10, 0)  # a Wednesday


def found(text: str) -> list[tuple[str, str]]:
    return [(e.type, e.value) for e in extract(text, NOW)]


def values(text: str, kind: str) -> list[str]:
    return [e.value for e in extract(text, NOW) if e.type == kind]


@pytest.mark.parametrize(("text", "expected"), [
    ("drieënvijftig", "53"),
    ("drieenvijftig", "53"),
    ("tweeduizend vijfentwintig", "2025"),
    ("achttien", "18"),
    ("negentienhonderd vijfentachtig", "1985"),
    ("zestien honderd", "1600"),
    ("honderd drieëntwintig", "123"),
    ("ik heb drie kinderen", "3"),
    ("één", "1"),
    ("het zijn er 53", "53"),
])
def test_numbers(text, expected):
    assert values(text, "number") == [expected]


@pytest.mark.parametrize("text", ["ik wil een afspraak", "de een of ander", "goedemorgen"])
def test_article_een_is_no_number(text):
    assert values(text, "number") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("mijn postcode is een twee drie vier a b", "1234AB"),
    ("twaalf vierendertig ab", "1234AB"),
    ("1234 AB", "1234AB"),
    ("1234ab", "1234AB"),
    ("postcode 1234 a van anton b van bernard", "1234AB"),
    ("1234 a als anton b als bernard", "1234AB"),
    ("twaalf vierendertig a van anton bee", "1234AB"),
    ("drie vijf een twee ka el", "3512KL"),
    ("negen zeven nul nul dee zet", "9700DZ"),
    ("duizend tweehonderd vierendertig ee ef", "1234EF"),
])
def test_postcodes(text, expected):
    assert values(text, "postcode") == [expected]


@pytest.mark.parametrize("text", [
    "mijn postcode is 1234 sa",  # SA, SD and SS are not used
    "1234 SS",
    "0123 AB",  # never starts with 0
    "1000 km",
    "ik woon al 2000 en ik",
])
def test_not_postcodes(text):
    assert values(text, "postcode") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("nummer twaalf a", "12A"),
    ("huisnummer 12", "12"),
    ("mijn huisnummer is 12a", "12A"),
    ("12a", "12A"),
    ("twaalf a", "12A"),
    ("nummer 12-2", "12-2"),
    ("12 bis", "12 bis"),
    ("huisnummer twaalf bis", "12 bis"),
    ("huisnummer 3 hoog", "3 hoog"),
    ("huisnummer twaalf drie hoog", "12-3"),
    ("ik woon op de kerkstraat twaalf a", "12A"),
    ("Dorpsstraat 5 b", "5B"),
    ("1234 AB 12", "12"),
    ("postcode 1234 ab en huisnummer 5", "5"),
    ("nummer een", "1"),
])
def test_house_numbers(text, expected):
    assert values(text, "huisnummer") == [expected]


@pytest.mark.parametrize("text", [
    "drie kinderen",
    "ik heb 3 kinderen en 2 katten",
    "mijn nummer is 0612345678",
    "ik bel over 12 dingen",
])
def test_counts_are_no_house_numbers(text):
    assert values(text, "huisnummer") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("vandaag", "2026-11-25"),
    ("morgen", "2026-11-26"),
    ("overmorgen", "2026-11-27"),
    ("dinsdag", "2026-12-01"),
    ("woensdag", "2026-12-02"),  # today excluded
    ("vrijdag", "2026-11-27"),
    ("volgende week dinsdag", "2026-12-01"),
    ("volgende week vrijdag", "2026-12-04"),
    ("aanstaande vrijdag", "2026-11-27"),
    ("dinsdagmiddag", "2026-12-01"),
    ("veertien maart", "2027-03-14"),  # passed this year: next year
    ("14 maart 2027", "2027-03-14"),
    ("veertien maart tweeduizend zevenentwintig", "2027-03-14"),
    ("geboren op 14 maart 1985", "1985-03-14"),
    ("3 december", "2026-12-03"),
    ("vijfentwintig november", "2026-11-25"),  # today has not passed
    ("14-3", "2027-03-14"),
    ("14-12", "2026-12-14"),
    ("2026-03-14", "2026-03-14"),
    ("14/03/2027", "2027-03-14"),
    ("de veertiende", "2026-12-14"),
    ("op de dertigste", "2026-11-30"),
    ("eerste april", "2027-04-01"),
    ("de 14e maart", "2027-03-14"),
    ("over twee weken", "2026-12-09"),
    ("vrijdag 27 november", "2026-11-27"),
    ("morgenochtend", "2026-11-26"),
])
def test_dates(text, expected):
    assert values(text, "date") == [expected]


@pytest.mark.parametrize("text", [
    "ik bel voor de eerste keer",
    "31 februari",
    "goedemorgen",
    "volgende week",
])
def test_not_dates(text):
    assert values(text, "date") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("half tien", "09:30"),
    ("kwart over drie", "15:15"),
    ("kwart over drie 's ochtends", "03:15"),
    ("om tien uur", "10:00"),
    ("10.30", "10:30"),
    ("om 10:15", "10:15"),
    ("14:00 uur", "14:00"),
    ("tien over half elf", "10:40"),
    ("vijf voor half drie", "14:25"),
    ("kwart voor twaalf", "11:45"),
    ("kwart voor een", "12:45"),
    ("'s middags om twee uur", "14:00"),
    ("om twee uur 's middags", "14:00"),
    ("om acht uur 's avonds", "20:00"),
    ("morgen om 9 uur 's ochtends", "09:00"),
    ("vijf over tien", "10:05"),
    ("tien uur dertig", "10:30"),
    ("om half een", "12:30"),
    ("half zeven", "18:30"),
    ("om drie", "15:00"),
    ("twaalf uur", "12:00"),
])
def test_times(text, expected):
    assert values(text, "time") == [expected]


@pytest.mark.parametrize("text", [
    "het duurt drie uur",
    "over drie uur ben ik er",
    "dat kost 2.50 euro",
    "ik bel over mijn paspoort",
    "hoe laat bent u open",
])
def test_not_times(text):
    assert values(text, "time") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("ja", "ja"), ("Ja.", "ja"), ("jawel", "ja"), ("jazeker", "ja"), ("klopt", "ja"),
    ("correct", "ja"), ("dat is goed", "ja"), ("prima", "ja"), ("ja hoor", "ja"),
    ("precies", "ja"), ("zeker", "ja"), ("ja, dat klopt.", "ja"), ("ja graag", "ja"),
    ("eh ja", "ja"), ("ja dat klopt het is 1234 AB", "ja"), ("oké", "ja"),
    ("nee", "nee"), ("neen", "nee"), ("nee hoor", "nee"), ("klopt niet", "nee"),
    ("Nee, dat klopt niet.", "nee"), ("niet", "nee"), ("nope", "nee"),
    ("liever niet", "nee"), ("nee dank u", "nee"), ("ja nee", "nee"),
    ("nee ik wil eigenlijk een andere dag", "nee"),
])
def test_yes_no(text, expected):
    assert values(text, "yesno") == [expected]


@pytest.mark.parametrize("text", [
    "ja goedemorgen ik bel over mijn paspoort",
    "ja goedemorgen",
    "ja met jan jansen",
    "ja ik wil graag een afspraak maken",
    "goed ik wil iets vragen over mijn paspoort",
    "ik wil een paspoort aanvragen",
])
def test_no_yes_no_in_ordinary_sentences(text):
    assert values(text, "yesno") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("bsn 123456782", "123456782"),
    ("mijn bsn is 123 456 782", "123456782"),
    ("123.456.782", "123456782"),
    ("een twee drie vier vijf zes zeven acht twee", "123456782"),
    ("twaalf vierendertig zesenvijftig achtenzeventig twee", "123456782"),
])
def test_bsn(text, expected):
    assert values(text, "bsn") == [expected]


def test_nine_digits_failing_the_11_proof_are_no_bsn():
    assert values("mijn bsn is 123456789", "bsn") == []
    assert values("mijn bsn is 123456789", "number") == ["123456789"]
    assert values("000000000", "bsn") == []


def test_elfproef():
    assert elfproef("123456782")
    assert elfproef("111222333")
    assert not elfproef("123456789")
    assert not elfproef("12345678")


@pytest.mark.parametrize(("text", "expected"), [
    ("kenteken 12-ABC-3", "12-ABC-3"),
    ("AB-123-C", "AB-123-C"),
    ("1-ABC-23", "1-ABC-23"),
    ("XX-99-99", "XX-99-99"),
    ("99-XX-99", "99-XX-99"),
    ("GB-12-NK", "GB-12-NK"),
    ("gb-12-nk", "GB-12-NK"),
    ("12-34-AB", "12-34-AB"),
    ("mijn kenteken is 12 ABC 3", "12-ABC-3"),
    ("mijn kenteken is gb 12 nk", "GB-12-NK"),
    ("twaalf a b c drie", "12-ABC-3"),
    ("mijn kenteken is ka el twaalf drie vier", "KL-12-34"),
    ("kenteken 12ABC3", "12-ABC-3"),
])
def test_licence_plates(text, expected):
    assert values(text, "kenteken") == [expected]


@pytest.mark.parametrize("text", [
    "1234 AB",  # a postcode
    "ik heb 2 AB",
    "12-ABCD-3",
    "mijn postcode is twaalf vierendertig a b",
])
def test_not_licence_plates(text):
    assert values(text, "kenteken") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("mijn nummer is nul zes een twee drie vier vijf zes zeven acht", "0612345678"),
    ("nul zes twaalf vierendertig zesenvijftig achtenzeventig", "0612345678"),
    ("bel 06-12345678", "0612345678"),
    ("kunt u mij terugbellen op 06 - 12 34 56 78?", "0612345678"),
    ("020-1234567", "0201234567"),
    ("(020) 123 45 67", "0201234567"),
    ("nul twintig een twee drie vier vijf zes zeven", "0201234567"),
    ("+31 6 12345678", "0612345678"),
    ("+31612345678", "0612345678"),
    ("0031 6 12345678", "0612345678"),
    ("+31 (0)20 1234567", "0201234567"),
    ("plus eenendertig zes twaalf vierendertig zesenvijftig achtenzeventig", "0612345678"),
    ("+32 2 555 12 34", "+3225551234"),
    ("0800-1234", "08001234"),
    ("0900 1234567", "09001234567"),
    ("14 020", "14020"),
    ("veertien nul twintig", "14020"),
])
def test_phone_numbers(text, expected):
    assert values(text, "phone") == [expected]


def test_phone_value_rejects_wrong_lengths():
    assert phone_value("061234567") is None
    assert phone_value("06123456789") is None
    assert phone_value("1234567890") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("jan.jansen@example.nl", "jan.jansen@example.nl"),
    ("mijn e-mailadres is Jan.Jansen@Example.NL.", "jan.jansen@example.nl"),
    ("jan punt jansen apenstaartje example punt nl", "jan.jansen@example.nl"),
    ("mail naar info at gemeente streepje utrecht punt nl dank", "info@gemeente-utrecht.nl"),
    ("piet123 apenstaartje gmail punt com", "piet123@gmail.com"),
])
def test_emails(text, expected):
    assert values(text, "email") == [expected]


def test_no_email_without_domain():
    assert values("jan apenstaartje example", "email") == []


def test_spans_and_order():
    text = "ja mijn postcode is 1234 AB nummer 12 en ik kom morgen om half tien"
    ents = extract(text, NOW)
    # the leading 'ja' opens a sentence here, it answers nothing
    assert [(e.type, e.value) for e in ents] == [
        ("postcode", "1234AB"), ("huisnummer", "12"), ("date", "2026-11-26"),
        ("time", "09:30")]
    for e in ents:
        assert text[e.start:e.end] == e.text
    assert [e.start for e in ents] == sorted(e.start for e in ents)


def test_specific_types_win_over_numbers():
    assert found("1234 AB") == [("postcode", "1234AB")]
    assert found("bsn 123456782") == [("bsn", "123456782")]
    assert found("0612345678") == [("phone", "0612345678")]
    assert found("14 maart") == [("date", "2027-03-14")]
    assert found("om tien uur") == [("time", "10:00")]


def test_several_entities_in_one_utterance():
    text = ("Goedemiddag, ik wil graag een afspraak maken voor een paspoort op 3 december "
            "om 10:15. Mijn nummer is 06-12345678 en mijn mail jan@example.nl.")
    assert found(text) == [("date", "2026-12-03"), ("time", "10:15"),
                           ("phone", "0612345678"), ("email", "jan@example.nl")]


def test_entity_is_frozen_and_empty_input_is_fine():
    e = Entity("number", "3", "drie", 0, 4)
    with pytest.raises(AttributeError):
        e.value = "4"  # type: ignore[misc]
    assert extract("", NOW) == []
    assert extract("   ", NOW) == []


def test_default_now_is_used():
    assert [e.type for e in extract("morgen")] == ["date"]


def test_questions_are_no_answers():
    assert values("klopt het dat ik morgen een afspraak heb", "yesno") == []
    assert values("klopt dat?", "yesno") == []


def test_een_uur_is_a_duration_unless_om():
    assert values("ik heb een uur moeten wachten", "time") == []
    assert values("om een uur", "time") == ["13:00"]


@pytest.mark.parametrize(("text", "postcode", "house"), [
    ("9991 AB 12", "9991AB", "12"),
    ("9991AB12", "9991AB", "12"),
    ("Postcode 9991 AB, huisnummer 12", "9991AB", "12"),
    ("Kerkstraat 12, 9991 AB", "9991AB", "12"),
    ("huisnummer 12, postcode 9991 AB", "9991AB", "12"),
    ("negen negen negen een a b twaalf", "9991AB", "12"),
    ("negen negen negen een a b huisnummer twaalf a", "9991AB", "12A"),
    ("9991 a van Anton b van Bernard, 12", "9991AB", "12"),
    ("9991 AB 12 bis", "9991AB", "12 bis"),
    ("9991 AB nummer 12-2", "9991AB", "12-2"),
    ("negenduizend negenhonderd eenennegentig a b nummer twaalf", "9991AB", "12"),
    # forms read wrongly before
    ("postcode 9991 AB huisnummer 12 toevoeging a", "9991AB", "12A"),
    ("9991 AB nummer 2 toevoeging 3", "9991AB", "2-3"),
    ("12, 9991 AB", "9991AB", "12"),
    ("twaalf, negen negen negen een a b", "9991AB", "12"),
    ("postcode negen negen negen een, a b, huisnummer twaalf", "9991AB", "12"),
    ("9993 EF 8", "9993EF", "8"),
    ("Dorpsstraat 3, 9993 EN", "9993EN", "3"),
    ("negenduizend negenhonderd tweeënnegentig a c nummer zesentwintig", "9992AC", "26"),
    ("9991 AB en 77", "9991AB", "77"),
    ("eh 9991 AB eh 14", "9991AB", "14"),
])
def test_postcode_and_house_number_in_one_breath(text, postcode, house):
    assert values(text, "postcode") == [postcode]
    assert values(text, "huisnummer") == [house]


@pytest.mark.parametrize(("text", "expected"), [("tweeentwintig", "22"), ("tweeënnegentig", "92")])
def test_number_words_with_or_without_diaeresis(text, expected):
    assert values(text, "number") == [expected]


@pytest.mark.parametrize("text", ["Kerkstraat en 5", "ik heb 3 kinderen en 1234 euro"])
def test_no_house_number_across_other_words(text):
    assert values(text, "huisnummer") == []

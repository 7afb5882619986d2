"""No wrong door: recognised utterances referred to the right organisation, or not at all."""

from pathlib import Path

import pytest

from dialogue.referral.catalogue import Catalogue, Product, import_upl
from dialogue.referral.directory import Organisation, load_directory
from dialogue.referral.resolve import Referral, Referrer

ROOT = Path(__file__).parents[3]
SHARED_CSV = ROOT.parent / "shared/data/upl/UPL-actueel.csv"

# Lower case recogniser output, some with recognition errors: expected organisation id.
TABLE = [
    ("ik heb een vraag over mijn huurtoeslag", "belastingdienst"),
    ("mijn huur toeslag is gestopt", "belastingdienst"),  # split by the recogniser
    ("ik moet mijn zorgtoeslach terugbetalen", "belastingdienst"),  # misspelt
    ("eh ik heb een blauwe envelop gekregen", "belastingdienst"),
    ("hoe doe ik aangifte inkomstenbelasting", "belastingdienst"),
    ("ik ben ontslagen en wil een ww uitkering", "uwv"),
    ("ik ben ziek uit dienst en wil ziektewet", "uwv"),
    ("wanneer krijg ik mijn aow", "svb"),
    ("wanneer krijg ik mijn a o w", "svb"),
    ("mijn kinder bijslag is niet betaald", "svb"),
    ("ik wil mijn studieschult aflossen", "duo"),
    ("mijn verblijfs vergunning verloopt", "ind"),
    ("ik wil mijn vrouw laten overkomen gezinshereniging", "ind"),
    ("hoe zet ik een auto op mijn naam", "rdw"),
    ("mijn apk is verlopen", "rdw"),
    ("hoe plan ik mijn theorie examen", "cbr"),
    ("mijn eigen bijdrage is veel te hoog", "cak"),
    ("ik wil een eenmanszaak inschrijven", "kvk"),
    ("mijn fiets is gestolen ik wil aangifte doen", "politie"),
    ("er is ingebroken in mijn auto", "politie"),
    ("ik heb een flitsboete gekregen", "cjib"),
    ("mijn digid werkt niet", "digid"),
    ("wie gaat over de waterschaps belasting", "waterschap"),
    ("de dijk lekt achter mijn huis", "waterschap"),
    ("er zit een gat in de provinciale weg", "provincie"),
    ("ik heb een vraag voor de rijksoverheid", "rijksoverheid"),
    # The municipality's own business, or not clear: no referral.
    ("ik wil een paspoort aanvragen", None),
    ("mijn container is niet geleegd", None),
    ("ik wil mijn huur opzeggen", None),
    ("ik wil de energietoeslag aanvragen", None),
    ("ik wil een parkeervergunning voor mijn nieuwe kenteken", None),
    ("ik wil aangifte doen van de geboorte van mijn zoon", None),
    ("het deksel van de container is afgebroken", None),
    ("de aanslag gemeentelijke belastingen is te hoog", None),
    ("ik wil een uitkering aanvragen", None),
    ("ik woon aan de dijk en de lantaarnpaal is kapot", None),
    ("eh hm", None),
    ("", None),
]


@pytest.fixture(scope="module")
def directory() -> list[Organisation]:
    return load_directory(ROOT / "content" / "national" / "organisations.yaml")


@pytest.fixture(scope="module")
def referrer(directory) -> Referrer:
    return Referrer(directory)


def _product(name: str, *levels: str, burger: bool = True) -> Product:
    return Product(name=name, uri=f"http://example.test/{name}", levels=levels, burger=burger)


@pytest.fixture(scope="module")
def small_catalogue() -> Catalogue:
    return Catalogue([
        _product("paspoort", "Rijk", "Gemeente"),
        _product("bijstand", "Gemeente"),
        _product("huurtoeslag", "Rijk"),
        _product("huisdierenpaspoort", "Rijk"),
        _product("watergangonderhoud", "Waterschap"),
        _product("grondwateronttrekkingsvergunning", "Provincie"),
        _product("boete", "Rijk"),
        _product("bedrijfsafvalstoffenmelding", "Rijk", burger=False),
        _product("bezwaar", "Rijk", "Provincie", "Waterschap", "Gemeente"),
    ])


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_referral_table(referrer: Referrer, text: str, expected: str | None):
    referral = referrer.refer(text)
    got = referral.organisation.id if referral else None
    assert got == expected, (text, referral and (referral.reason, referral.score))


def test_referral_says_why(referrer: Referrer):
    referral = referrer.refer("mijn huur toeslag is gestopt")
    assert isinstance(referral, Referral)
    assert referral.reason == "huurtoeslag" and referral.product is None
    assert 0.9 <= referral.score <= 1.0
    assert "Belastingdienst" in referral.organisation.answer


@pytest.mark.parametrize(
    ("text", "expected", "product"),
    [
        ("ik wil een huisdierenpaspoort voor mijn hond", "rijksoverheid", "huisdierenpaspoort"),
        ("vraag over het watergang onderhoud", "waterschap", "watergangonderhoud"),
        ("ik wil een grondwateronttrekkingsvergunning", "provincie",
         "grondwateronttrekkingsvergunning"),
        ("ik wil een paspoort aanvragen", None, None),  # the municipality provides it
        ("ik heb een boete", None, None),  # too generic to refer on
        ("bedrijfsafvalstoffenmelding doen", None, None),  # not for residents
        ("ik wil bezwaar maken", None, None),
    ],
)
def test_catalogue_fallback(directory, small_catalogue, text, expected, product):
    referral = Referrer(directory, small_catalogue).refer(text)
    assert (referral.organisation.id if referral else None) == expected
    assert (referral.product if referral else None) == product


def test_keywords_still_come_first(directory, small_catalogue):
    referrer = Referrer(directory, small_catalogue)
    referral = referrer.refer("ik heb een vraag over de huurtoeslag")
    assert referral is not None and referral.product is None
    # A municipal product named beside the keyword: the municipality answers.
    assert referrer.refer("mijn ww stopt kan ik dan bijstand krijgen") is None
    assert Referrer(directory).refer("mijn ww stopt kan ik dan bijstand krijgen") is not None


def test_with_the_official_catalogue(directory, tmp_path_factory):
    if not SHARED_CSV.is_file():
        pytest.skip(f"the official UPL sample is not available at {SHARED_CSV}")
    path = tmp_path_factory.mktemp("upl") / "upl.json"
    import_upl(SHARED_CSV, path)
    referrer = Referrer(directory, Catalogue.load(path))
    for text, expected in TABLE:
        referral = referrer.refer(text)
        assert (referral.organisation.id if referral else None) == expected, text
    assert referrer.refer("vraag over watergangonderhoud").organisation.id == "waterschap"
    assert referrer.refer("ik wil een schengenvisum").organisation.id == "rijksoverheid"
    assert referrer.refer("ik wil een omgevingsvergunning aanvragen") is None
    assert referrer.refer("ik wil mijn woz beschikking zien") is None

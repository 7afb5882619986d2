"""The curated directory of organisations: the shipped file is valid, broken ones are refused."""

import re
from pathlib import Path

import pytest

from dialogue.errors import ContentError
from dialogue.referral.directory import Organisation, load_directory

SHIPPED = Path(__file__).parents[3] / "content" / "national" / "organisations.yaml"

GOOD = """\
organisations:
  - id: belastingdienst
    name: Belastingdienst
    spoken_name: de Belastingdienst
    description: Belastingen van het Rijk en de toeslagen, zoals huurtoeslag en zorgtoeslag.
    phone: "08000543"
    phone_spoken: nul achthonderd, nul vijf vier drie
    website: www.belastingdienst.nl
    hours: Op werkdagen vanaf 8 uur.
    levels: [Rijk]
    keywords: [huurtoeslag, zorgtoeslag]
    answer: Dat regelt de Belastingdienst. U belt op nul achthonderd, nul vijf vier drie.
"""


@pytest.fixture(scope="module")
def shipped() -> list[Organisation]:
    return load_directory(SHIPPED)


def test_shipped_directory_is_complete(shipped):
    ids = {o.id for o in shipped}
    expected = {"belastingdienst", "uwv", "svb", "duo", "ind", "rdw", "cbr", "cak", "kvk",
                "politie", "waterschap", "provincie", "rijksoverheid"}
    assert expected <= ids
    assert len(ids) == len(shipped)
    assert SHIPPED.read_text(encoding="utf-8").startswith("# National curated data")
    # No wrong door for the whole government: at least 40 organisations.
    assert len(shipped) >= 40
    assert {"digid", "mijnoverheid", "nationale_ombudsman", "kinderombudsman", "aivd",
            "autoriteit_persoonsgegevens", "kadaster", "rijkswaterstaat", "nvwa", "rvo",
            "juridisch_loket", "consuwijzer", "omgevingsloket", "kiesraad",
            "stemmen_buitenland", "veilig_thuis", "zelfmoordpreventie", "ggd",
            "woningcorporatie", "netbeheerder"} <= ids


def test_every_organisation_says_what_it_does(shipped):
    descriptions = [o.description for o in shipped]
    assert len(set(descriptions)) == len(descriptions)  # no copy-paste
    for org in shipped:
        assert 6 <= len(org.description.split()) <= 80, org.id
    # Generic kinds have no single number: the answer says where to find the right one.
    by_id = {o.id: o for o in shipped}
    for kind in ("woningcorporatie", "waterschap", "provincie", "drinkwaterbedrijf"):
        assert by_id[kind].phone is None, kind
        assert re.search(r"staat op|website|punt nl", by_id[kind].answer), kind


def test_shipped_entries_are_speakable(shipped):
    by_id = {o.id: o for o in shipped}
    assert by_id["belastingdienst"].phone == "08000543"
    assert by_id["politie"].phone == "09008844"
    assert by_id["rijksoverheid"].phone == "1400"
    for name in ("belastingdienst", "uwv", "svb", "duo", "ind", "rdw", "kvk", "politie",
                 "waterschap", "provincie"):
        assert 15 <= len(by_id[name].keywords) <= 40, name
    for org in shipped:
        assert len(org.keywords) >= 5, org.id
        assert not re.search(r"https?://|www\.|\.nl\b", org.answer), org.id
        if org.phone:
            assert org.phone.isdigit() and org.phone_spoken in org.answer
        assert all(k == k.lower() for k in org.keywords)


def test_small_directory_loads(tmp_path: Path):
    path = tmp_path / "organisations.yaml"
    path.write_text(GOOD, encoding="utf-8")
    (org,) = load_directory(path)
    assert org.spoken_name == "de Belastingdienst" and org.levels == ["Rijk"]
    # A plain list works too.
    path.write_text("\n".join(line[2:] for line in GOOD.splitlines()[1:]), encoding="utf-8")
    assert load_directory(path)[0].id == "belastingdienst"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("website: www.belastingdienst.nl", "webste: www.belastingdienst.nl", "webste"),
        ("U belt op", "Kijk op www.belastingdienst.nl of bel op", "URL"),
        ('phone: "08000543"', 'phone: "0800-0543"', "phone"),
        ("nul achthonderd, nul vijf vier drie.", "nul achthonderd.", "phone_spoken"),
        ("levels: [Rijk]", "levels: [Europa]", "levels"),
        ('phone: "08000543"', 'phone: "08001"', "not a Dutch phone number"),
        ("    description: Belastingen", "    descriptio: Belastingen", "description"),
        ("toeslagen, zoals", "toeslagen, op www.toeslagen.nl, zoals", "URL"),
        ("Belastingen van het Rijk en", "Belastingen. Van het Rijk. En. De", "at most 3"),
        ("[huurtoeslag, zorgtoeslag]", "[Huurtoeslag]", "lower case"),
        ("    keywords: [huurtoeslag, zorgtoeslag]\n", "", "keywords"),
    ],
)
def test_broken_directory_is_refused_with_file_line_and_field(tmp_path, old, new, expected):
    path = tmp_path / "organisations.yaml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_directory(path)
    message = str(info.value)
    assert str(path) in message and expected in message, message
    assert re.search(r"organisations\.yaml:\d+: organisations\.0", message), message


def test_duplicate_keyword_and_bad_yaml(tmp_path: Path):
    path = tmp_path / "organisations.yaml"
    second = GOOD.split("organisations:\n")[1].replace("id: belastingdienst", "id: other")
    path.write_text(GOOD + second, encoding="utf-8")
    with pytest.raises(ContentError, match=r"huurtoeslag.*both 'belastingdienst' and 'other'"):
        load_directory(path)
    path.write_text("organisations:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"organisations\.yaml:\d+: invalid YAML"):
        load_directory(path)
    with pytest.raises(ContentError, match="cannot read"):
        load_directory(tmp_path / "missing.yaml")
    path.write_text("organisations: []\n", encoding="utf-8")
    with pytest.raises(ContentError, match="non-empty list"):
        load_directory(path)

"""The intent ids every channel and content pack uses (fixed by contract)."""

TOPICS: dict[str, str] = {
    "paspoort_id": "paspoort of identiteitskaart aanvragen, verlengen, ophalen, kwijt",
    "rijbewijs": "rijbewijs aanvragen, verlengen, vervangen, kwijt",
    "verhuizing": "verhuizing doorgeven, adreswijziging, inschrijven in de gemeente",
    "uittreksel_brp": "uittreksel uit de Basisregistratie Personen (BRP), bewijs van inschrijving",
    "afvalkalender": "wanneer wordt het afval opgehaald, ophaaldagen",
    "grofvuil": "grof huisvuil laten ophalen of wegbrengen, milieustraat",
    "afvalcontainer": "container niet geleegd, kapot, kwijt, nieuwe container",
    "melding_openbare_ruimte": "melding over straat, stoep, lantaarnpaal, zwerfafval, overlast",
    "parkeren": "parkeervergunning, bezoekersparkeren, parkeerboete van de gemeente",
    "geboorte": "aangifte van geboorte, erkenning",
    "overlijden": "aangifte van overlijden, begrafenis, iemand is overleden",
    "trouwen": "trouwen, geregistreerd partnerschap, ondertrouw",
    "belastingen": "gemeentelijke belastingen, WOZ, OZB, afvalstoffenheffing, kwijtschelding",
    "zorg_wmo": "hulp of zorg via de Wmo, huishoudelijke hulp, scootmobiel, jeugdhulp",
    "werk_inkomen": "bijstand, uitkering van de gemeente, schulden, werk zoeken",
    "vergunning_bouwen": "omgevingsvergunning, bouwen, verbouwen, dakkapel, kappen van een boom",
    "verkiezingen": "verkiezingen, stempas, volmacht, stemmen",
    "afspraak": "een afspraak maken, verzetten of afzeggen bij de gemeente",
    "contact_openingstijden": "openingstijden, adres, hoe bereik ik de gemeente",
    "status_aanvraag": "hoe staat het met mijn aanvraag, melding of vergunning",
    "klacht": "een klacht indienen over de gemeente of een medewerker",
    "gevonden_voorwerp": "iets verloren of gevonden",
}

CONVERSATION: dict[str, str] = {
    "medewerker": "wil een mens/medewerker spreken",
    "buiten_gemeente": "zaak van een andere organisatie (Belastingdienst, UWV, SVB, DUO...)",
    "groet": "begroeting",
    "bedankt": "bedanken",
    "afscheid": "afscheid nemen, ophangen",
    "bevestigen": "ja, klopt, bevestigen",
    "ontkennen": "nee, klopt niet",
    "herhalen": "vraagt om herhaling",
    "onbekend": "niets bruikbaars verstaan of buiten de taak",
}

INTENTS: tuple[str, ...] = (*TOPICS, *CONVERSATION)

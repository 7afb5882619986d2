"""Understanding Dutch utterances: intents, entities and privacy redaction."""

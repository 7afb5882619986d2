# Loket: `make run` and `make test` install everything they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint fixtures install clean demo

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/loket models install
	touch $(STAMP)

# Until the phone gateway exists: demonstrate the voice layer on a fixture.
run: $(STAMP)
	$(BIN)/loket transcribe --phone audio_fixtures/paspoort_01.wav
	$(BIN)/loket say "Goedemiddag, u spreekt met Loket. Een paspoort kost € 84,70. U maakt eerst een afspraak." -o out/antwoord.wav
	@echo "Listen to out/antwoord.wav"
	$(BIN)/loket chat --municipality demodam --script scripts/demo-chat.txt

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

fixtures: $(STAMP)
	$(BIN)/python -m audio_fixtures.generate

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

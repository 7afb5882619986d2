# Loket: `make run` and `make test` install everything they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run demo test lint fixtures install clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/loket models install
	touch $(STAMP)

# Start the phone gateway on embedded defaults (SQLite in ~/.local/share/loket, the demo
# municipalities, Whisper base). It prints how to place a simulated call.
run: $(STAMP)
	$(BIN)/loket serve

# A scripted conversation with the demo municipality Demodam, in the terminal (text only,
# during office hours): what scripts/demo-chat.txt says, and Loket's answers.
demo: $(STAMP)
	$(BIN)/loket chat --script scripts/demo-chat.txt --municipality demodam --at 2026-12-08T10:00

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

fixtures: $(STAMP)
	$(BIN)/python -m audio_fixtures.generate

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

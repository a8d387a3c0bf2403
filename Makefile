# secdigest: `make run` serves with the embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed-dev

BENCH_DIR ?= ../shared/bench
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install run test lint format clean bench bench-iocs bench-extract bench-summarize bench-llm bench-feeds bench-read bench-export bench-memory

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## the .venv with the project and its dev extras (idempotent)

run: install ## migrate and serve on HOST:PORT (default 127.0.0.1:8000)
	$(BIN)/secdigest serve --host $(HOST) --port $(PORT)

# Four processes even on two CPUs: the suite mostly waits (servers, subprocesses, workers);
# worksteal keeps the long end-to-end tests from leaving a process idle at the end.
test: install ## the whole suite, in 4 processes (PostgreSQL too when SECDIGEST_TEST_POSTGRES_URL is set)
	$(BIN)/pytest -n 4 --dist worksteal

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: bench-iocs bench-warninglists bench-extract bench-summarize bench-feeds bench-read bench-export bench-memory ## every benchmark against its peers (BENCH_DIR=../shared/bench)

bench-iocs: $(BENCH_STAMP) ## IOC extraction: ours vs iocextract, ioc-finder, iocsearcher, msticpy (ESET, bench/ioc_hard, new types on bench/ioc_types)
	$(BIN)/python bench/iocs.py --shared $(BENCH_DIR)

bench-warninglists: install ## which truth IOCs (ESET, hard cases) a benign list would flag: ours, the chosen MISP warning lists, every list
	$(BIN)/python bench/warninglists.py --shared $(BENCH_DIR)

bench-extract: $(BENCH_STAMP) ## article extraction: ours vs trafilatura and readability-lxml
	$(BIN)/python bench/extract.py --shared $(BENCH_DIR)

bench-summarize: $(BENCH_STAMP) ## offline summaries: ours vs lead-k, TextRank, LexRank (ROUGE)
	$(BIN)/python bench/summarize.py --shared $(BENCH_DIR)

bench-llm: $(BENCH_STAMP) ## the configured model (SECDIGEST_LLM_*) on the summarization sets: ROUGE vs offline and lead-6, grounding, tokens, latency (BENCH_LLM_ARGS=--limit 10)
	@$(BIN)/python bench/llm.py --shared $(BENCH_DIR) $(BENCH_LLM_ARGS)

bench-feeds: install ## feed pulls: 200 items, a 1 s model, concurrency 8; in-process and two Redis workers
	$(BIN)/python bench/feeds.py

bench-read: install ## cached reads vs a bare app (same bytes), wrk; SQLite and PostgreSQL, 1 and 2 processes (BENCH_READ_ARGS=--quick)
	command -v wrk >/dev/null || (apt-get install -y wrk || sudo apt-get install -y wrk)
	$(BIN)/python bench/read.py $(BENCH_READ_ARGS)

bench-export: install ## STIX objects/s vs the same bundles through stix2's objects; TAXII pages/s over HTTP; 365 days x 30 entries (BENCH_EXPORT_ARGS=--no-postgres)
	$(BIN)/python bench/export.py $(BENCH_EXPORT_ARGS)

bench-memory: install ## search p50/p99 vs LIKE '%q%' (and pg_trgm's other ways), lookups vs LIKE over iocs; 365 days x 30 entries with articles, SQLite and PostgreSQL (BENCH_MEMORY_ARGS=--no-postgres)
	$(BIN)/python bench/memory.py $(BENCH_MEMORY_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

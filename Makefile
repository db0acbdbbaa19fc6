# Developer entry points. `make test` is what CI runs; the others are on demand.
PYTHON ?= python
FUZZ_EXAMPLES ?= 2000
FUZZ_FAILURES ?= /tmp/zygote-fuzz-failures

.PHONY: test fuzz fuzz-writes fuzz-lift fuzz-collect bench bench-quick

test:  ## the test suite, doctests included (the fuzzer runs 60 fixed programs)
	$(PYTHON) -m pytest -q

fuzz:  ## a long random fuzz run; stops at the first failure and shrinks it
	ZYGOTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTHON) -m pytest -q -s tests/zygote/test_fuzz.py -k gradients

fuzz-writes:  ## a long random run of programs that write in place, against their plain calls
	ZYGOTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTHON) -m pytest -q -s tests/zygote/test_fuzz_writes.py

fuzz-lift:  ## a long random run of the lifter: fuzzed programs without source against their source
	ZYGOTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTHON) -m pytest -q tests/zygote/lift/test_round_trip.py -k fuzzed

fuzz-collect:  ## a long random fuzz run that goes on past failures, writing each to $(FUZZ_FAILURES)
	ZYGOTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ZYGOTE_FUZZ_COLLECT=$(FUZZ_FAILURES) \
		$(PYTHON) -m pytest -q -s tests/zygote/test_fuzz.py -k gradients

bench:  ## the full benchmark suite; rewrites benchmarks/RESULTS.md
	$(PYTHON) -m benchmarks

bench-quick:  ## a smoke run of the benchmarks (under 2 minutes), report in a temporary directory
	$(PYTHON) -m benchmarks --quick

# streamlake: `make demo` runs the main job, `make test` runs every test.
# Both install what they need first (scripts/bootstrap) and build.
JOBS      ?= $(shell nproc)
RELEASE   := build/release
ASAN      := build/asan
VS2       := build/vs2
FUZZ      := build/fuzz
FUZZ_TIME ?= 20
FUZZ_TARGETS ?= sql_fuzz kinesis_fuzz http_fuzz format_fuzz pg_message_fuzz parquet_fuzz
# make test fuzzes the SQL text target (issue 3 asks for it in CI), the protocol targets and
# the Parquet reader (issue 18);
# format_fuzz only in `make fuzz-smoke`. A cold ASan+coverage clang build of exec/ and sql/
# takes ~10 min on 2 cores (ccache makes later runs cheap); see docs/testing.md.
FUZZ_CI_TARGETS ?= pg_message_fuzz kinesis_fuzz http_fuzz sql_fuzz parquet_fuzz
FUZZ_CI_TIME ?= 15
CMAKE_GEN := -G Ninja

.PHONY: readme-screenshot all bootstrap build build-asan build-vs2 build-fuzz fuzz-smoke test test-unit test-asan demo serve bench clean

all: build

bootstrap:
	@bash scripts/bootstrap

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

$(ASAN)/build.ninja:
	cmake -S . -B $(ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON -DSL_BUILD_BENCH=OFF

# The SQL tests once more with 2 rows per vector (exec/ batch boundaries everywhere); only
# the sql test binaries are built there.
$(VS2)/build.ninja:
	cmake -S . -B $(VS2) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSL_VECTOR_SIZE=2 -DSL_BUILD_BENCH=OFF

# libFuzzer targets (clang, ASan/UBSan, coverage); only the fuzz/ targets are built.
$(FUZZ)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSL_FUZZ=ON -DSL_BUILD_TESTS=OFF -DSL_BUILD_BENCH=OFF

build: bootstrap $(RELEASE)/build.ninja
	ninja -C $(RELEASE) -j $(JOBS)

build-asan: bootstrap $(ASAN)/build.ninja
	ninja -C $(ASAN) -j $(JOBS)

build-vs2: bootstrap $(VS2)/build.ninja
	ninja -C $(VS2) -j $(JOBS) sql_tests

build-fuzz: bootstrap $(FUZZ)/build.ninja
	ninja -C $(FUZZ) -j $(JOBS) $(FUZZ_TARGETS)

# Each fuzz target for FUZZ_TIME seconds from its seed corpus (copied, so that new inputs
# stay out of the tree); a crash leaves crash-* in $(FUZZ)/out and fails the target.
fuzz-smoke: build-fuzz
	bash scripts/fuzz_smoke $(FUZZ) $(FUZZ_TIME) $(FUZZ_TARGETS)

# Everything: unit, integration (real clients), SQL logic and differential tests; the unit
# tests under ASan/UBSan; the SQL tests with vector size 2; a short run of the cheap fuzzers
# (FUZZ_CI_TARGETS; `make fuzz-smoke` runs all).
# SL_TEST_LABELS narrows the release run (e.g. "unit").
test: build build-asan build-vs2
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) $(if $(SL_TEST_LABELS),-L $(SL_TEST_LABELS),)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -L unit
	cd $(VS2) && ctest --output-on-failure -j $(JOBS) -L sql -LE slow
	$(MAKE) --no-print-directory fuzz-smoke FUZZ_TARGETS="$(FUZZ_CI_TARGETS)" FUZZ_TIME=$(FUZZ_CI_TIME)

test-unit: build
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) -L unit

demo: build
	./$(RELEASE)/streamlake demo

serve: build
	./$(RELEASE)/streamlake serve

bench: build
	bash bench/run_all.sh

# README.md's picture of the notebook, as the browser test of the demo last took it.
readme-screenshot: build
	cd $(RELEASE) && ctest --output-on-failure -R ui_demo_browser
	mkdir -p docs/images && cp $(RELEASE)/test-artifacts/ui/readme-notebook.png docs/images/notebook.png

clean:
	rm -rf build

# streamlake: `make demo` runs the main job, `make test` runs every test.
# Both install what they need first (scripts/bootstrap) and build.
JOBS      ?= $(shell nproc)
RELEASE   := build/release
ASAN      := build/asan
CMAKE_GEN := -G Ninja

.PHONY: all bootstrap build build-asan test test-unit test-asan demo serve bench clean

all: build

bootstrap:
	@bash scripts/bootstrap

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

$(ASAN)/build.ninja:
	cmake -S . -B $(ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON -DSL_BUILD_BENCH=OFF

build: bootstrap $(RELEASE)/build.ninja
	ninja -C $(RELEASE) -j $(JOBS)

build-asan: bootstrap $(ASAN)/build.ninja
	ninja -C $(ASAN) -j $(JOBS)

# Everything: unit, integration (real clients), SQL logic tests; then the unit tests under
# ASan/UBSan. SL_TEST_LABELS narrows the release run (e.g. "unit").
test: build build-asan
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) $(if $(SL_TEST_LABELS),-L $(SL_TEST_LABELS),)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -L unit

test-unit: build
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) -L unit

demo: build
	./$(RELEASE)/streamlake demo

serve: build
	./$(RELEASE)/streamlake serve

bench: build
	bash bench/run_all.sh

clean:
	rm -rf build

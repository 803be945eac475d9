# streamlake: `make demo` runs the main job, `make test` runs every test.
# Both install what they need first (scripts/bootstrap) and build.
JOBS      ?= $(shell nproc)
RELEASE   := build/release
ASAN      := build/asan
VS2       := build/vs2
CMAKE_GEN := -G Ninja

.PHONY: all bootstrap build build-asan build-vs2 test test-unit test-asan demo serve bench clean

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

build: bootstrap $(RELEASE)/build.ninja
	ninja -C $(RELEASE) -j $(JOBS)

build-asan: bootstrap $(ASAN)/build.ninja
	ninja -C $(ASAN) -j $(JOBS)

build-vs2: bootstrap $(VS2)/build.ninja
	ninja -C $(VS2) -j $(JOBS) sql_tests

# Everything: unit, integration (real clients), SQL logic and differential tests; the unit
# tests under ASan/UBSan; and the SQL tests with vector size 2.
# SL_TEST_LABELS narrows the release run (e.g. "unit").
test: build build-asan build-vs2
	cd $(RELEASE) && ctest --output-on-failure -j $(JOBS) $(if $(SL_TEST_LABELS),-L $(SL_TEST_LABELS),)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -L unit
	cd $(VS2) && ctest --output-on-failure -j $(JOBS) -L sql -LE slow

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

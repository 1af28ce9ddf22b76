# The two set-up commands (see README): `make run` and `make test`.
BUILD ?= build
GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
JOBS ?= $(shell nproc)

.PHONY: deps test-deps build build-all run test asan clean

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(GEN) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

# Only the broker binary (`strata`): tests and benchmarks are built by `make test`
# (and by `make build-all`), so a first `make run` compiles what it runs.
build: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GEN) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS) --target strata

build-all: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GEN) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# Installs what is missing, builds a release binary and starts a single-node broker
# on localhost:9092 with data under ./data.
run: build
	$(BUILD)/strata serve

# Installs what is missing, builds with -Werror, and runs every test.
test: test-deps
	scripts/run-tests

asan: test-deps
	scripts/run-tests --asan-only

clean:
	rm -rf $(BUILD) build-asan build-fuzz

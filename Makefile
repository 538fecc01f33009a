# Overleg: every entry point a person or CI needs. CMake does the building; builds go to build*/.
#   make run            install what is missing, build, start the server
#   make test           install what is missing, build, run every test
#   make test-sanitize  the tests again in an ASan+UBSan build (build-sanitize/)
#   make fuzz-smoke     every libFuzzer target for FUZZ_SECONDS on its seed corpus (build-fuzz/)
#   make bench          the benchmarks (not part of make test)
#   make format         clang-format every C file; make format-check fails on a diff

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
CTEST_ARGS ?=
C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all deps build run test test-sanitize test-image fuzz fuzz-smoke bench format format-check clean

all: build

# Optional package groups of deploy/install-deps.sh: the tests need Chromium (browser) and
# buildah/podman/debootstrap for the container image test (image).
DEPS_GROUPS ?=
test: DEPS_GROUPS = browser image
test-sanitize: DEPS_GROUPS = browser
test-image: DEPS_GROUPS = image

deps:
	@OVERLEG_DEPS="$(DEPS_GROUPS)" ./deploy/install-deps.sh

# Configure every time (about a second): a suite folder added since the last run is picked up.
build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j $(JOBS)

run: build
	./build/overleg serve

test: build
	@# -V: every cmocka case (each RFC vector by name) shows in the log, not only the suites.
	ctest --test-dir build -V -j $(JOBS) $(CTEST_ARGS)

# The container image tests alone (as root): build the image with buildah, run it with podman.
test-image: build
	ctest --test-dir build -L image --output-on-failure $(CTEST_ARGS)

test-sanitize: deps
	@cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DOVL_SANITIZE=ON >/dev/null
	cmake --build build-sanitize -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir build-sanitize --output-on-failure -j $(JOBS) -LE 'browser|image|bench' $(CTEST_ARGS)

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOVL_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
	cmake --build build-fuzz -j $(JOBS)

# Each target runs on a scratch copy of its seed corpus, JOBS targets at a time.
fuzz-smoke: fuzz
	@tests/fuzz/smoke.sh build-fuzz $(FUZZ_SECONDS) $(JOBS)

bench: build
	@for b in build/bench build/bench_*; do if [ -x $$b ]; then echo "== $$b"; ./$$b || exit 1; fi; done

format:
	clang-format -i $(C_FILES)

format-check:
	@clang-format --dry-run --Werror $(C_FILES)

clean:
	rm -rf build build-sanitize build-fuzz

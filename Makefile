# w2v - word vectors in C.
#
#   make              build the library (static and shared) and the tools
#   make test         build and run the test suite
#   make test SAN=1   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo         train on the embedded demo corpus and query the result
#   make bench        w2v against word2vec.c, gensim and fastText (slow),
#                     then the query benchmark
#   make bench-quick  the same on a 1M-word corpus
#                     (BENCH_ARGS="--arch sg --peers gensim --size 300" and
#                     other bench.py options pass through)
#   make bench-query  only the query benchmark: w2v-nearest load and answer
#                     times, w2v-eval against gensim and compute-accuracy
#                     (QUERY_MODEL=file.bin skips training its 300-d model)
#   make check-export  w2v-export and w2v-attention against NumPy (MODEL=file
#                     checks that model; else a small one is trained first)
#   make fuzz         build the libFuzzer targets (clang) and run each for
#                     FUZZ_SECONDS (default 60); seeds in tests/fuzz/<target>/
#   make test-tsan    the trainer tests under ThreadSanitizer (clang)
#   make install PREFIX=/usr/local
#
# Data paths: CORPUS= (demo and bench corpus), EVAL_DIR= (analogy and
# similarity sets). They default to ../shared/... when that exists.

CC      ?= cc
PREFIX  ?= /usr/local
# Contracting a * b + c into one fused multiply-add is what the kernels are
# written for; ISO C mode would otherwise forbid it.
OPT     ?= -O3 -march=native -ffp-contract=fast
WERROR  ?= -Werror
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla \
           -Wcast-qual -Wundef
CFLAGS  ?= -g
ALL_CFLAGS = $(OPT) $(WARN) $(WERROR) $(CFLAGS) -fPIC -pthread
CPPFLAGS += -Iinclude
LDLIBS  := -lopenblas -lz -lm -pthread
BUILD   ?= build

ifeq ($(SAN),1)
BUILD   := build-san
OPT     := -O1 -g -fno-omit-frame-pointer -march=native -ffp-contract=fast
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
endif

SHARED_DIR := $(firstword $(wildcard ../shared))
# CORPUS is empty unless given: the demo then uses corpora/text8.gz or the
# embedded corpus, the benchmark ../shared's en17m.
CORPUS  ?=
BENCH_CORPUS = $(or $(CORPUS),$(if $(SHARED_DIR),$(SHARED_DIR)/corpora/en17m.txt.gz,))
EVAL_DIR ?= $(if $(SHARED_DIR),$(SHARED_DIR)/eval,eval)
PYTHON  ?= $(firstword $(wildcard /usr/bin/python3.11) python3)

LIB_SRC := $(wildcard src/*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
# Every tools/w2v-*.c is one command-line tool.
TOOLS   := $(patsubst tools/%.c,%,$(wildcard tools/w2v-*.c))
TOOL_BIN := $(TOOLS:%=$(BUILD)/bin/%)
CLI_OBJ := $(BUILD)/obj/tools/cli.o $(BUILD)/obj/tools/query.o
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/obj/tests/%.o)
TEST_BIN := $(BUILD)/tests/w2v-tests

.PHONY: fuzz fuzz-build test-tsan all test demo bench bench-quick bench-query check-export install uninstall clean style

# Keep object files: they are intermediates of pattern rules, and make
# would otherwise delete them and rebuild the tools every time.
.SECONDARY:

all: $(BUILD)/libw2v.a $(BUILD)/libw2v.so $(TOOL_BIN)

$(BUILD)/obj/%.o: src/%.c $(wildcard include/w2v/*.h src/*.h) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/obj/tools/%.o: tools/%.c tools/cli.h tools/query.h $(wildcard include/w2v/*.h) | $(BUILD)/obj/tools
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c $(wildcard include/w2v/*.h src/*.h tests/*.h tests/fuzz/*.[ch]) | $(BUILD)/obj/tests
	$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) $(SANFLAGS) \
	  -DW2V_BIN_DIR='"$(abspath $(BUILD)/bin)"' \
	  -DW2V_SOURCE_DIR='"$(abspath .)"' -c $< -o $@

$(BUILD)/libw2v.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libw2v.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libw2v.so.0 $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(CLI_OBJ) $(BUILD)/libw2v.a | $(BUILD)/bin
	$(CC) $(SANFLAGS) -o $@ $< $(CLI_OBJ) $(BUILD)/libw2v.a $(LDLIBS)

$(TEST_BIN): $(TEST_OBJ) $(BUILD)/libw2v.a | $(BUILD)/tests
	$(CC) $(SANFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libw2v.a -lcriterion $(LDLIBS)

$(BUILD)/obj $(BUILD)/obj/tools $(BUILD)/obj/tests $(BUILD)/bin $(BUILD)/tests:
	mkdir -p $@

# Tests run the tools too, so build everything first. One thread per test
# process keeps timing-free tests independent of machine load.
test: all $(TEST_BIN)
	$(TEST_BIN) --jobs 2 $(TEST_ARGS)

demo: all
	CORPUS="$(CORPUS)" W2V_BIN=$(BUILD)/bin sh tools/demo.sh

READER_BENCH := $(BUILD)/bench/reader-bench

$(READER_BENCH): tools/bench/reader-bench.c $(BUILD)/libw2v.a $(wildcard include/w2v/*.h src/*.h)
	mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libw2v.a $(LDLIBS)

KERNEL_BENCH := $(BUILD)/bench/kernel-bench

$(KERNEL_BENCH): tools/bench/kernel-bench.c $(BUILD)/libw2v.a $(wildcard include/w2v/*.h src/*.h)
	mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Isrc $(ALL_CFLAGS) $(SANFLAGS) -o $@ $< $(BUILD)/libw2v.a $(LDLIBS)

ROW_BENCH := $(BUILD)/bench/row-bench

$(ROW_BENCH): tools/bench/row-bench.c
	mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(SANFLAGS) -o $@ $<

bench: all $(READER_BENCH) $(ROW_BENCH) $(KERNEL_BENCH)
	$(PYTHON) tools/bench/bench.py --w2v-train $(BUILD)/bin/w2v-train --reader-bench $(READER_BENCH) \
	  --kernel-bench $(KERNEL_BENCH) $(if $(BENCH_CORPUS),--corpus $(BENCH_CORPUS)) --eval-dir $(EVAL_DIR) --out-md $(BUILD)/bench.md $(BENCH_ARGS)

bench-quick: all $(READER_BENCH) $(KERNEL_BENCH)
	$(PYTHON) tools/bench/bench.py --quick --w2v-train $(BUILD)/bin/w2v-train --reader-bench $(READER_BENCH) \
	  --kernel-bench $(KERNEL_BENCH) \
	  $(if $(or $(CORPUS),$(SHARED_DIR)),--corpus $(or $(CORPUS),$(SHARED_DIR)/corpora/en1m.txt.gz)) \
	  --eval-dir $(EVAL_DIR) --out-md $(BUILD)/bench-quick.md $(BENCH_ARGS)

bench-query: all
	$(PYTHON) tools/bench/bench.py --only query --w2v-train $(BUILD)/bin/w2v-train \
	  $(if $(BENCH_CORPUS),--corpus $(BENCH_CORPUS)) --eval-dir $(EVAL_DIR) \
	  $(if $(QUERY_MODEL),--query-model $(QUERY_MODEL)) --out-md $(BUILD)/bench-query.md

check-export: all
	$(PYTHON) tools/check-export.py --bin $(BUILD)/bin $(if $(MODEL),--model $(MODEL))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include/w2v $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(TOOL_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libw2v.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libw2v.so $(DESTDIR)$(PREFIX)/lib/libw2v.so.0
	ln -sf libw2v.so.0 $(DESTDIR)$(PREFIX)/lib/libw2v.so
	install -m 644 include/w2v/*.h $(DESTDIR)$(PREFIX)/include/w2v/
	sed -e 's|@PREFIX@|$(PREFIX)|' w2v.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/w2v.pc

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%) \
	  $(DESTDIR)$(PREFIX)/lib/libw2v.a $(DESTDIR)$(PREFIX)/lib/libw2v.so \
	  $(DESTDIR)$(PREFIX)/lib/libw2v.so.0 $(DESTDIR)$(PREFIX)/lib/pkgconfig/w2v.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/w2v

# The style rules a script can check: no banned string functions.
style:
	@! grep -nE '\b(strcpy|sprintf|strcat|gets|atoi|atof)\s*\(' src/*.c tools/*.c tests/*.c tests/fuzz/*.[ch] tests/tsan/*.c include/w2v/*.h \
	  || (echo "banned function used (see above)"; exit 1)

# libFuzzer targets: the library again, built by clang with ASan + UBSan
# and coverage; one binary per tests/fuzz/fuzz_<target>.c. New inputs go
# to build-fuzz/corpus/<target> (the seeds in tests/fuzz/<target> are only
# read), crashes to build-fuzz/crashes/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -g -O1 -march=native -ffp-contract=fast -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all -std=c11 -pthread
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJ     := $(LIB_SRC:src/%.c=build-fuzz/obj/%.o)

build-fuzz/obj/%.o: src/%.c $(wildcard include/w2v/*.h src/*.h) | build-fuzz/obj
	$(FUZZ_CC) $(CPPFLAGS) -Isrc $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_file.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

build-fuzz/obj:
	mkdir -p $@

fuzz-build: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t build-fuzz/crashes; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/crashes/$$t- \
	    build-fuzz/corpus/$$t tests/fuzz/$$t 2>build-fuzz/$$t.log \
	    || { tail -40 build-fuzz/$$t.log; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|new_units_added)' build-fuzz/$$t.log; \
	done

# ThreadSanitizer over the trainer: the library built by clang with
# -fsanitize=thread and a driver (tests/tsan/tsan_train.c) that trains with
# three threads, pauses them for checkpoints, stops and resumes.
# tests/tsan.supp suppresses the one deliberate race (the Hogwild updates of
# the weights in the kernels); any other report fails the target.
TSAN_FLAGS  := -g -O1 -march=native -ffp-contract=fast -fsanitize=thread -std=c11 -pthread
TSAN_OBJ    := $(LIB_SRC:src/%.c=build-tsan/obj/%.o)

build-tsan/obj/%.o: src/%.c $(wildcard include/w2v/*.h src/*.h) | build-tsan/obj
	$(FUZZ_CC) $(CPPFLAGS) -Isrc $(TSAN_FLAGS) -c $< -o $@

build-tsan/tsan_train: tests/tsan/tsan_train.c tests/planted.c tests/planted.h $(TSAN_OBJ)
	$(FUZZ_CC) $(CPPFLAGS) -Itests $(TSAN_FLAGS) -o $@ tests/tsan/tsan_train.c tests/planted.c $(TSAN_OBJ) $(LDLIBS)

build-tsan/obj:
	mkdir -p $@

test-tsan: build-tsan/tsan_train
	TSAN_OPTIONS="suppressions=$(abspath tests/tsan.supp) halt_on_error=1 exitcode=66" \
	  build-tsan/tsan_train

clean:
	rm -rf build build-san build-fuzz build-tsan

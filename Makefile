# httptrace build. `make` builds the runnable jar (target/httptrace.jar) with the native
# shim inside; `make test` runs every test. Missing Debian packages are installed first.
#
#   bpf/httptrace.bpf.c --clang -target bpf--> build/httptrace.bpf.o
#     --bpftool gen skeleton--> build/httptrace.skel.h
#     + src/main/c/httptrace.c --cc -shared, -lbpf--> build/native/libhttptrace.so
#     --mvn package (resource native/)--> target/httptrace.jar

BUILD := build
LIB := $(BUILD)/native/libhttptrace.so
JAR := target/httptrace.jar
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# A JDK >= 22 (FFM); scripts/find-jdk explains itself when there is none.
JDK := $(shell scripts/find-jdk)
MVN = JAVA_HOME=$(JDK) mvn -B -q

# The system include paths clang would use for the host, so BPF code finds <asm/types.h>
# (the libbpf-bootstrap way). Expanded when a recipe runs, after deps are installed.
CLANG_BPF_SYS_INCLUDES = $(shell clang -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

JAVA_SOURCES := $(shell find src/main -type f -not -path 'src/main/c/*')

.PHONY: all deps native jar test fuzz clean

all: jar

deps: $(BUILD)/.deps

$(BUILD)/.deps: scripts/install-deps
	scripts/install-deps
	@mkdir -p $(BUILD) && touch $@

native: $(LIB)

$(BUILD)/httptrace.bpf.o: bpf/httptrace.bpf.c bpf/httptrace_event.h | $(BUILD)/.deps
	clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(BUILD)/httptrace.skel.h: $(BUILD)/httptrace.bpf.o
	bpftool gen skeleton $< name httptrace_bpf > $@

$(LIB): src/main/c/httptrace.c src/main/c/httptrace.h bpf/httptrace_event.h $(BUILD)/httptrace.skel.h
	@mkdir -p $(dir $@)
	cc -O2 -g -Wall -Wextra -fPIC -shared -Ibpf -I$(BUILD) -Isrc/main/c $< -lbpf -o $@

jar: $(JAR)

$(JAR): $(LIB) pom.xml $(JAVA_SOURCES) | jdk
	$(MVN) -DskipTests package

# Unit tests, then the jar, then the live tests (root + eBPF) against it.
test: $(LIB) | jdk
	$(MVN) verify

# Coverage-guided fuzzing of the HTTP parser and reassembler (make test only replays the corpus).
FUZZ_SECONDS ?= 300
fuzz: | jdk
	JAZZER_FUZZ=1 $(MVN) test -Dtest='*FuzzTest' -Djazzer.max_duration=$(FUZZ_SECONDS)s

.PHONY: jdk
jdk:
	@test -n "$(JDK)" || { echo "httptrace: no JDK >= 22 found; install one or set JAVA_HOME" >&2; exit 1; }

clean:
	rm -rf $(BUILD) target

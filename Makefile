# httptrace build. `make` builds the runnable jar (target/httptrace.jar) with the native
# shim inside; `make test` runs every test. Missing Debian packages are installed first.
#
#   bpf/httptrace.bpf.c --clang -target bpf--> build/httptrace.bpf.o
#     --bpftool gen skeleton--> build/httptrace.skel.h
#   bpf/tls.bpf.c (TLS uprobes) --> build/tls.bpf.o --> build/tls.skel.h
#     + src/main/c/{httptrace,tls,batch,signals}.c --cc -shared, -lbpf--> build/native/libhttptrace.so
#     --mvn package (resource native/)--> target/httptrace.jar
#   mvn package also writes target/doc/httptrace.adoc and httptrace.bash from the picocli
#     model (picocli-codegen) --asciidoctor--> build/httptrace.1
#
#   make install PREFIX=/usr/local DESTDIR=   launcher, jar, man page, bash/zsh completion, schema, README
#   (bin/httptrace, lib/httptrace/, share/man/man1/httptrace.1, share/bash-completion/completions/httptrace,
#   share/httptrace/httptrace-exchange-v1.schema.json, share/doc/httptrace/README.md); make uninstall removes them

BUILD := build
LIB := $(BUILD)/native/libhttptrace.so
JAR := target/httptrace.jar
MAN := $(BUILD)/httptrace.1
COMPLETION := $(BUILD)/httptrace.bash
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# A JDK >= 22 (FFM); scripts/find-jdk explains itself when there is none.
JDK := $(shell scripts/find-jdk)
JDK_MAJOR := $(shell sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' $(JDK)/release 2>/dev/null)
# Maven's own libraries use sun.misc.Unsafe; JDK 23+ warns about it on every build unless told.
MAVEN_OPTS_UNSAFE := $(if $(filter-out 22,$(JDK_MAJOR)),--sun-misc-unsafe-memory-access=allow)
# The commit the jar is built from, for --version ("-dirty": tracked files had changes).
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git rev-parse -q HEAD >/dev/null 2>&1 && ! git diff --quiet HEAD 2>/dev/null && echo -dirty)
# A new commit rebuilds the jar, so --version never names an older one.
GIT_REF := $(wildcard $(shell git rev-parse --git-path "$$(git symbolic-ref -q HEAD || echo HEAD)" 2>/dev/null))
MVN = MAVEN_OPTS="$(MAVEN_OPTS_UNSAFE) $(MAVEN_OPTS)" JAVA_HOME=$(JDK) mvn -B -q -Dhttptrace.commit=$(or $(GIT_COMMIT),unknown)

# The system include paths clang would use for the host, so BPF code finds <asm/types.h>
# (the libbpf-bootstrap way). Expanded when a recipe runs, after deps are installed.
CLANG_BPF_SYS_INCLUDES = $(shell clang -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

JAVA_SOURCES := $(shell find src/main -type f -not -path 'src/main/c/*')

.PHONY: all deps native jar doc install uninstall test fuzz bench jmh clean

all: jar doc

deps: $(BUILD)/.deps

$(BUILD)/.deps: scripts/install-deps
	scripts/install-deps
	@mkdir -p $(BUILD) && touch $@

native: $(LIB)

$(BUILD)/httptrace.bpf.o: bpf/httptrace.bpf.c bpf/httptrace_event.h | $(BUILD)/.deps
	clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(BUILD)/httptrace.skel.h: $(BUILD)/httptrace.bpf.o
	bpftool gen skeleton $< name httptrace_bpf > $@

# The TLS uprobes: a program of their own, with their own skeleton (bpf/tls.bpf.c).
$(BUILD)/tls.bpf.o: bpf/tls.bpf.c bpf/tls_event.h | $(BUILD)/.deps
	clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf $(CLANG_BPF_SYS_INCLUDES) -c $< -o $@

$(BUILD)/tls.skel.h: $(BUILD)/tls.bpf.o
	bpftool gen skeleton $< name tls_bpf > $@

NATIVE_SOURCES := src/main/c/httptrace.c src/main/c/tls.c src/main/c/batch.c src/main/c/signals.c

$(LIB): $(NATIVE_SOURCES) src/main/c/httptrace.h src/main/c/tls.h src/main/c/batch.h src/main/c/signals.h bpf/httptrace_event.h bpf/tls_event.h \
		$(BUILD)/httptrace.skel.h $(BUILD)/tls.skel.h
	@mkdir -p $(dir $@)
	cc -O2 -g -Wall -Wextra -fPIC -shared -Ibpf -I$(BUILD) -Isrc/main/c $(NATIVE_SOURCES) -lbpf -o $@

jar: $(JAR)

$(JAR): $(LIB) pom.xml $(JAVA_SOURCES) $(GIT_REF)
	$(JDK_CHECK)
	$(MVN) -DskipTests package

# The man page and completion script come out of the same 'mvn package' as the jar; the
# completion gets what picocli's model cannot say (file names, interfaces, users) appended.
target/doc/httptrace.bash target/doc/httptrace.adoc: $(JAR)

$(COMPLETION): target/doc/httptrace.bash src/main/completion/httptrace-extra.bash
	cat $^ > $@

doc: $(MAN) $(COMPLETION)

# The footer's left part is "httptrace VERSION" alone: with the commit too it ran into the date.
VERSION := $(shell sed -n '0,/^  <version>/s|^  <version>\(.*\)</version>|\1|p' pom.xml)
$(MAN): target/doc/httptrace.adoc
	asciidoctor -b manpage -a mansource="httptrace $(VERSION)" -a manmanual="httptrace manual" -o $@ $<

# Installed, the launcher finds the jar in ../lib/httptrace beside it and never builds.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(DESTDIR)$(PREFIX)/bin
LIBDIR := $(DESTDIR)$(PREFIX)/lib/httptrace
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHCOMPDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
SHAREDIR := $(DESTDIR)$(PREFIX)/share/httptrace
DOCDIR := $(DESTDIR)$(PREFIX)/share/doc/httptrace
SCHEMA := src/main/resources/schema/httptrace-exchange-v1.schema.json

install: $(JAR) $(MAN) $(COMPLETION)
	install -d $(BINDIR) $(LIBDIR) $(MANDIR) $(BASHCOMPDIR) $(SHAREDIR) $(DOCDIR)
	install -m 755 httptrace $(BINDIR)/httptrace
	install -m 644 $(JAR) $(LIBDIR)/httptrace.jar
	install -m 755 scripts/find-jdk $(LIBDIR)/find-jdk
	install -m 644 $(MAN) $(MANDIR)/httptrace.1
	# picocli's script serves bash, and zsh when sourced (it turns on bashcompinit itself).
	install -m 644 $(COMPLETION) $(BASHCOMPDIR)/httptrace
	# What --help and the man page point to: the record's JSON Schema and the README.
	install -m 644 $(SCHEMA) $(SHAREDIR)/httptrace-exchange-v1.schema.json
	install -m 644 README.md $(DOCDIR)/README.md

# Removes exactly what install put there (same PREFIX and DESTDIR), and the directories of its own.
uninstall:
	rm -f $(BINDIR)/httptrace $(LIBDIR)/httptrace.jar $(LIBDIR)/find-jdk $(MANDIR)/httptrace.1 \
		$(BASHCOMPDIR)/httptrace $(SHAREDIR)/httptrace-exchange-v1.schema.json $(DOCDIR)/README.md
	-rmdir $(LIBDIR) $(SHAREDIR) $(DOCDIR) 2>/dev/null

# Unit tests (the fuzz tests replay their corpus), then the jar, then the live tests
# (root + eBPF) against it, then a short coverage-guided fuzzing run of each fuzz test.
# scripts/test-summary fails the run when there are no reports, and in CI (CI set, as
# .ci/run does) when a test was skipped or no live test ran.
test: $(LIB)
	$(JDK_CHECK)
	rm -rf target/surefire-reports target/failsafe-reports
	$(MVN) verify
	scripts/test-summary > $(BUILD)/test-summary.txt || { cat $(BUILD)/test-summary.txt; exit 1; }
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	@cat $(BUILD)/test-summary.txt

# Coverage-guided fuzzing of the HTTP/1 parser and reassembler, the HPACK decoder, the HTTP/2
# frame reader and streams, and of the capture file reader,
# FUZZ_SECONDS per fuzz test.
FUZZ_TESTS := Http1FuzzTest\#conversation Http1FuzzTest\#headParser PcapReaderFuzzTest\#read HpackDecoderFuzzTest\#decode \
	Http2FuzzTest\#connection
FUZZ_SECONDS ?= 300
TEST_FUZZ_SECONDS ?= 20
fuzz:
	$(JDK_CHECK)
	@for t in $(FUZZ_TESTS); do \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
		JAZZER_FUZZ=1 JAZZER_MAX_DURATION=$(FUZZ_SECONDS)s $(MVN) test -Dtest="$$t" \
			-Dsurefire.failIfNoSpecifiedTests=false > $(BUILD)/fuzz.log 2>&1 \
			|| { tail -n 60 $(BUILD)/fuzz.log; echo "fuzzing $$t found a failure (see above)"; exit 1; }; \
		grep -E '^Done [1-9][0-9]* runs' $(BUILD)/fuzz.log \
			|| { tail -n 60 $(BUILD)/fuzz.log; echo "fuzzing $$t did not fuzz: no 'Done N runs' line from Jazzer (regression mode only?)"; exit 1; }; \
	done

# In the recipes that need a JDK (not a phony prerequisite: 'make -q jar' must be able to say "up to date").
JDK_CHECK = @test -n "$(JDK)" || { echo "httptrace: no JDK >= 22 found; install one or set JAVA_HOME" >&2; exit 1; }

# What tracing costs a loaded nginx on loopback, next to tcpdump, httpry and tshark (as root;
# HTTP/1 with wrk, HTTPS, HTTP/2 with h2load: h2c and h2tls; BENCH_SCENARIOS, BENCH_ROUNDS,
# BENCH_SECONDS, BENCH_SOAK, HTTPTRACE_DIR: see BENCHMARKS.md).
bench:
	scripts/bench

# JMH microbenchmarks (src/jmh/java, Maven profile jmh): head parser, reassembly + pairing,
# JSON writer; exchanges/s and bytes allocated per exchange (gc.alloc.rate.norm). Short by
# default; longer: make jmh JMH_ARGS='-f 3 -wi 5 -w 5s -i 10 -r 5s -prof gc'. Pick
# benchmarks with JMH_BENCHMARKS=HeadParser (a regular expression).
JMH_ARGS ?= -f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc
JMH_BENCHMARKS ?=
jmh:
	$(JDK_CHECK)
	JAVA_HOME=$(JDK) mvn -B -q -Pjmh -DskipTests test-compile \
		org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
		-Dmdep.includeScope=test -Dmdep.outputFile=$(CURDIR)/$(BUILD)/jmh.classpath
	flock /tmp/httptrace-bench.lock $(JDK)/bin/java \
		-cp target/test-classes:target/classes:$$(cat $(BUILD)/jmh.classpath) \
		org.openjdk.jmh.Main $(JMH_ARGS) $(JMH_BENCHMARKS)

clean:
	rm -rf $(BUILD) target

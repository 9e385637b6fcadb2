# virt-omem: TAP shell tests of the command line against libvirt's test
# driver (cli/*.sh, no daemon needed; cli/virsh.sh, the virsh integration,
# also defines a domain on qemu:///system when libvirtd answers), unit
# tests of its number parsers and of its omemd status client, the size
# parser's fuzz target with its saved corpus, and the real-guest contract
# scenario.  Included by tests/Makefile.am.

VIRT_OMEM_DIR = $(top_srcdir)/libvirt-driver/virt-omem
LIBOMEMCLI = $(top_builddir)/libvirt-driver/virt-omem/libomem-cli.la
SIZE_CORPUS = fuzz/corpus/size

CLI_SHELL_TESTS = cli/usage.sh cli/bad-input.sh cli/convert.sh cli/test-driver.sh cli/virsh.sh
LIBOMEMSIZE = $(top_builddir)/libvirt-driver/libomem-size.la
TESTS += $(CLI_SHELL_TESTS) cli/test-virt-omem-parse cli/test-status unit/test-omem-size \
	fuzz/fuzz-size-replay fuzz/fuzz-status-replay
check_PROGRAMS += cli/test-virt-omem-parse cli/test-status cli/convert-ref unit/test-omem-size \
	fuzz/fuzz-size-replay fuzz/fuzz-status-replay

cli_test_virt_omem_parse_SOURCES = cli/test-virt-omem-parse.c
cli_test_virt_omem_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(VIRT_OMEM_DIR)
cli_test_virt_omem_parse_LDADD = $(LIBOMEMCLI)

# omem's one size grammar (libvirt-driver/omem-size.c), which virt-omem,
# omemd.conf and the domain XML reader share.
unit_test_omem_size_SOURCES = unit/test-omem-size.c
unit_test_omem_size_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver
unit_test_omem_size_LDADD = $(LIBOMEMSIZE)

cli_test_status_SOURCES = cli/test-status.c
cli_test_status_CPPFLAGS = $(AM_CPPFLAGS) -I$(VIRT_OMEM_DIR) \
	-DSTATUS_SAMPLE='"$(abs_srcdir)/cli/status.json"'
cli_test_status_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
cli_test_status_LDADD = $(LIBOMEMCLI) $(JSON_GLIB_LIBS) $(GLIB_LIBS)

# omem_transform_convert called directly: cli/convert.sh compares the CLI's
# output with it.
cli_convert_ref_SOURCES = cli/convert-ref.c
cli_convert_ref_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver
cli_convert_ref_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS)
cli_convert_ref_LDADD = $(top_builddir)/libvirt-driver/libomem-virt.la $(GLIB_LIBS)

# The size grammar's and virt-omem's number parsers' fuzz target replayed
# over its saved corpus, as rpc.mk does for fuzz-rpc (docs/fuzzing.md).
fuzz_fuzz_size_replay_SOURCES = fuzz/replay.c fuzz/fuzz-size.c
fuzz_fuzz_size_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(VIRT_OMEM_DIR) -I$(top_srcdir)/libvirt-driver \
	-DCORPUS_DIR='"$(abs_srcdir)/$(SIZE_CORPUS)"'
fuzz_fuzz_size_replay_LDADD = $(LIBOMEMCLI) $(LIBOMEMSIZE)

# The reader of omemd's status document, likewise.
STATUS_CORPUS = fuzz/corpus/status
fuzz_fuzz_status_replay_SOURCES = fuzz/replay.c fuzz/fuzz-status.c
fuzz_fuzz_status_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(VIRT_OMEM_DIR) \
	-DCORPUS_DIR='"$(abs_srcdir)/$(STATUS_CORPUS)"'
fuzz_fuzz_status_replay_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
fuzz_fuzz_status_replay_LDADD = $(LIBOMEMCLI) $(JSON_GLIB_LIBS) $(GLIB_LIBS)

EXTRA_DIST += $(CLI_SHELL_TESTS) cli/lib.sh lib/tap.sh lib/virt-omem.sh cli/node.xml cli/plain-domain.xml cli/status.json \
	$(SIZE_CORPUS) $(STATUS_CORPUS)

# The real-guest scenario: convert, define, start, change the live contract.
EXTRA_DIST += e2e/contract.sh
if GUEST_TESTS
TESTS += e2e/contract.sh
endif

if ENABLE_FUZZING
SIZE_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-size.c $(VIRT_OMEM_DIR)/virt-omem-parse.c \
	$(top_srcdir)/libvirt-driver/omem-size.c $(top_srcdir)/libvirt-driver/omem-number.c

fuzz/fuzz-size: $(SIZE_FUZZ_INPUTS) $(VIRT_OMEM_DIR)/virt-omem-parse.h $(top_srcdir)/libvirt-driver/omem-size.h
	$(AM_V_CCLD)$(FUZZ_LINK) -I$(VIRT_OMEM_DIR) -I$(top_srcdir)/libvirt-driver -o $@ $(SIZE_FUZZ_INPUTS)

CLEANFILES += fuzz/fuzz-size

STATUS_FUZZ_INPUTS = $(srcdir)/fuzz/fuzz-status.c $(VIRT_OMEM_DIR)/virt-omem-status.c

fuzz/fuzz-status: $(STATUS_FUZZ_INPUTS) $(VIRT_OMEM_DIR)/virt-omem-status.h
	$(AM_V_CCLD)$(FUZZ_LINK) -I$(VIRT_OMEM_DIR) $(GLIB_CFLAGS) $(JSON_GLIB_CFLAGS) \
		-o $@ $(STATUS_FUZZ_INPUTS) $(JSON_GLIB_LIBS) $(GLIB_LIBS)

CLEANFILES += fuzz/fuzz-status
endif

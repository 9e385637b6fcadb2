# libomem-virt's core: the contract, domain XML reading, live resize and
# events (omem-contract*.c, omem-domain-xml.c, omem-xml.c, omem-live.c,
# omem-event.c), the size grammar (omem-size.c), its installed headers,
# pkg-config file, symbol version script and RelaxNG schema.  Included by
# libvirt-driver/Makefile.am; the domain transform is transform.mk's.

libomem_virt_la_SOURCES += \
	omem-xml.c \
	omem-domain-xml.c \
	omem-contract.c \
	omem-contract-libvirt.c \
	omem-live.c \
	omem-event.c

# The size grammar (omem-size.h) and the number pieces every strict
# parser shares (omem-number.h), pure C: linked into libomem-virt, into
# virt-omem's parsers and, without libvirt, by host-server's formats/
# (omemd.conf).
noinst_LTLIBRARIES += libomem-size.la
libomem_size_la_SOURCES = omem-size.c omem-size.h omem-number.c omem-number.h
libomem_virt_la_LIBADD += libomem-size.la

# libtool's current:revision:age.  Add an interface: current+1, revision 0,
# age+1.  Change or remove one: current+1, revision 0, age 0.  Same
# interface, new code: revision+1.
OMEM_VIRT_VERSION_INFO = 3:0:0

# Only the public omem_* functions are exported, under version nodes;
# the internals (omem_error_set, omem_xml_*, ...) stay local.
OMEM_VIRT_SYMS = $(srcdir)/libomem-virt.syms
libomem_virt_la_LDFLAGS += -version-info $(OMEM_VIRT_VERSION_INFO) -no-undefined \
	-Wl,--version-script=$(OMEM_VIRT_SYMS)
EXTRA_libomem_virt_la_DEPENDENCIES = $(OMEM_VIRT_SYMS)
EXTRA_DIST += libomem-virt.syms

# The same objects as one static convenience library, internals visible,
# for the unit tests, the fuzz replay and virt-omem.
noinst_LTLIBRARIES += libomem-virt-internal.la
libomem_virt_internal_la_SOURCES = $(libomem_virt_la_SOURCES)
libomem_virt_internal_la_LIBADD = $(libomem_virt_la_LIBADD)

# Installed as <omem/omem-virt.h>, beside the wire header include/omem/rpc.h.
omemvirtincludedir = $(includedir)/omem
omemvirtinclude_HEADERS = omem-virt.h omem-size.h

# pkg-config file, written from omem-virt.pc.in by make (no configure
# change): the installation directories are only final at make time.
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = omem-virt.pc
omem-virt.pc: $(srcdir)/omem-virt.pc.in Makefile
	$(AM_V_GEN)$(SED) \
		-e 's|@prefix[@]|$(prefix)|g' \
		-e 's|@exec_prefix[@]|$(exec_prefix)|g' \
		-e 's|@libdir[@]|$(libdir)|g' \
		-e 's|@includedir[@]|$(includedir)|g' \
		-e 's|@VERSION[@]|$(VERSION)|g' \
		$(srcdir)/omem-virt.pc.in > $@.tmp && mv $@.tmp $@
EXTRA_DIST += omem-virt.pc.in
CLEANFILES += omem-virt.pc

# RelaxNG of the contract metadata element (docs/contract.md).
omemschemadir = $(datadir)/omem/schemas
dist_omemschema_DATA = schema/omem-contract.rng

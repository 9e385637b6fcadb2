# virt-omem, the command line of omem (virt-omem/: one file per subcommand,
# dispatched from virt-omem.c), its man page and bash completion.
# Included by libvirt-driver/Makefile.am.  The program is built as
# virt-omem/virt-omem (a file cannot share the folder's name) and
# installed as $(bindir)/virt-omem.

# The CLI's pure helpers (number parsing, omemd's status client, tables),
# a convenience library so the unit tests and the fuzz replay under
# tests/ link exactly what virt-omem runs.
noinst_LTLIBRARIES += virt-omem/libomem-cli.la
virt_omem_libomem_cli_la_SOURCES = \
	virt-omem/virt-omem-parse.c virt-omem/virt-omem-parse.h \
	virt-omem/virt-omem-status.c virt-omem/virt-omem-status.h \
	virt-omem/virt-omem-table.c virt-omem/virt-omem-table.h
virt_omem_libomem_cli_la_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
virt_omem_libomem_cli_la_LIBADD = libomem-size.la $(JSON_GLIB_LIBS) $(GLIB_LIBS)

bin_PROGRAMS += virt-omem/virt-omem
virt_omem_virt_omem_SOURCES = \
	virt-omem/virt-omem.c virt-omem/virt-omem.h \
	virt-omem/virt-omem-util.c \
	virt-omem/virt-omem-view.c virt-omem/virt-omem-view.h \
	virt-omem/cmd-convert.c \
	virt-omem/cmd-define.c \
	virt-omem/cmd-revert.c \
	virt-omem/cmd-setmem.c \
	virt-omem/virt-omem-maintenance.c virt-omem/virt-omem-maintenance.h \
	virt-omem/cmd-freeze.c \
	virt-omem/cmd-thaw.c \
	virt-omem/cmd-drain.c \
	virt-omem/cmd-undrain.c \
	virt-omem/cmd-dommemstat.c \
	virt-omem/cmd-list.c \
	virt-omem/cmd-top.c
virt_omem_virt_omem_CFLAGS = $(AM_CFLAGS) $(JSON_GLIB_CFLAGS)
virt_omem_virt_omem_LDADD = libomem-virt.la virt-omem/libomem-cli.la \
	$(JSON_GLIB_LIBS) $(GLIB_LIBS) $(LIBVIRT_LIBS)

dist_man_MANS += virt-omem.1

# bash-completion loads a command's completion from a file named after the
# command, so the source file is copied under that name at build time.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = virt-omem/completion/virt-omem
virt-omem/completion/virt-omem: $(srcdir)/virt-omem.bash-completion
	$(AM_V_GEN)$(MKDIR_P) virt-omem/completion && \
		cp $(srcdir)/virt-omem.bash-completion $@
EXTRA_DIST += virt-omem.bash-completion
CLEANFILES += virt-omem/completion/virt-omem

# The opt-in virsh integration (virsh/omem-virsh.sh): a `virsh` shell
# function and completion for `virsh setmem-outsourced` and `virsh
# dommemstat-outsourced`.  Installed as data, not into /etc/profile.d: an
# operator (or the system's bash.bashrc) sources it to opt in.
omemvirshdir = $(pkgdatadir)
dist_omemvirsh_DATA = virsh/omem-virsh.sh

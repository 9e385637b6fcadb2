# hook/: libvirt's qemu hook for admission control (docs/admission.md): it
# reads the starting domain's XML, asks omemd over the admission socket in
# the line format of formats/admission.c, and answers libvirt.  Installed
# as omem-qemu-hook in $(libexecdir), for wrappers, and as the hook
# libvirt runs, 50-omem in qemu.d/, where automake cannot rename a program
# by itself.  Included by host-server/Makefile.am.
libexec_PROGRAMS += omem-qemu-hook
omem_qemu_hook_SOURCES = hook/omem-qemu-hook.c
omem_qemu_hook_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/libvirt-driver
omem_qemu_hook_CFLAGS = $(AM_CFLAGS) $(LIBVIRT_CFLAGS)
omem_qemu_hook_LDADD = formats/libomem-formats.la \
	$(top_builddir)/libvirt-driver/libomem-virt-internal.la \
	$(JSON_GLIB_LIBS) $(GLIB_LIBS) $(LIBVIRT_LIBS)

qemuhookdir = $(sysconfdir)/libvirt/hooks/qemu.d
install-exec-hook:
	$(MKDIR_P) '$(DESTDIR)$(qemuhookdir)'
	$(LIBTOOL) --mode=install $(INSTALL_PROGRAM) -m 0755 omem-qemu-hook$(EXEEXT) \
		'$(DESTDIR)$(qemuhookdir)/50-omem'
uninstall-hook:
	rm -f '$(DESTDIR)$(qemuhookdir)/50-omem'

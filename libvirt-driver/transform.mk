# The domain transform (docs/transform.md): ordinary domain XML to omem
# domain XML and back.  Included by libvirt-driver/Makefile.am.

libomem_virt_la_SOURCES += \
	omem-transform.c \
	omem-transform-check.c \
	omem-transform-memory.c \
	omem-transform-devices.c \
	omem-transform-xml.c

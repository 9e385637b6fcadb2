# SPDX-License-Identifier: GPL-2.0-only
# omem_client.ko's source files, listed once: Kbuild builds the module
# from them and Makefile.am copies, ships and installs them (it includes
# this file).  Plain make variables only, so both can read it.

# The module proper.
omem_client_sources = omem_module.c omem_transport.c omem_session.c omem_wire.c \
	omem_debugfs.c omem_policy.c omem_reserve.c omem_decide.c omem_thp.c
# Built only with OMEM_FAULT_INJECTION=y (configure --enable-fault-injection).
omem_client_fault_injection_sources = omem_inject.c
omem_client_headers = omem_client.h omem_decide.h omem_wire.h

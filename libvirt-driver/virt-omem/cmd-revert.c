/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-revert.c: "virt-omem revert DOMAIN": turn an omem domain's
 * persistent definition back into an ordinary one (omem_transform_revert)
 * and define it.  A running domain keeps its omem shape until its next
 * boot, as with any change to a definition.
 */
#include "config.h"

#include <stdlib.h>

#include "virt-omem.h"

static int virt_omem_revert_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	g_autoptr(virConnect) conn = NULL;
	g_autoptr(virDomain) domain = NULL;
	g_autoptr(virDomain) defined = NULL;
	g_autofree char *inactive = NULL;
	char *reverted = NULL;
	g_autoptr(OmemContract) contract = NULL;
	int c, status, active;

	while ((c = virt_omem_getopt(&virt_omem_command_revert, argc, argv, ":h", options)) != -1) {
		if (c != 'h')
			return VIRT_OMEM_EXIT_USAGE;
		virt_omem_command_print_help(&virt_omem_command_revert, stdout);
		return VIRT_OMEM_EXIT_OK;
	}
	if (virt_omem_positional(&virt_omem_command_revert, argc, argv, 1, 1, "a DOMAIN") < 0)
		return VIRT_OMEM_EXIT_USAGE;

	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	domain = virt_omem_lookup_domain(conn, argv[optind], &status);
	if (!domain)
		return status;
	if (virDomainIsPersistent(domain) != 1)
		return virt_omem_fail(VIRT_OMEM_EXIT_USAGE,
				      "domain '%s' is transient: there is no definition to revert",
				      virDomainGetName(domain));
	/* SECURE keeps passwords (e.g. VNC) in the redefined XML, as virsh edit. */
	inactive = virDomainGetXMLDesc(domain, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
	if (!inactive)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot read the definition of '%s': %s",
				      virDomainGetName(domain), virt_omem_libvirt_message());
	if (omem_contract_from_domain_xml(inactive, &contract) < 0 ||
	    omem_transform_revert(inactive, &reverted) < 0)
		return virt_omem_fail(virt_omem_exit_for_library_error(), "domain '%s': %s",
				      virDomainGetName(domain), omem_error_last_message());
	defined = virDomainDefineXML(conn, reverted);
	free(reverted);
	if (!defined)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot define the reverted '%s': %s",
				      virDomainGetName(domain), virt_omem_libvirt_message());

	active = virDomainIsActive(defined);
	printf("Domain '%s' reverted to an ordinary domain (memory %s)%s\n",
	       virDomainGetName(defined), virt_omem_size(omem_contract_get_max(contract)),
	       active == 1 ? "; it is running: the change applies at its next boot" : "");
	return VIRT_OMEM_EXIT_OK;
}

const VirtOmemCommand virt_omem_command_revert = {
	.name = "revert",
	.run = virt_omem_revert_run,
	.synopsis = "DOMAIN",
	.summary = "turn an omem domain's definition back into an ordinary domain",
	.help = "  -h, --help        this help\n",
};

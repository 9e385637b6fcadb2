/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-define.c: "virt-omem define FILE [options]": convert a domain XML
 * (as convert does) and define the result with virDomainDefineXML.  The
 * XML is converted completely before libvirt is asked, so bad input
 * changes nothing.
 */
#include "config.h"

#include "virt-omem.h"

static int virt_omem_define_run(const VirtOmemGlobal *global, int argc, char **argv)
{
	g_autoptr(virConnect) conn = NULL;
	g_autoptr(virDomain) domain = NULL;
	g_autoptr(OmemContract) contract = NULL;
	g_autofree char *xml = NULL;
	VirtOmemConvertArgs args;
	int status;

	status = virt_omem_convert_parse_args(&virt_omem_command_define, argc, argv, true, &args);
	if (status != VIRT_OMEM_EXIT_OK)
		return status < 0 ? VIRT_OMEM_EXIT_OK : status;
	status = virt_omem_convert_input(&args, &xml);
	if (status != VIRT_OMEM_EXIT_OK)
		return status;
	if (omem_contract_from_domain_xml(xml, &contract) < 0)
		return virt_omem_fail_library();

	conn = virt_omem_connect(global);
	if (!conn)
		return VIRT_OMEM_EXIT_FAILED;
	domain = virDomainDefineXML(conn, xml);
	if (!domain)
		return virt_omem_fail(VIRT_OMEM_EXIT_FAILED, "cannot define the domain of %s: %s",
				      args.file, virt_omem_libvirt_message());
	printf("Domain '%s' defined as an omem domain (boot %s, min %s, max %s)\n",
	       virDomainGetName(domain), virt_omem_size(omem_contract_get_boot(contract)),
	       virt_omem_size(omem_contract_get_min(contract)),
	       virt_omem_size(omem_contract_get_max(contract)));
	return VIRT_OMEM_EXIT_OK;
}

const VirtOmemCommand virt_omem_command_define = {
	.name = "define",
	.run = virt_omem_define_run,
	.synopsis = "FILE|- [--boot SIZE] [--min SIZE] [--max SIZE] [--cap SIZE] [--shares N] [--buffer PERCENT]",
	.summary = "convert a domain XML into an omem domain and define it in libvirt",
	.help = "  --boot, --min, --max, --shares, --buffer: as for convert\n"
		"  -h, --help        this help\n",
};

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the domain transform: arbitrary bytes as domain XML
 * to omem_transform_convert and omem_transform_revert.  Either may refuse;
 * neither may crash, leak or hang.  The oracle (abort() is the fuzzer's
 * way of reporting, nothing else here may abort): what converts must
 * convert to itself again, and revert must accept it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omem-virt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml = malloc(size + 1);
	char *converted = NULL, *again = NULL, *reverted = NULL;

	if (!xml)
		return 0;
	memcpy(xml, data, size);
	xml[size] = '\0';

	if (omem_transform_revert(xml, &reverted) == 0)
		free(reverted);
	reverted = NULL;
	if (omem_transform_convert(xml, NULL, &converted) == 0) {
		if (omem_transform_convert(converted, NULL, &again) < 0 || strcmp(again, converted))
			abort();
		if (omem_transform_revert(converted, &reverted) < 0)
			abort();
	}
	free(reverted);
	free(again);
	free(converted);
	free(xml);
	omem_error_reset();
	return 0;
}

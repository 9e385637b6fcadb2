/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the omemd.conf reader
 * (host-server/formats/omemd-config.c): each input is handed, exactly as
 * long as it is, to omemd_config_load_data on top of the defaults.  The
 * file is the operator's, not a guest's, but a typo in it must give one
 * error and leave the running config alone.  The oracle aborts when
 *   - a refusal comes without a G_KEY_FILE_ERROR whose message is one
 *     line of valid UTF-8, or changes any byte of the config it was
 *     applied to;
 *   - an accepted file is refused when applied once more on its own
 *     result (the reader must be deterministic and idempotent).
 * ASan and UBSan catch reads past the buffer (it has no NUL) and overflow.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/omemd-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	OmemdConfig config, before;
	g_autoptr(GError) error = NULL;
	g_autofree char *copy = g_malloc(size ? size : 1);

	memcpy(copy, data, size);
	omemd_config_init(&config);
	/* A shallow copy, padding and string pointers included: a refusal
	 * leaves every byte of the config as it was. */
	memcpy(&before, &config, sizeof(before));
	if (!omemd_config_load_data(&config, copy, size, "fuzz.conf", &error)) {
		if (!error || error->domain != G_KEY_FILE_ERROR || !error->message[0] ||
		    strchr(error->message, '\n') || !g_utf8_validate(error->message, -1, NULL))
			abort();
		if (memcmp(&config, &before, sizeof(config)) != 0)
			abort();
	} else {
		if (error)
			abort();
		if (!omemd_config_load_data(&config, copy, size, "fuzz.conf", &error))
			abort();
	}
	omemd_config_clear(&config);
	return 0;
}

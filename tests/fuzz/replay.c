/* SPDX-License-Identifier: MIT */
/*
 * Replays a saved fuzz corpus through LLVMFuzzerTestOneInput without
 * libFuzzer, so make check runs every saved input with the ordinary
 * compiler.  One TAP line per file; a crash or abort fails the test.
 * Usage: replay [CORPUS_DIR]   (default: the path compiled in)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CORPUS_DIR
#error "build with -DCORPUS_DIR='\"path\"'"
#endif

/* Inputs larger than this are refused rather than replayed: corpora hold
 * small files (docs/fuzzing.md). */
#define REPLAY_MAX_INPUT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skip ".", "..", dotfiles and libFuzzer's leftovers. */
static int replay_wanted(const struct dirent *entry)
{
	return entry->d_name[0] != '.';
}

/* Read a whole file into a fresh buffer; returns its size or -errno. */
static long replay_read(const char *path, uint8_t **ret_data)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	size_t n;

	if (!f)
		return -errno;
	data = malloc(REPLAY_MAX_INPUT + 1);
	if (!data) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(data, 1, REPLAY_MAX_INPUT + 1, f);
	if (ferror(f) || n > REPLAY_MAX_INPUT) {
		free(data);
		fclose(f);
		return n > REPLAY_MAX_INPUT ? -EFBIG : -EIO;
	}
	fclose(f);
	*ret_data = data;
	return (long)n;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : CORPUS_DIR;
	struct dirent **entries;
	int n, i, failed = 0;

	n = scandir(dir, &entries, replay_wanted, alphasort);
	if (n < 0) {
		printf("Bail out! cannot list corpus %s: %s\n", dir, strerror(errno));
		return EXIT_FAILURE;
	}
	if (n == 0) {
		printf("Bail out! corpus %s is empty\n", dir);
		free(entries);
		return EXIT_FAILURE;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		uint8_t *data = NULL;
		long size;

		snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
		size = replay_read(path, &data);
		if (size < 0) {
			printf("not ok %d - %s: %s\n", i + 1, entries[i]->d_name, strerror((int)-size));
			failed++;
		} else {
			LLVMFuzzerTestOneInput(data, (size_t)size);
			printf("ok %d - %s (%ld bytes)\n", i + 1, entries[i]->d_name, size);
			free(data);
		}
		fflush(stdout);
		free(entries[i]);
	}
	free(entries);
	printf("1..%d\n", n);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

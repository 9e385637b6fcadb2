/*
 * memload: a memory workload for the omem test guest.
 *
 * Grows to --size in --step increments every --interval, touching every
 * page so the guest really uses the memory; holds it; then frees it in
 * steps.  Tests use it to make a guest need memory (so omem plugs more)
 * and to give memory back (so omem can unplug).  Built static: the guest
 * is a busybox initramfs with no C library.
 *
 *   memload --size 1024M --step 64M --interval 200ms --hold 30s --mode anon
 *
 * The hold ends at the first of: --hold elapsed, SIGUSR1, or the
 * --release-file appearing.  SIGTERM or SIGINT at any time frees
 * everything at once and exits 0.  Progress goes to stdout, one line per
 * step ("memload: held 128 MiB"), flushed at once so a serial console
 * shows it live.
 *
 * Exit status: 0 done, 1 runtime failure (allocation failed), 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEMLOAD_KIB (UINT64_C(1) << 10)
#define MEMLOAD_MIB (UINT64_C(1) << 20)
#define MEMLOAD_GIB (UINT64_C(1) << 30)
#define MEMLOAD_TIB (UINT64_C(1) << 40)

/* Far beyond any test guest, small enough that size arithmetic never
 * overflows and a typo (1024G for 1024M) is refused, not attempted. */
#define MEMLOAD_SIZE_MAX MEMLOAD_TIB

/* A week: longer than any test, short enough that nanoseconds fit. */
#define MEMLOAD_DURATION_MAX_MS (UINT64_C(7) * 24 * 3600 * 1000)

/* How often the hold phase looks for --release-file. */
#define MEMLOAD_POLL_MS 100

/* Size of the buffer written into the tmpfs file per write() call. */
#define MEMLOAD_WRITE_CHUNK MEMLOAD_MIB

enum memload_mode {
	MEMLOAD_MODE_ANON,   /* private anonymous memory */
	MEMLOAD_MODE_TMPFS,  /* a file in a tmpfs (shmem, not anonymous) */
};

struct memload_options {
	uint64_t size;            /* bytes to hold at the peak */
	uint64_t step;            /* bytes added per growth step */
	uint64_t interval_ms;     /* pause between growth steps */
	uint64_t free_step;       /* bytes released per release step */
	uint64_t free_interval_ms; /* pause between release steps */
	uint64_t hold_ms;         /* how long to hold the peak */
	bool hold_forever;        /* hold until SIGUSR1 or --release-file */
	const char *release_file; /* hold ends when this path exists */
	enum memload_mode mode;
	const char *path;         /* tmpfs mode: file to fill */
	bool best_effort;         /* on allocation failure, hold what we got */
};

/* What the program holds now; both modes grow and shrink at the top. */
struct memload_state {
	const struct memload_options *options;
	uint64_t held;            /* bytes touched and held */
	unsigned char *region;    /* anon mode: reserved, size bytes */
	int fd;                   /* tmpfs mode: the file, or -1 */
	char *path;               /* tmpfs mode: path to unlink at exit */
};

static volatile sig_atomic_t memload_release_requested; /* SIGUSR1 */
static volatile sig_atomic_t memload_stop_requested;    /* SIGTERM, SIGINT */

static void memload_on_signal(int signo)
{
	if (signo == SIGUSR1)
		memload_release_requested = 1;
	else
		memload_stop_requested = 1;
}

static void memload_usage(FILE *out)
{
	fprintf(out,
		"usage: memload --size SIZE [--step SIZE] [--interval DURATION]\n"
		"               [--hold DURATION|forever] [--release-file PATH]\n"
		"               [--free-step SIZE] [--free-interval DURATION]\n"
		"               [--mode anon|tmpfs] [--path FILE] [--best-effort]\n"
		"SIZE: an integer with a unit: B, K, KiB, M, MiB, G, GiB, T, TiB\n"
		"      (1 <= SIZE <= 1 TiB), e.g. 64M, 1GiB\n"
		"DURATION: an integer with a unit: ms, s, m, h (plain number: seconds)\n"
		"The hold ends after --hold, on SIGUSR1, or when --release-file exists;\n"
		"SIGTERM frees everything at once.  Defaults: --step SIZE (one step),\n"
		"--interval 0, --hold 0, --free-step and --free-interval as growth,\n"
		"--mode anon, --path /tmp/memload.PID in tmpfs mode.\n");
}

/* Splits "123abc" into the number 123 and the suffix "abc"; -EINVAL
 * unless TEXT is one or more decimal digits followed by the suffix,
 * -ERANGE if the number does not fit. */
static int memload_parse_number(const char *text, uint64_t *ret_number, const char **ret_suffix)
{
	uint64_t number = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (number > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		number = number * 10 + digit;
	}
	*ret_number = number;
	*ret_suffix = p;
	return 0;
}

/* Parses a size such as "64M" or "1GiB" into bytes; 0 or negative errno. */
static int memload_parse_size(const char *text, uint64_t *ret_bytes)
{
	static const struct {
		const char *suffix;
		uint64_t multiplier;
	} units[] = {
		{ "B", 1 },
		{ "K", MEMLOAD_KIB }, { "KiB", MEMLOAD_KIB },
		{ "M", MEMLOAD_MIB }, { "MiB", MEMLOAD_MIB },
		{ "G", MEMLOAD_GIB }, { "GiB", MEMLOAD_GIB },
		{ "T", MEMLOAD_TIB }, { "TiB", MEMLOAD_TIB },
	};
	const char *suffix;
	uint64_t number;
	int r;

	r = memload_parse_number(text, &number, &suffix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(suffix, units[i].suffix) != 0)
			continue;
		if (number > MEMLOAD_SIZE_MAX / units[i].multiplier)
			return -ERANGE;
		number *= units[i].multiplier;
		if (number == 0)
			return -ERANGE;
		*ret_bytes = number;
		return 0;
	}
	return -EINVAL;
}

/* Parses a duration such as "200ms" or "30s" into milliseconds. */
static int memload_parse_duration(const char *text, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		uint64_t multiplier;
	} units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
	};
	const char *suffix;
	uint64_t number;
	int r;

	r = memload_parse_number(text, &number, &suffix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(suffix, units[i].suffix) != 0)
			continue;
		if (number > MEMLOAD_DURATION_MAX_MS / units[i].multiplier)
			return -ERANGE;
		*ret_ms = number * units[i].multiplier;
		return 0;
	}
	return -EINVAL;
}

static int memload_bad_value(const char *option, const char *value, int error, const char *what)
{
	if (error == -ERANGE)
		fprintf(stderr, "memload: %s '%s' is out of range (%s)\n", option, value, what);
	else
		fprintf(stderr, "memload: %s '%s' is not a valid %s\n", option, value, what);
	return 2;
}

/* Fills OPTIONS from the command line; 0, or the exit status to use. */
static int memload_parse_options(int argc, char **argv, struct memload_options *options)
{
	enum {
		OPT_SIZE = 256, OPT_STEP, OPT_INTERVAL, OPT_HOLD, OPT_RELEASE_FILE,
		OPT_FREE_STEP, OPT_FREE_INTERVAL, OPT_MODE, OPT_PATH, OPT_BEST_EFFORT,
		OPT_HELP,
	};
	static const struct option long_options[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "release-file", required_argument, NULL, OPT_RELEASE_FILE },
		{ "free-step", required_argument, NULL, OPT_FREE_STEP },
		{ "free-interval", required_argument, NULL, OPT_FREE_INTERVAL },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "best-effort", no_argument, NULL, OPT_BEST_EFFORT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool free_interval_set = false;
	int option;
	int r;

	*options = (struct memload_options){ .mode = MEMLOAD_MODE_ANON };
	while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (option) {
		case OPT_SIZE:
			r = memload_parse_size(optarg, &options->size);
			if (r < 0)
				return memload_bad_value("--size", optarg, r, "size: 1 B to 1 TiB, e.g. 512M");
			break;
		case OPT_STEP:
			r = memload_parse_size(optarg, &options->step);
			if (r < 0)
				return memload_bad_value("--step", optarg, r, "size: 1 B to 1 TiB, e.g. 64M");
			break;
		case OPT_FREE_STEP:
			r = memload_parse_size(optarg, &options->free_step);
			if (r < 0)
				return memload_bad_value("--free-step", optarg, r, "size: 1 B to 1 TiB, e.g. 64M");
			break;
		case OPT_INTERVAL:
			r = memload_parse_duration(optarg, &options->interval_ms);
			if (r < 0)
				return memload_bad_value("--interval", optarg, r, "duration up to a week, e.g. 200ms");
			break;
		case OPT_FREE_INTERVAL:
			r = memload_parse_duration(optarg, &options->free_interval_ms);
			if (r < 0)
				return memload_bad_value("--free-interval", optarg, r, "duration up to a week, e.g. 200ms");
			free_interval_set = true;
			break;
		case OPT_HOLD:
			if (strcmp(optarg, "forever") == 0) {
				options->hold_forever = true;
				break;
			}
			r = memload_parse_duration(optarg, &options->hold_ms);
			if (r < 0)
				return memload_bad_value("--hold", optarg, r, "duration up to a week or 'forever', e.g. 30s");
			break;
		case OPT_RELEASE_FILE:
			if (optarg[0] == '\0')
				return memload_bad_value("--release-file", optarg, -EINVAL, "path");
			options->release_file = optarg;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "anon") == 0)
				options->mode = MEMLOAD_MODE_ANON;
			else if (strcmp(optarg, "tmpfs") == 0)
				options->mode = MEMLOAD_MODE_TMPFS;
			else
				return memload_bad_value("--mode", optarg, -EINVAL, "mode: anon or tmpfs");
			break;
		case OPT_PATH:
			if (optarg[0] == '\0')
				return memload_bad_value("--path", optarg, -EINVAL, "path");
			options->path = optarg;
			break;
		case OPT_BEST_EFFORT:
			options->best_effort = true;
			break;
		case OPT_HELP:
			memload_usage(stdout);
			exit(0);
		default:
			memload_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memload: unexpected argument '%s'\n", argv[optind]);
		memload_usage(stderr);
		return 2;
	}
	if (options->size == 0) {
		fprintf(stderr, "memload: --size is required\n");
		memload_usage(stderr);
		return 2;
	}
	if (options->step == 0 || options->step > options->size)
		options->step = options->size;
	if (options->free_step == 0 || options->free_step > options->size)
		options->free_step = options->step;
	if (!free_interval_set)
		options->free_interval_ms = options->interval_ms;
	if (options->release_file && options->hold_ms == 0)
		options->hold_forever = true;
	if (options->path && options->mode != MEMLOAD_MODE_TMPFS) {
		fprintf(stderr, "memload: --path only applies to --mode tmpfs\n");
		return 2;
	}
	return 0;
}

static uint64_t memload_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Sleeps MS milliseconds; returns early (false) when a stop is requested. */
static bool memload_sleep_ms(uint64_t ms)
{
	struct timespec delay = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (!memload_stop_requested) {
		if (nanosleep(&delay, &delay) == 0)
			return true;
		if (errno != EINTR)
			return true;
	}
	return false;
}

static void memload_report(const struct memload_state *state)
{
	printf("memload: held %" PRIu64 " MiB\n", state->held / MEMLOAD_MIB);
	fflush(stdout);
}

static int memload_open(struct memload_state *state)
{
	const struct memload_options *options = state->options;

	if (options->mode == MEMLOAD_MODE_ANON) {
		/* Reserve the whole range once, populate it step by step.
		 * MAP_NORESERVE: the guest may have too little RAM before omem
		 * plugs more, and that is the point of the test. */
		void *region = mmap(NULL, options->size, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (region == MAP_FAILED) {
			fprintf(stderr, "memload: cannot reserve %" PRIu64 " MiB of address space: %s\n",
				options->size / MEMLOAD_MIB, strerror(errno));
			return -errno;
		}
		state->region = region;
		return 0;
	}

	if (options->path) {
		state->path = strdup(options->path);
	} else if (asprintf(&state->path, "/tmp/memload.%ld", (long)getpid()) < 0) {
		state->path = NULL;
	}
	if (!state->path) {
		fprintf(stderr, "memload: out of memory\n");
		return -ENOMEM;
	}
	state->fd = open(state->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (state->fd < 0) {
		int error = errno;

		fprintf(stderr, "memload: cannot create %s: %s\n", state->path, strerror(error));
		free(state->path);
		state->path = NULL;
		return -error;
	}
	return 0;
}

/* Makes HELD grow by up to BYTES of really used memory. */
static int memload_grow(struct memload_state *state, uint64_t bytes)
{
	static unsigned char pattern[MEMLOAD_WRITE_CHUNK];
	long page_size = sysconf(_SC_PAGESIZE);

	if (state->options->mode == MEMLOAD_MODE_ANON) {
		/* Non-zero bytes: a zero-filled page could stay shared. */
		for (uint64_t offset = 0; offset < bytes; offset += (uint64_t)page_size)
			state->region[state->held + offset] = 0x5a;
		state->held += bytes;
		return 0;
	}

	if (pattern[0] == 0)
		memset(pattern, 0x5a, sizeof(pattern));
	for (uint64_t done = 0; done < bytes;) {
		size_t length = bytes - done < sizeof(pattern) ? (size_t)(bytes - done) : sizeof(pattern);
		ssize_t written = pwrite(state->fd, pattern, length, (off_t)(state->held + done));

		if (written < 0) {
			if (errno == EINTR && !memload_stop_requested)
				continue;
			int error = errno;

			/* The file holds what was written so far: count it. */
			state->held += done;
			return -error;
		}
		done += (uint64_t)written;
	}
	state->held += bytes;
	return 0;
}

/* Gives back up to BYTES from the top of what is held. */
static void memload_shrink(struct memload_state *state, uint64_t bytes)
{
	long page_size = sysconf(_SC_PAGESIZE);
	uint64_t target = bytes >= state->held ? 0 : state->held - bytes;

	if (state->options->mode == MEMLOAD_MODE_ANON) {
		/* Keep the reservation; drop the pages (rounded to whole pages). */
		uint64_t start = (target + (uint64_t)page_size - 1) & ~((uint64_t)page_size - 1);

		if (start < state->held)
			madvise(state->region + start, state->held - start, MADV_DONTNEED);
	} else if (ftruncate(state->fd, (off_t)target) < 0) {
		fprintf(stderr, "memload: cannot shrink %s: %s\n", state->path, strerror(errno));
	}
	state->held = target;
}

static void memload_close(struct memload_state *state)
{
	if (state->region)
		munmap(state->region, state->options->size);
	if (state->fd >= 0)
		close(state->fd);
	if (state->path) {
		unlink(state->path);
		free(state->path);
	}
}

/* Grows to the peak; 0, or negative errno when an allocation failed. */
static int memload_grow_phase(struct memload_state *state)
{
	const struct memload_options *options = state->options;

	while (state->held < options->size && !memload_stop_requested) {
		uint64_t bytes = options->size - state->held;
		int r;

		if (bytes > options->step)
			bytes = options->step;
		r = memload_grow(state, bytes);
		if (r < 0) {
			fprintf(stderr, "memload: allocation failed at %" PRIu64 " MiB held: %s\n",
				state->held / MEMLOAD_MIB, strerror(-r));
			return r;
		}
		memload_report(state);
		if (state->held < options->size && !memload_sleep_ms(options->interval_ms))
			break;
	}
	return 0;
}

static void memload_hold_phase(const struct memload_state *state)
{
	const struct memload_options *options = state->options;
	uint64_t deadline = memload_now_ms() + options->hold_ms;

	printf("memload: holding %" PRIu64 " MiB\n", state->held / MEMLOAD_MIB);
	fflush(stdout);
	while (!memload_stop_requested && !memload_release_requested) {
		uint64_t now = memload_now_ms();
		uint64_t pause = MEMLOAD_POLL_MS;

		if (options->release_file && access(options->release_file, F_OK) == 0)
			break;
		if (!options->hold_forever) {
			if (now >= deadline)
				break;
			if (deadline - now < pause)
				pause = deadline - now;
		}
		memload_sleep_ms(pause);
	}
}

static void memload_release_phase(struct memload_state *state)
{
	const struct memload_options *options = state->options;

	printf("memload: releasing\n");
	fflush(stdout);
	while (state->held > 0) {
		memload_shrink(state, memload_stop_requested ? state->held : options->free_step);
		memload_report(state);
		/* A stop request cuts the pause short; the next round frees the rest. */
		if (state->held > 0)
			memload_sleep_ms(options->free_interval_ms);
	}
}

int main(int argc, char **argv)
{
	struct memload_options options;
	struct memload_state state = { .options = &options, .fd = -1 };
	struct sigaction action = { .sa_handler = memload_on_signal };
	int status;
	int r;

	status = memload_parse_options(argc, argv, &options);
	if (status != 0)
		return status;

	/* No SA_RESTART: a signal must cut a sleep short. */
	sigemptyset(&action.sa_mask);
	sigaction(SIGUSR1, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);

	if (memload_open(&state) < 0)
		return 1;

	status = 0;
	r = memload_grow_phase(&state);
	if (r < 0 && !options.best_effort)
		status = 1;
	if (status == 0 && !memload_stop_requested)
		memload_hold_phase(&state);
	memload_release_phase(&state);
	memload_close(&state);
	printf("memload: %s\n", memload_stop_requested ? "stopped" : status ? "failed" : "done");
	fflush(stdout);
	return status;
}

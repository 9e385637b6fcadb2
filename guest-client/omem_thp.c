// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_thp.c - give a guest that booted small the transparent huge page
 * policy it would have had at its real size.
 *
 * An omem guest boots with little RAM and grows by virtio-mem plugs.  At
 * boot the kernel turns THP off on any system with less than 512 MiB
 * (hugepage_init() in mm/huge_memory.c: it sets transparent_hugepage_flags
 * to 0 and returns before starting khugepaged; a transparent_hugepage=
 * command line choice is wiped with the rest), and memory plugged later
 * never turns it back on.  Such a guest runs its workload on 4 KiB pages:
 * measured, a fast memory ramp took 1.7-2x as long as in a static guest
 * of the same size (docs/benchmarks.md).
 *
 * At load, and only when the THP settings are exactly what that zeroing
 * leaves (enabled and defrag "never", khugepaged/defrag and use_zero_page
 * 0) on a guest whose boot RAM was under 512 MiB, this writes back what
 * the kernel would have kept: the command line's transparent_hugepage=
 * if it has one, else the built-in default (CONFIG_TRANSPARENT_HUGEPAGE_*),
 * and the defaults the zeroing cleared (defrag madvise, khugepaged/defrag
 * 1, use_zero_page 1).  It writes through the kernel's own sysfs files,
 * so "enabled" starts khugepaged and sets min_free_kbytes as it would
 * have at boot.  Any other state is an admin's choice and left alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "omem_client.h"

static bool omem_thp_restore = true;
module_param_named(thp_restore, omem_thp_restore, bool, 0444);
MODULE_PARM_DESC(thp_restore,
		 "At load, undo the kernel's boot-time THP switch-off of a guest that booted with less than 512 MiB, restoring transparent_hugepage= or the built-in default (default 1; 0: leave THP as it is)");

#ifdef CONFIG_TRANSPARENT_HUGEPAGE

#define OMEM_THP_DIR "/sys/kernel/mm/transparent_hugepage/"

/* The kernel's threshold (hugepage_init()): below it THP starts off. */
#define OMEM_THP_SMALL_BYTES (512ULL << 20)

/* Longest sysfs value read back ("always defer defer+madvise madvise
 * [never]" is 38 bytes). */
#define OMEM_THP_VALUE_MAX 64

/* The kernel's built-in "enabled" mode, the Kconfig choice it was built
 * with. */
#if defined(CONFIG_TRANSPARENT_HUGEPAGE_ALWAYS)
#define OMEM_THP_BUILTIN_MODE "always"
#elif defined(CONFIG_TRANSPARENT_HUGEPAGE_MADVISE)
#define OMEM_THP_BUILTIN_MODE "madvise"
#else
#define OMEM_THP_BUILTIN_MODE "never"
#endif

/* Read the start of a sysfs or proc file @path into @buf, NUL-terminated. */
static int omem_thp_read(const char *path, char *buf, size_t size)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t len;

	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	len = kernel_read(file, buf, size - 1, &pos);
	filp_close(file, NULL);
	if (len < 0)
		return len;
	buf[len] = '\0';
	return 0;
}

/* Write @value to the THP sysfs file @path: the store an admin's echo
 * reaches. */
static int omem_thp_write(const char *path, const char *value)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t len;

	file = filp_open(path, O_WRONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	len = kernel_write(file, value, strlen(value), &pos);
	filp_close(file, NULL);
	if (len < 0)
		return len;
	return (size_t)len == strlen(value) ? 0 : -EIO;
}

/* True if the THP file @path reads exactly @expected (one line), or for a
 * mode list, has @expected as its selected "[mode]". */
static bool omem_thp_reads(const char *path, const char *expected)
{
	char value[OMEM_THP_VALUE_MAX];

	if (omem_thp_read(path, value, sizeof(value)))
		return false;
	strim(value);
	if (strchr(value, '[')) {
		char selected[OMEM_THP_VALUE_MAX];

		snprintf(selected, sizeof(selected), "[%s]", expected);
		return strstr(value, selected) != NULL;
	}
	return !strcmp(value, expected);
}

/* The zeroed state hugepage_init() leaves on a small system: every flag
 * clear.  An admin who turns THP off writes "never" to enabled (and
 * perhaps defrag), not 0 to use_zero_page and khugepaged/defrag. */
static bool omem_thp_is_zeroed(void)
{
	return omem_thp_reads(OMEM_THP_DIR "enabled", "never") &&
	       omem_thp_reads(OMEM_THP_DIR "defrag", "never") &&
	       omem_thp_reads(OMEM_THP_DIR "khugepaged/defrag", "0") &&
	       omem_thp_reads(OMEM_THP_DIR "use_zero_page", "0");
}

/* What the guest booted with, as hugepage_init() counted it: RAM now
 * minus what was plugged since.  Plugged memory is ZONE_MOVABLE (omem
 * guests boot with memhp_default_state=online_movable); plugged memory
 * onlined elsewhere makes this larger, so the restore is skipped. */
static u64 omem_thp_boot_bytes(void)
{
	unsigned long pages = totalram_pages();
	int nid;

	for_each_online_node(nid) {
		struct zone *zone = &NODE_DATA(nid)->node_zones[ZONE_MOVABLE];

		if (populated_zone(zone))
			pages -= min(pages, zone_managed_pages(zone));
	}
	return (u64)pages << PAGE_SHIFT;
}

/*
 * The last transparent_hugepage= on the kernel command line (the one the
 * kernel applied), if valid: "always", "madvise" or "never"; NULL when
 * there is none, it is unreadable or the kernel would have ignored it.
 * Words after "--" go to init, not the kernel.
 */
static const char *omem_thp_cmdline_mode(void)
{
	static const char *const modes[] = { "always", "madvise", "never" };
	const char *mode = NULL;
	char *cmdline, *cursor, *word;
	size_t i;

	cmdline = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!cmdline)
		return NULL;
	if (omem_thp_read("/proc/cmdline", cmdline, PAGE_SIZE))
		goto out_free;
	cursor = strim(cmdline);
	while ((word = strsep(&cursor, " \t\n")) != NULL) {
		if (!strcmp(word, "--"))
			break;
		if (!str_has_prefix(word, "transparent_hugepage="))
			continue;
		word += strlen("transparent_hugepage=");
		mode = NULL;
		for (i = 0; i < ARRAY_SIZE(modes); i++)
			if (!strcmp(word, modes[i]))
				mode = modes[i];
	}
out_free:
	kfree(cmdline);
	return mode;
}

/**
 * omem_thp_init() - at module load: undo the small-boot THP switch-off
 *
 * Never fails the load: a file that cannot be read or written leaves THP
 * as it is, with one warning.
 */
void omem_thp_init(void)
{
	/* The zeroed defaults first, "enabled" last: it starts khugepaged,
	 * which should find its defrag setting in place. */
	static const struct {
		const char *path;
		const char *value;
	} defaults[] = {
		{ OMEM_THP_DIR "defrag", "madvise" },
		{ OMEM_THP_DIR "khugepaged/defrag", "1" },
		{ OMEM_THP_DIR "use_zero_page", "1" },
	};
	const char *mode, *why;
	u64 boot_bytes;
	size_t i;
	int ret;

	if (!omem_thp_restore || !omem_thp_is_zeroed())
		return;
	boot_bytes = omem_thp_boot_bytes();
	if (boot_bytes >= OMEM_THP_SMALL_BYTES)
		return;

	mode = omem_thp_cmdline_mode();
	why = mode ? "the command line's transparent_hugepage=" :
		     "the kernel's built-in default";
	if (!mode)
		mode = OMEM_THP_BUILTIN_MODE;

	for (i = 0; i < ARRAY_SIZE(defaults); i++) {
		ret = omem_thp_write(defaults[i].path, defaults[i].value);
		if (ret)
			goto out_failed;
	}
	ret = omem_thp_write(OMEM_THP_DIR "enabled", mode);
	if (ret)
		goto out_failed;
	pr_info("transparent hugepages: enabled %s (%s), defrag madvise, use_zero_page 1: the kernel had turned them off because the guest booted with %llu MiB (< 512 MiB); thp_restore=0 leaves them off\n",
		mode, why, boot_bytes >> 20);
	return;

out_failed:
	pr_warn("transparent hugepages stay off as the small boot left them: cannot write %s (%d); write %s to " OMEM_THP_DIR "enabled by hand\n",
		i < ARRAY_SIZE(defaults) ? defaults[i].path : OMEM_THP_DIR "enabled",
		ret, mode);
}

#else /* !CONFIG_TRANSPARENT_HUGEPAGE */

void omem_thp_init(void)
{
}

#endif /* CONFIG_TRANSPARENT_HUGEPAGE */

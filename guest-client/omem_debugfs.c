// SPDX-License-Identifier: GPL-2.0-only
/*
 * omem_debugfs.c - /sys/kernel/debug/omem_client: the session's state and
 * counters, and two round-trip benchmarks for later measurements.
 *
 *   status    read: state, contract, counters, the memory policy's
 *             counters, marks and last sample
 *   ping      write N: N PING/PONG round trips with omemd, interrupt
 *             driven; read: n/min/median/p90/max of the last run, in ns
 *   ping_raw  same, but each trip is a doorbell to our own peer id (guest
 *             -> QEMU -> MSI-X -> guest): the floor without omemd
 *   inject    test facility, see omem_inject.c (only with
 *             OMEM_FAULT_INJECTION=y)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "omem_client.h"

/* A benchmark gives up after this many failures in a row (omemd gone). */
#define OMEM_DEBUGFS_MAX_FAILURES 10u

static int omem_debugfs_compare_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int omem_debugfs_status_show(struct seq_file *m, void *unused)
{
	struct omem_client *client = m->private;
	struct omem_client_counters *c = &client->counters;
	struct omem_session_contract contract;
	enum omem_session_state state;
	u32 host_peer_id, generation;
	unsigned long flags;

	spin_lock_irqsave(&client->lock, flags);
	state = client->state;
	contract = client->contract;
	host_peer_id = client->host_peer_id;
	generation = client->generation;
	spin_unlock_irqrestore(&client->lock, flags);

	seq_printf(m, "state: %s\n", omem_session_state_name(state));
	seq_printf(m, "peer: %u\nhost_peer: %u\ngeneration: %u\n",
		   client->own_peer_id, host_peer_id, generation);
	if (state == OMEM_SESSION_OPEN) {
		seq_printf(m, "version: %u\nbuffer_percent: %u\n",
			   contract.version, contract.buffer_percent);
		seq_printf(m, "boot_bytes: %llu\nmin_bytes: %llu\nmax_bytes: %llu\ncap_bytes: %llu\n",
			   contract.boot_bytes, contract.min_bytes,
			   contract.max_bytes, contract.cap_bytes);
		seq_printf(m, "plugged_bytes: %llu\nblock_bytes: %llu\n",
			   contract.plugged_bytes, contract.block_bytes);
		seq_printf(m, "stats_interval_ms: %u\ndemand_interval_ms: %u\n",
			   contract.stats_interval_ms, contract.demand_interval_ms);
	}
	seq_printf(m, "messages_sent: %lld\n", atomic64_read(&c->messages_sent));
	seq_printf(m, "messages_received: %lld\n", atomic64_read(&c->messages_received));
	seq_printf(m, "doorbells: %lld\n", atomic64_read(&c->doorbells));
	seq_printf(m, "hello_sent: %lld\n", atomic64_read(&c->hello_sent));
	seq_printf(m, "hello_retries: %lld\n", atomic64_read(&c->hello_retries));
	seq_printf(m, "sessions_opened: %lld\n", atomic64_read(&c->sessions_opened));
	seq_printf(m, "region_resets: %lld\n", atomic64_read(&c->region_resets));
	seq_printf(m, "ring_full: %lld\n", atomic64_read(&c->ring_full));
	seq_printf(m, "protocol_errors: %lld\n", atomic64_read(&c->protocol_errors));
	seq_printf(m, "errors_received: %lld\n", atomic64_read(&c->errors_received));
	seq_printf(m, "stale_discarded: %lld\n", atomic64_read(&c->stale_discarded));
	omem_policy_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(omem_debugfs_status);

static void omem_debugfs_show_result(struct seq_file *m,
				     const struct omem_bench_result *result)
{
	const u64 *s = result->samples;
	u32 n = result->count;

	if (!n) {
		seq_printf(m, "n=0 failures=%u\n", result->failures);
		return;
	}
	seq_printf(m, "n=%u failures=%u min=%llu median=%llu p90=%llu max=%llu ns\n",
		   n, result->failures, s[0], s[n / 2], s[(u64)n * 90 / 100], s[n - 1]);
}

static int omem_debugfs_ping_show(struct seq_file *m, void *unused)
{
	struct omem_client *client = m->private;

	mutex_lock(&client->bench_mutex);
	omem_debugfs_show_result(m, &client->ping_result);
	mutex_unlock(&client->bench_mutex);
	return 0;
}

static int omem_debugfs_ping_raw_show(struct seq_file *m, void *unused)
{
	struct omem_client *client = m->private;

	mutex_lock(&client->bench_mutex);
	omem_debugfs_show_result(m, &client->raw_result);
	mutex_unlock(&client->bench_mutex);
	return 0;
}

/* Run @count round trips of @trip, keep the sorted samples in @result. */
static ssize_t omem_debugfs_bench(struct omem_client *client, const char __user *buf,
				  size_t len, struct omem_bench_result *result,
				  int (*trip)(struct omem_client *client, u64 *ns))
{
	u32 count, done = 0, failures = 0, in_a_row = 0;
	u64 *samples;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &count);
	if (ret)
		return ret;
	if (!count || count > OMEM_CLIENT_BENCH_MAX)
		return -EINVAL;
	samples = kvmalloc_array(count, sizeof(*samples), GFP_KERNEL);
	if (!samples)
		return -ENOMEM;

	ret = mutex_lock_interruptible(&client->bench_mutex);
	if (ret)
		goto out_free_samples;
	while (done + failures < count) {
		u64 ns;

		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = trip(client, &ns);
		if (ret == -ENODEV || ret == -ENOTCONN)
			break;
		if (ret) {
			failures++;
			if (++in_a_row >= OMEM_DEBUGFS_MAX_FAILURES)
				break;
			continue;
		}
		in_a_row = 0;
		samples[done++] = ns;
	}
	sort(samples, done, sizeof(*samples), omem_debugfs_compare_u64, NULL);
	kvfree(result->samples);
	result->samples = samples;
	result->count = done;
	result->failures = failures;
	mutex_unlock(&client->bench_mutex);
	if (!done)
		return ret ? ret : -EIO;
	return len;

out_free_samples:
	kvfree(samples);
	return ret;
}

static ssize_t omem_debugfs_ping_write(struct file *file, const char __user *buf,
				       size_t len, loff_t *pos)
{
	struct omem_client *client = file_inode(file)->i_private;

	return omem_debugfs_bench(client, buf, len, &client->ping_result,
				  omem_session_ping);
}

static ssize_t omem_debugfs_ping_raw_write(struct file *file, const char __user *buf,
					   size_t len, loff_t *pos)
{
	struct omem_client *client = file_inode(file)->i_private;

	return omem_debugfs_bench(client, buf, len, &client->raw_result,
				  omem_transport_raw_round_trip);
}

static int omem_debugfs_ping_open(struct inode *inode, struct file *file)
{
	return single_open(file, omem_debugfs_ping_show, inode->i_private);
}

static int omem_debugfs_ping_raw_open(struct inode *inode, struct file *file)
{
	return single_open(file, omem_debugfs_ping_raw_show, inode->i_private);
}

static const struct file_operations omem_debugfs_ping_fops = {
	.owner = THIS_MODULE,
	.open = omem_debugfs_ping_open,
	.read = seq_read,
	.write = omem_debugfs_ping_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static const struct file_operations omem_debugfs_ping_raw_fops = {
	.owner = THIS_MODULE,
	.open = omem_debugfs_ping_raw_open,
	.read = seq_read,
	.write = omem_debugfs_ping_raw_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* Create /sys/kernel/debug/omem_client; failure only loses the files. */
void omem_debugfs_create(struct omem_client *client)
{
	struct dentry *dir = debugfs_create_dir(KBUILD_MODNAME, NULL);

	client->debugfs_dir = dir;
	debugfs_create_file("status", 0444, dir, client, &omem_debugfs_status_fops);
	debugfs_create_file("ping", 0600, dir, client, &omem_debugfs_ping_fops);
	debugfs_create_file("ping_raw", 0600, dir, client, &omem_debugfs_ping_raw_fops);
	omem_inject_create(client, dir);
}

/* Remove the files; waits for a benchmark that is still running. */
void omem_debugfs_remove(struct omem_client *client)
{
	debugfs_remove_recursive(client->debugfs_dir);
	client->debugfs_dir = NULL;
}

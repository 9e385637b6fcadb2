/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of libomem-virt's libvirt side against libvirt's in-process
 * test:///default driver (no daemon): contract get/set with CURRENT, LIVE,
 * CONFIG and LIVE|CONFIG, the manual rollback, the metadata-change event
 * and the memory state; plus the pure halves of omem_domain_set_requested
 * (the split and the device XML), because the test driver cannot update
 * devices.  The real-libvirtd path is the end-to-end test's.
 */
#include "config.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "omem-virt-internal.h"
#include "tap.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Two 1 GiB NUMA cells and virtio-mem devices of 4 and 8 GiB asking for 1
 * and 2 GiB: boot 2 GiB, max 14 GiB. */
#define TEST_DOMAIN_XML(name)                                                              \
	"<domain type='test'><name>" name "</name>"                                      \
	"<maxMemory slots='16' unit='GiB'>64</maxMemory><memory unit='GiB'>14</memory>"  \
	"<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"             \
	"<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/>"                       \
	"<cell id='1' cpus='1' memory='1048576' unit='KiB'/></numa></cpu><devices>"      \
	"<memory model='virtio-mem'><target><size unit='GiB'>4</size><node>0</node>"     \
	"<block unit='KiB'>2048</block><requested unit='GiB'>1</requested></target></memory>" \
	"<memory model='virtio-mem'><target><size unit='GiB'>8</size><node>1</node>"     \
	"<block unit='KiB'>2048</block><requested unit='GiB'>2</requested></target></memory>" \
	"</devices></domain>"

static int expect_error(int rc, OmemErrorCode code, const char *part, const char *what)
{
	const OmemError *error = omem_error_last();
	int ok = rc < 0 && error && error->code == code && (!part || strstr(error->message, part));

	if (!tap_ok(ok, "%s fails as it should", what))
		tap_diag("rc %d, code %d, message: %s", rc, error ? (int)error->code : -1,
			 omem_error_last_message());
	omem_error_reset();
	return ok;
}

static OmemContract *contract_with_cap(unsigned long long cap)
{
	OmemContract *contract = omem_contract_new();

	omem_contract_set_min(contract, 3 * GiB);
	omem_contract_set_cap(contract, cap);
	return contract;
}

/* The cap of @domain's contract on @side, 0 when it has none. */
static unsigned long long cap_of(virDomainPtr domain, unsigned int side)
{
	g_autoptr(OmemContract) contract = NULL;

	if (omem_contract_get(domain, side, &contract) < 0) {
		omem_error_reset();
		return 0;
	}
	return omem_contract_get_cap(contract);
}

/* Events the callbacks saw. */
typedef struct {
	int contract_changes;
	unsigned int last_flags;
	char *last_domain;
	int freed;
} EventLog;

static void on_contract_change(virConnectPtr conn, virDomainPtr domain, unsigned int flags, void *opaque)
{
	EventLog *log = opaque;

	log->contract_changes++;
	log->last_flags = flags;
	g_free(log->last_domain);
	log->last_domain = g_strdup(virDomainGetName(domain));
}

static void on_size_change(virConnectPtr conn, virDomainPtr domain, const char *alias,
			   unsigned long long plugged_bytes, void *opaque)
{
}

static void on_free(void *opaque)
{
	EventLog *log = opaque;

	log->freed++;
}

static void on_tick(int timer, void *opaque)
{
}

/* libvirt prints every error by default; the tests read them instead. */
static void on_libvirt_error(void *opaque, virErrorPtr error)
{
}

/* Dispatch what the test driver queued (its events go out from a timer of
 * the loop); the 10 ms tick keeps each iteration short. */
static void drain_events(void)
{
	for (int i = 0; i < 5; i++)
		virEventRunDefaultImpl();
}

/* Run the event loop until @log has @count contract changes or 2 s pass,
 * then let stray events through, so "no more events" checks mean something. */
static void run_events(EventLog *log, int count)
{
	for (int i = 0; i < 200 && log->contract_changes < count; i++)
		virEventRunDefaultImpl();
	drain_events();
}

static void test_split(void)
{
	static const char live_xml[] =
		"<domain type='kvm' id='3'><name>live</name><memory unit='KiB'>8388608</memory>"
		"<cpu><numa><cell id='0' cpus='0' memory='1048576' unit='KiB'/></numa></cpu>"
		"<devices>"
		"<memory model='virtio-mem'><target><size unit='KiB'>2097152</size><node>0</node>"
		"<block unit='KiB'>2048</block><requested unit='KiB'>0</requested><current unit='KiB'>0</current>"
		"</target><alias name='virtiomem0'/><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></memory>"
		"<memory model='virtio-mem'><target><size unit='KiB'>2097152</size><node>0</node>"
		"<block unit='KiB'>2048</block><current unit='KiB'>0</current>"
		"</target><alias name='virtiomem1'/><address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></memory>"
		"<memory model='virtio-mem'><target><size unit='KiB'>3145728</size><node>0</node>"
		"<block unit='KiB'>1024</block><requested unit='KiB'>0</requested></target>"
		"<alias name='virtiomem2'/></memory>"
		"</devices></domain>";
	g_autoptr(xmlDoc) doc = omem_xml_parse(live_xml, strlen(live_xml), OMEM_ERR_XML, "domain XML");
	g_autoptr(OmemDomainMemory) memory = NULL;
	unsigned long long shares[3] = { 7, 7, 7 };
	g_autofree char *device0 = NULL;
	g_autofree char *device1 = NULL;
	g_autofree char *original = NULL;
	const OmemVirtioMemDevice *first;

	if (!tap_ok(doc && omem_domain_xml_read_memory(doc, &memory) == 0 && memory->devices->len == 3,
		    "a live XML with three devices reads"))
		return;

	/* Sizes 2, 2 and 3 GiB = 1024, 1024 and 1536 blocks of 2 MiB. */
	tap_ok(omem_live_split_requested(memory, 7 * GiB, shares) == 0 &&
	       shares[0] == 2 * GiB && shares[1] == 2 * GiB && shares[2] == 3 * GiB,
	       "the whole capacity fills every device");
	tap_ok(omem_live_split_requested(memory, 0, shares) == 0 &&
	       shares[0] == 0 && shares[1] == 0 && shares[2] == 0, "zero empties every device");
	tap_ok(omem_live_split_requested(memory, 7 * 512 * MiB, shares) == 0 &&
	       shares[0] == GiB && shares[1] == GiB && shares[2] == 1536 * MiB,
	       "half goes in proportion to the sizes");
	tap_ok(omem_live_split_requested(memory, 3 * 2 * MiB, shares) == 0 &&
	       shares[0] == 2 * MiB && shares[1] == 2 * MiB && shares[2] == 2 * MiB,
	       "three blocks go one to each device (largest remainders)");
	tap_ok(omem_live_split_requested(memory, 2 * MiB, shares) == 0 &&
	       shares[0] == 0 && shares[1] == 0 && shares[2] == 2 * MiB,
	       "one block goes to the largest device");
	tap_ok(omem_live_split_requested(memory, 1002 * MiB, shares) == 0 &&
	       shares[0] + shares[1] + shares[2] == 1002 * MiB && shares[0] % (2 * MiB) == 0 &&
	       shares[1] % (2 * MiB) == 0 && shares[2] % (2 * MiB) == 0,
	       "an uneven request sums exactly, in whole blocks");
	shares[0] = 7;
	expect_error(omem_live_split_requested(memory, 7 * GiB + 2 * MiB, shares), OMEM_ERR_INVALID_ARG,
		     "are more than its virtio-mem devices can hold (7516192768 bytes)", "a request above the devices");
	expect_error(omem_live_split_requested(memory, GiB + MiB, shares), OMEM_ERR_INVALID_ARG,
		     "not a multiple of its virtio-mem block size of 2097152 bytes", "a request off the block");
	tap_ok(shares[0] == 7, "a refused split leaves the output untouched");

	device0 = omem_live_device_xml(doc, g_ptr_array_index(memory->devices, 0), 1536 * MiB);
	tap_ok(device0 && !strcmp(device0,
		"<memory model=\"virtio-mem\"><target><size unit=\"KiB\">2097152</size><node>0</node>"
		"<block unit=\"KiB\">2048</block><requested unit=\"KiB\">1572864</requested><current unit=\"KiB\">0</current>"
		"</target><alias name=\"virtiomem0\"/><address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"0x05\" function=\"0x0\"/></memory>"),
	       "the device XML is the live one, alias and address kept, only <requested> changed");
	device1 = omem_live_device_xml(doc, g_ptr_array_index(memory->devices, 1), 2 * MiB);
	tap_ok(device1 && strstr(device1, "<requested unit=\"KiB\">2048</requested>") &&
	       strstr(device1, "slot=\"0x06\""), "a device without <requested> gets one");
	first = g_ptr_array_index(memory->devices, 0);
	original = omem_xml_node_format(doc, first->node);
	tap_ok(original && !strstr(original, "1572864"), "the live document itself is not changed");
}

static void test_contract_on_persistent(virConnectPtr conn, EventLog *log)
{
	g_autoptr(virDomain) domain = virDomainDefineXML(conn, TEST_DOMAIN_XML("omem-persistent"));
	g_autoptr(OmemContract) four = contract_with_cap(4 * GiB);
	g_autoptr(OmemContract) six = contract_with_cap(6 * GiB);
	g_autoptr(OmemContract) eight = contract_with_cap(8 * GiB);
	g_autoptr(OmemContract) ten = contract_with_cap(10 * GiB);
	g_autoptr(OmemContract) huge = contract_with_cap(15 * GiB);
	g_autoptr(OmemContract) got = NULL;
	OmemContract *untouched = (OmemContract *)0x1;
	OmemMemoryState state = { 0 };

	if (!tap_ok(domain != NULL, "the test driver defines a NUMA domain with two virtio-mem devices"))
		return;

	expect_error(omem_contract_get(domain, VIR_DOMAIN_AFFECT_CURRENT, &untouched), OMEM_ERR_NOT_OMEM,
		     "has no omem contract; convert it with virt-omem convert", "reading a contract that is not there");
	tap_ok(untouched == (OmemContract *)0x1, "and leaves the output untouched");
	expect_error(omem_contract_get(domain, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, &got),
		     OMEM_ERR_INVALID_ARG, NULL, "reading both sides at once");
	expect_error(omem_contract_set(domain, four, 0x100), OMEM_ERR_INVALID_ARG, NULL, "an unknown flag");

	tap_ok(omem_contract_set(domain, four, VIR_DOMAIN_AFFECT_CURRENT) == 0,
	       "CURRENT on a shut-off domain writes");
	tap_ok(cap_of(domain, VIR_DOMAIN_AFFECT_CONFIG) == 4 * GiB, "... the persistent contract");
	tap_ok(omem_contract_get(domain, VIR_DOMAIN_AFFECT_CURRENT, &got) == 0 &&
	       omem_contract_get_boot(got) == 2 * GiB && omem_contract_get_max(got) == 14 * GiB &&
	       omem_contract_get_min(got) == 3 * GiB && omem_contract_get_cap(got) == 4 * GiB &&
	       omem_contract_get_shares(got) == OMEM_CONTRACT_DEFAULT_SHARES,
	       "get reads boot and max from the domain, the rest from the metadata");

	expect_error(omem_contract_set(domain, six, VIR_DOMAIN_AFFECT_LIVE), OMEM_ERR_LIBVIRT,
		     "not running", "LIVE on a shut-off domain");
	expect_error(omem_contract_set(domain, six, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG),
		     OMEM_ERR_LIBVIRT, "not running", "LIVE|CONFIG on a shut-off domain");
	tap_ok(cap_of(domain, VIR_DOMAIN_AFFECT_CONFIG) == 4 * GiB, "and neither changed the persistent contract");
	expect_error(omem_contract_set(domain, huge, VIR_DOMAIN_AFFECT_CONFIG), OMEM_ERR_CONTRACT,
		     "cap (16106127360 bytes) is above max (15032385536 bytes", "a cap above the domain's max");

	if (!tap_ok(virDomainCreate(domain) == 0, "the domain starts"))
		return;
	drain_events();
	log->contract_changes = 0;
	tap_ok(omem_contract_set(domain, six, VIR_DOMAIN_AFFECT_CURRENT) == 0,
	       "CURRENT on a running domain writes");
	tap_ok(cap_of(domain, VIR_DOMAIN_AFFECT_LIVE) == 6 * GiB &&
	       cap_of(domain, VIR_DOMAIN_AFFECT_CONFIG) == 4 * GiB, "... the live contract only");
	run_events(log, 1);
	tap_eq(log->contract_changes, 1, "the contract change raised one event");
	tap_ok(!g_strcmp0(log->last_domain, "omem-persistent") &&
	       log->last_flags == (VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG),
	       "naming the domain, both sides possible");

	tap_ok(omem_contract_set(domain, eight, VIR_DOMAIN_AFFECT_CONFIG) == 0 &&
	       cap_of(domain, VIR_DOMAIN_AFFECT_LIVE) == 6 * GiB &&
	       cap_of(domain, VIR_DOMAIN_AFFECT_CONFIG) == 8 * GiB &&
	       cap_of(domain, VIR_DOMAIN_AFFECT_CURRENT) == 6 * GiB,
	       "CONFIG on a running domain changes the persistent contract only; CURRENT reads live");
	tap_ok(omem_contract_set(domain, ten, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) == 0 &&
	       cap_of(domain, VIR_DOMAIN_AFFECT_LIVE) == 10 * GiB &&
	       cap_of(domain, VIR_DOMAIN_AFFECT_CONFIG) == 10 * GiB, "LIVE|CONFIG changes both");

	drain_events();
	log->contract_changes = 0;
	tap_ok(virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_ELEMENT, "<x/>", "app", "urn:other",
				    VIR_DOMAIN_AFFECT_LIVE) == 0 &&
	       virDomainSetMetadata(domain, VIR_DOMAIN_METADATA_DESCRIPTION, "hello", NULL, NULL,
				    VIR_DOMAIN_AFFECT_LIVE) == 0, "foreign metadata and the description change");
	run_events(log, 1);
	tap_eq(log->contract_changes, 0, "without an omem contract event");
	tap_ok(cap_of(domain, VIR_DOMAIN_AFFECT_LIVE) == 10 * GiB, "and the contract still reads");

	tap_ok(omem_domain_memory_state(domain, &state) == 0 && state.boot_bytes == 2 * GiB &&
	       state.device_bytes == 12 * GiB && state.requested_bytes == 3 * GiB &&
	       state.plugged_bytes == 0 && state.block_bytes == 2 * MiB && state.devices == 2,
	       "the memory state sums both devices of the live XML");
	tap_ok(omem_domain_set_requested(domain, 3 * GiB) == 0,
	       "a request the devices already have changes nothing and succeeds");
	expect_error(omem_domain_set_requested(domain, 13 * GiB), OMEM_ERR_INVALID_ARG,
		     "more than its virtio-mem devices can hold (12884901888 bytes)", "a request above the devices");
	expect_error(omem_domain_set_requested(domain, 3 * GiB + 4096), OMEM_ERR_INVALID_ARG,
		     "not a multiple", "a request off the block");
	{
		int r = omem_domain_set_requested(domain, 6 * GiB);
		const OmemError *error = omem_error_last();

		tap_ok(r < 0 && error && error->code == OMEM_ERR_LIBVIRT && error->libvirt_code == VIR_ERR_NO_SUPPORT &&
		       strstr(error->message, "virDomainUpdateDeviceFlags"),
		       "a real change reaches virDomainUpdateDeviceFlags, which the test driver does not support");
		omem_error_reset();
	}

	virDomainDestroy(domain);
	{
		int r = omem_domain_set_requested(domain, 3 * GiB);
		const OmemError *error = omem_error_last();

		tap_ok(r < 0 && error && error->code == OMEM_ERR_LIBVIRT &&
		       error->libvirt_code == VIR_ERR_OPERATION_INVALID, "set_requested on a shut-off domain is refused");
		omem_error_reset();
	}
	tap_ok(omem_domain_memory_state(domain, &state) == 0 && state.requested_bytes == 3 * GiB,
	       "the memory state of a shut-off domain comes from its configuration");
	virDomainUndefine(domain);
}

static void test_rollback(virConnectPtr conn)
{
	g_autoptr(virDomain) domain = virDomainCreateXML(conn, TEST_DOMAIN_XML("omem-transient"), 0);
	g_autoptr(OmemContract) four = contract_with_cap(4 * GiB);
	g_autoptr(OmemContract) eight = contract_with_cap(8 * GiB);
	const OmemError *error;
	int r;

	if (!tap_ok(domain != NULL, "a transient domain starts"))
		return;
	r = omem_contract_set(domain, eight, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
	error = omem_error_last();
	tap_ok(r < 0 && error && error->code == OMEM_ERR_LIBVIRT &&
	       strstr(error->message, "the live contract was put back as it was") &&
	       strstr(error->message, "transient"),
	       "LIVE|CONFIG on a transient domain fails on CONFIG with libvirt's reason");
	tap_diag("%s", omem_error_last_message());
	omem_error_reset();
	tap_eq(cap_of(domain, VIR_DOMAIN_AFFECT_LIVE), 0, "the live contract that was not there is removed again");

	tap_ok(omem_contract_set(domain, four, VIR_DOMAIN_AFFECT_LIVE) == 0, "LIVE alone works");
	expect_error(omem_contract_set(domain, eight, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG),
		     OMEM_ERR_LIBVIRT, "put back", "LIVE|CONFIG over an existing live contract");
	tap_ok(cap_of(domain, VIR_DOMAIN_AFFECT_LIVE) == 4 * GiB, "the previous live contract is restored");
	virDomainDestroy(domain);
}

/* @conn already has one contract-change registration (main). */
static void test_events(virConnectPtr conn)
{
	EventLog log = { 0 };
	int ids[8], extra, registered = 0, deregistered = 0;

	expect_error(omem_event_register_size_change(NULL, NULL, on_size_change, NULL, NULL),
		     OMEM_ERR_INVALID_ARG, NULL, "registering without a connection");
	expect_error(omem_event_register_contract_change(conn, NULL, NULL, NULL, NULL),
		     OMEM_ERR_INVALID_ARG, NULL, "registering without a callback");
	ids[0] = omem_event_register_size_change(conn, NULL, on_size_change, &log, on_free);
	registered += ids[0] >= 0;
	for (int i = 1; i < 8; i++) {
		ids[i] = omem_event_register_contract_change(conn, NULL, on_contract_change, &log, on_free);
		registered += ids[i] >= 0;
	}
	tap_eq(registered, 8, "a size-change and seven more contract-change registrations on one connection work");
	extra = omem_event_register_contract_change(conn, NULL, on_contract_change, &log, on_free);
	expect_error(extra, OMEM_ERR_LIBVIRT, "already tracked", "a ninth contract-change registration");
	tap_eq(log.freed, 0, "a failed registration does not free the caller's opaque");
	for (int i = 0; i < 8; i++)
		deregistered += ids[i] >= 0 && virConnectDomainEventDeregisterAny(conn, ids[i]) == 0;
	tap_eq(deregistered, 8, "they deregister");
	drain_events();
	tap_eq(log.freed, 8, "libvirt frees each registration's opaque through the caller's free function");
}

int main(void)
{
	g_autoptr(virConnect) conn = NULL;
	EventLog log = { 0 };
	int id;

	test_split();

	virSetErrorFunc(NULL, on_libvirt_error);
	if (virEventRegisterDefaultImpl() < 0 || virEventAddTimeout(10, on_tick, NULL, NULL) < 0) {
		printf("Bail out! libvirt's default event loop does not start\n");
		return 1;
	}
	/* One connection for everything: each open of test:///default starts
	 * from a fresh default state. */
	conn = virConnectOpen("test:///default");
	if (!conn) {
		printf("Bail out! test:///default does not open: %s\n", virGetLastErrorMessage());
		return 1;
	}
	id = omem_event_register_contract_change(conn, NULL, on_contract_change, &log, on_free);
	tap_ok(id >= 0, "the contract-change event registers");
	test_contract_on_persistent(conn, &log);
	test_rollback(conn);
	test_events(conn);
	virConnectDomainEventDeregisterAny(conn, id);
	g_free(log.last_domain);
	return tap_done();
}

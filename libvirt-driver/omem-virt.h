/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * omem-virt.h: libomem-virt, omem's contract and domain handling on
 * libvirt's public API.
 *
 * An omem VM is an ordinary libvirt domain with a virtio-mem device per
 * guest NUMA node and an omem contract in its <metadata>.  libvirt is the
 * single source of truth: this library reads and writes the contract with
 * virDomainGetMetadata/virDomainSetMetadata, turns domain XML into omem
 * domain XML and back, reads a running VM's memory devices and changes
 * their requested size.  Used by virt-omem, omemd and tests.
 *
 * Every contract figure is total guest RAM in bytes (docs/architecture.md,
 * "The contract, defined once"):
 *   boot  RAM the guest boots with (the NUMA cells' memory), never unplugged
 *   min   guaranteed total, boot <= min
 *   cap   the operator's live limit, min <= cap <= max
 *   max   boot + the virtio-mem devices' sizes
 * plus shares (weight under contention) and buffer (% headroom above the
 * guest's demand).  boot >= max / 8, because the guest's kernel memory
 * (memmap for hot-plugged memory included) must fit in boot RAM.
 *
 * Conventions, after libvirt's: functions return 0 (or a non-negative
 * count) on success and -1 on failure, or NULL for pointers; a failure
 * records one error (omem_error_last) that says what failed, on what, and
 * what to do.  Free functions accept NULL.  Output parameters are written
 * only on success.  The library never prints.
 */
#ifndef OMEM_VIRT_H
#define OMEM_VIRT_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "omem-size.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ errors */

/* What kind of failure the last error is; the message has the details. */
typedef enum {
	OMEM_ERR_NONE = 0,
	OMEM_ERR_INVALID_ARG,   /* the caller passed an invalid argument */
	OMEM_ERR_NO_MEMORY,     /* allocation failed */
	OMEM_ERR_XML,           /* XML that is not well-formed or not a domain */
	OMEM_ERR_UNSUPPORTED,   /* the domain cannot be an omem domain (why: message) */
	OMEM_ERR_NOT_OMEM,      /* the domain is not an omem domain (no contract or no virtio-mem) */
	OMEM_ERR_CONTRACT,      /* figures that break the contract's rules (numbers in the message) */
	OMEM_ERR_METADATA,      /* the omem metadata element is malformed or of an unknown version */
	OMEM_ERR_LIBVIRT,       /* a libvirt call failed; libvirt_code and the message say how */
	OMEM_ERR_PARTIAL,       /* a LIVE|CONFIG change failed halfway and could not be undone */
} OmemErrorCode;

/* The last error of the calling thread. */
typedef struct {
	OmemErrorCode code;
	int libvirt_code;       /* virErrorNumber for OMEM_ERR_LIBVIRT, else 0 */
	const char *message;    /* one line, no trailing newline */
	const char *file;       /* where it was raised, for bug reports */
	int line;
	const char *function;
} OmemError;

/* The calling thread's last error, or NULL if the last call succeeded or
 * none failed yet.  Valid until the thread's next omem call. */
const OmemError *omem_error_last(void);

/* The last error's message, or "no error"; never NULL. */
const char *omem_error_last_message(void);

/* Forget the calling thread's last error. */
void omem_error_reset(void);

/* ---------------------------------------------------------------- contract */

/* XML namespace and prefix of the contract in a domain's <metadata>. */
#define OMEM_CONTRACT_NAMESPACE "urn:omem:contract:1"
#define OMEM_CONTRACT_PREFIX "omem"

/* Defaults of the figures a contract may leave out. */
#define OMEM_CONTRACT_DEFAULT_SHARES 1000u
#define OMEM_CONTRACT_DEFAULT_BUFFER_PERCENT 10u
#define OMEM_CONTRACT_MAX_SHARES 1000000u

/* virtio-mem block size omem uses: the granule of every plug and unplug
 * (the guest onlines memory in 128 MiB memory blocks made of these). */
#define OMEM_BLOCK_BYTES (2ull << 20)

typedef struct _OmemContract OmemContract;

/* A contract with every figure 0 and the default shares and buffer. */
OmemContract *omem_contract_new(void);
void omem_contract_free(OmemContract *contract);
OmemContract *omem_contract_copy(const OmemContract *contract);

unsigned long long omem_contract_get_boot(const OmemContract *contract);
unsigned long long omem_contract_get_min(const OmemContract *contract);
unsigned long long omem_contract_get_cap(const OmemContract *contract);
unsigned long long omem_contract_get_max(const OmemContract *contract);
unsigned int omem_contract_get_shares(const OmemContract *contract);
unsigned int omem_contract_get_buffer_percent(const OmemContract *contract);
/* Whether the operator froze the VM's size (omemd neither grows nor
 * shrinks it; see docs/contract.md). */
bool omem_contract_get_frozen(const OmemContract *contract);
/* Whether the operator is draining the VM for maintenance (omemd lowers
 * its requested size step by step to min and grants nothing; exclusive
 * with frozen; see docs/contract.md). */
bool omem_contract_get_drain(const OmemContract *contract);

/* Setters do not validate (a change may pass through an invalid state);
 * omem_contract_validate and omem_contract_set do. */
void omem_contract_set_boot(OmemContract *contract, unsigned long long bytes);
void omem_contract_set_min(OmemContract *contract, unsigned long long bytes);
void omem_contract_set_cap(OmemContract *contract, unsigned long long bytes);
void omem_contract_set_max(OmemContract *contract, unsigned long long bytes);
void omem_contract_set_shares(OmemContract *contract, unsigned int shares);
void omem_contract_set_buffer_percent(OmemContract *contract, unsigned int percent);
void omem_contract_set_frozen(OmemContract *contract, bool frozen);
void omem_contract_set_drain(OmemContract *contract, bool drain);

/* Check boot <= min <= cap <= max, boot >= max / 8, every size a multiple
 * of OMEM_BLOCK_BYTES, 1 <= shares <= OMEM_CONTRACT_MAX_SHARES,
 * buffer <= 100, not both frozen and drain.  -1 with OMEM_ERR_CONTRACT
 * naming the rule and the numbers. */
int omem_contract_validate(const OmemContract *contract);

/* The contract of a domain XML document (boot and max from its memory
 * devices and NUMA cells, the rest from the omem metadata element).  -1
 * with OMEM_ERR_NOT_OMEM when it is not an omem domain. */
int omem_contract_from_domain_xml(const char *domain_xml, OmemContract **ret_contract);

/* The omem metadata element for @contract (min, cap, shares, buffer,
 * frozen, drain; boot and max live in the domain XML itself), in omem's
 * namespace as it sits in a domain's <metadata>.  A min or cap never set
 * (read from metadata that left it out) stays out, so it keeps following
 * boot or max.  Free with free(). */
char *omem_contract_format_metadata(const OmemContract *contract);

/* Read a domain's contract.  @flags: one of VIR_DOMAIN_AFFECT_CURRENT,
 * _LIVE, _CONFIG (libvirt's virDomainModificationImpact). */
int omem_contract_get(virDomainPtr domain, unsigned int flags, OmemContract **ret_contract);

/* Write a domain's contract metadata after validating it against the
 * domain's boot and max.  @flags: VIR_DOMAIN_AFFECT_CURRENT, _LIVE,
 * _CONFIG or _LIVE|_CONFIG.  libvirt does not roll back a LIVE|CONFIG
 * change that fails halfway, so this applies LIVE, then CONFIG, and puts
 * the live metadata back by hand when CONFIG fails (OMEM_ERR_PARTIAL if
 * even that fails).  omemd follows the metadata-change event. */
int omem_contract_set(virDomainPtr domain, const OmemContract *contract, unsigned int flags);

/* --------------------------------------------------------------- transform */

/* What omem_transform_convert should make of a domain; 0 means "choose
 * the documented default" (docs/transform.md). */
typedef struct {
	unsigned long long boot_bytes;
	unsigned long long min_bytes;
	unsigned long long max_bytes;
	unsigned int shares;
	unsigned int buffer_percent;
	bool buffer_percent_set;  /* buffer_percent 0 is a valid choice */
	unsigned long long cap_bytes; /* the operator's limit, min..max; 0: max (or the input's own cap) */
} OmemConvertOptions;

/* Turn an ordinary domain XML into an omem domain XML (NUMA cells,
 * virtio-mem devices, memfd shared unlocked backing, a free-page-reporting
 * balloon, ACPI and a PCI hotplug slot, the kernel command line, the
 * contract metadata).  Idempotent; preserves everything it does not own.
 * -1 with OMEM_ERR_UNSUPPORTED and the reason for what cannot work
 * (locked memory, hugepages, VFIO devices, a machine type without memory
 * hotplug, boot < max / 8).  *ret_xml is freed with free(). */
int omem_transform_convert(const char *domain_xml, const OmemConvertOptions *options,
			   char **ret_xml);

/* Turn an omem domain XML back into an ordinary one whose memory is the
 * contract's max (see docs/transform.md for what stays).  *ret_xml is freed
 * with free(). */
int omem_transform_revert(const char *domain_xml, char **ret_xml);

/* -------------------------------------------------------------------- live */

/* A running omem VM's memory devices, summed over its virtio-mem devices. */
typedef struct {
	unsigned long long boot_bytes;      /* NUMA cells' memory */
	unsigned long long device_bytes;    /* the devices' total size */
	unsigned long long requested_bytes; /* what the devices are asked to plug */
	unsigned long long plugged_bytes;   /* what they have plugged (<current>) */
	unsigned long long block_bytes;     /* the devices' block size */
	unsigned int devices;               /* number of virtio-mem devices */
} OmemMemoryState;

/* Read @domain's virtio-mem devices from its live XML (the persistent one
 * when the domain is shut off: plugged is then 0).  block_bytes is the
 * largest block size of the devices, the granule of a request. */
int omem_domain_memory_state(virDomainPtr domain, OmemMemoryState *ret_state);

/* One virtio-mem device as a domain XML describes it. */
typedef struct {
	char *alias;                        /* <alias name>, NULL in inactive XML */
	unsigned long long size_bytes;      /* <target><size> */
	unsigned long long block_bytes;     /* <target><block> */
	unsigned long long requested_bytes; /* <target><requested>, 0 if absent */
	unsigned long long plugged_bytes;   /* <target><current>, 0 if absent */
} OmemMemoryDevice;

/* The same figures from a domain XML text (as virDomainGetXMLDesc gives
 * it), for callers that already hold the XML.  A domain without virtio-mem
 * devices is not an error here: devices and block_bytes are then 0.  When
 * @ret_devices is not NULL it receives one entry per device, in document
 * order; free it with omem_memory_devices_free(devices, state.devices). */
int omem_domain_xml_memory_state(const char *domain_xml, OmemMemoryState *ret_state,
				 OmemMemoryDevice **ret_devices);
void omem_memory_devices_free(OmemMemoryDevice *devices, unsigned int count);

/* The domain XML's <uuid>, as written (libvirt writes lower case); free
 * with free().  -1 with OMEM_ERR_XML when there is none. */
int omem_domain_xml_uuid(const char *domain_xml, char **ret_uuid);

/* The device <@element name='@name'> of the domain XML, serialized as it
 * stands there, in *ret_device_xml (free with free()): 1 when found, 0
 * when not (*ret_device_xml NULL), -1 on a document that does not parse. */
int omem_domain_xml_find_device(const char *domain_xml, const char *element, const char *name,
				char **ret_device_xml);

/* Ask @domain's virtio-mem devices to plug @requested_bytes in all (split
 * over the devices in proportion to their sizes, in whole blocks) with
 * virDomainUpdateDeviceFlags(LIVE), sending each device as it appears in
 * the live XML, <address> included.  Returns at once: the guest plugs or
 * unplugs afterwards, and memory-device-size-change events report it. */
int omem_domain_set_requested(virDomainPtr domain, unsigned long long requested_bytes);

/* Send the requested size again, unchanged, to every virtio-mem device
 * that has more plugged than requested, so that a guest whose unplug
 * stalled retries at once (its driver retries by itself only much
 * later).  Devices not unplugging are left alone. */
int omem_domain_reissue_requested(virDomainPtr domain);

/* Called when a virtio-mem device of @domain reports a new plugged size. */
typedef void (*OmemSizeChangeCallback)(virConnectPtr conn, virDomainPtr domain,
				       const char *alias, unsigned long long plugged_bytes,
				       void *opaque);

/* Called when @domain's omem contract metadata changed (@flags: the
 * VIR_DOMAIN_AFFECT_* side that changed; libvirt's event does not say,
 * so this is always LIVE|CONFIG: read the side you follow). */
typedef void (*OmemContractChangeCallback)(virConnectPtr conn, virDomainPtr domain,
					   unsigned int flags, void *opaque);

/* Register for memory-device-size-change events of @domain (NULL: every
 * domain).  Returns the callback id for virConnectDomainEventDeregisterAny,
 * or -1.  Events need a running event loop (virEventRegisterDefaultImpl).
 * @free_opaque (may be NULL) is called on @opaque when libvirt drops the
 * registration, not when registering fails.  At most 8 registrations per
 * event, connection and @domain filter. */
int omem_event_register_size_change(virConnectPtr conn, virDomainPtr domain,
				    OmemSizeChangeCallback callback, void *opaque,
				    virFreeCallback free_opaque);

/* Register for changes of the omem contract metadata only (other
 * metadata changes are filtered out).  Same return as above. */
int omem_event_register_contract_change(virConnectPtr conn, virDomainPtr domain,
					OmemContractChangeCallback callback, void *opaque,
					virFreeCallback free_opaque);

/* For callers that build with GLib: g_autoptr(OmemContract). */
#ifdef G_DEFINE_AUTOPTR_CLEANUP_FUNC
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OmemContract, omem_contract_free)
#endif

#ifdef __cplusplus
}
#endif

#endif /* OMEM_VIRT_H */

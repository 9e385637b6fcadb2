/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the omem contract without libvirt: sizes and units, the
 * metadata element's parse/format round trips (maintenance drain
 * included), every refusal of the strict parser, every validation rule
 * and its message (frozen and drain together among them), and reading a
 * contract out of domain XML.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <libxml/relaxng.h>

#include "omem-virt-internal.h"
#include "tap.h"

#ifndef CONTRACT_SCHEMA
#error "build with -DCONTRACT_SCHEMA='\"path\"'"
#endif

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* Whether the last call failed with @code and a message containing @part. */
static int expect_error(int rc, OmemErrorCode code, const char *part, const char *what)
{
	const OmemError *error = omem_error_last();
	int ok = rc < 0 && error && error->code == code && (!part || strstr(error->message, part));

	if (!tap_ok(ok, "%s is refused", what))
		tap_diag("rc %d, code %d, message: %s", rc, error ? (int)error->code : -1,
			 omem_error_last_message());
	omem_error_reset();
	return ok;
}

static void test_sizes(void)
{
	static const struct {
		const char *number, *unit;
		unsigned long long bytes;
	} good[] = {
		{ "1", NULL, 1024 },         { "1", "", 1024 },            { "7", "b", 7 },
		{ "7", "bytes", 7 },         { "7", "Byte", 7 },           { "1", "KB", 1000 },
		{ "1", "k", 1024 },          { "1", "KiB", 1024 },         { "1", "MB", 1000000 },
		{ "1", "M", MiB },           { "1", "MiB", MiB },          { "3", "GB", 3000000000ull },
		{ "3", "G", 3 * GiB },       { "3", "gib", 3 * GiB },      { "2", "TB", 2000000000000ull },
		{ "2", "T", 2ull << 40 },    { "2", "TiB", 2ull << 40 },   { "1", "PiB", 1ull << 50 },
		{ "15", "EiB", 15ull << 60 }, { " 42 ", "bytes", 42 },
		{ "18446744073709551615", "bytes", 18446744073709551615ull },
		{ "18014398509481983", "KiB", 18014398509481983ull * 1024 },
	};
	static const struct {
		const char *number, *unit;
		int r;
	} bad[] = {
		{ "", "KiB", -EINVAL },       { " ", "KiB", -EINVAL },      { "-1", "KiB", -EINVAL },
		{ "+5", "KiB", -EINVAL },     { "1e99", "KiB", -EINVAL },   { "0x10", "KiB", -EINVAL },
		{ "1.5", "GiB", -EINVAL },    { "12", "Q", -EINVAL },       { "12Q", NULL, -EINVAL },
		{ "1", "KiBB", -EINVAL },     { "1", "XB", -EINVAL },       { "1", "Kb2", -EINVAL },
		{ "1", "kilobytes", -EINVAL }, { NULL, "KiB", -EINVAL },
		{ "18446744073709551616", "bytes", -ERANGE },
		{ "18014398509481984", "KiB", -ERANGE },
		{ "16", "EiB", -ERANGE },
		{ "99999999999999999999999999", "b", -ERANGE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		unsigned long long bytes = 0;
		int r = omem_xml_parse_size(good[i].number, good[i].unit, &bytes);

		tap_ok(r == 0 && bytes == good[i].bytes, "size '%s' '%s' is %llu bytes", good[i].number,
		       good[i].unit ? good[i].unit : "(none)", good[i].bytes);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		unsigned long long bytes = 12345;
		int r = omem_xml_parse_size(bad[i].number, bad[i].unit, &bytes);

		tap_ok(r == bad[i].r && bytes == 12345, "size '%s' '%s' is refused with %d, output untouched",
		       bad[i].number ? bad[i].number : "(null)", bad[i].unit ? bad[i].unit : "(none)",
		       bad[i].r);
	}
}

static OmemContract *parse(const char *xml)
{
	OmemContract *contract = NULL;

	if (omem_contract_parse_metadata(xml, strlen(xml), &contract) < 0)
		return NULL;
	return contract;
}

static void test_parse_and_format(void)
{
	static const char namespaced[] =
		"<omem:contract xmlns:omem=\"urn:omem:contract:1\" version=\"1\">\n"
		"  <omem:min unit=\"bytes\">2147483648</omem:min>\n"
		"  <omem:cap unit=\"bytes\">4294967296</omem:cap>\n"
		"  <omem:shares>500</omem:shares>\n"
		"  <omem:buffer percent=\"20\"/>\n"
		"  <omem:frozen/>\n"
		"</omem:contract>\n";
	g_autoptr(OmemContract) fresh = omem_contract_new();
	g_autoptr(OmemContract) contract = NULL;
	g_autoptr(OmemContract) bare = NULL;
	g_autoptr(OmemContract) units = NULL;
	g_autoptr(OmemContract) defaults = NULL;
	g_autoptr(OmemContract) again = NULL;
	g_autoptr(OmemContract) copy = NULL;
	g_autofree char *formatted = NULL;
	g_autofree char *bare_text = NULL;
	g_autofree char *defaults_text = NULL;

	tap_ok(omem_contract_get_boot(fresh) == 0 && omem_contract_get_min(fresh) == 0 &&
	       omem_contract_get_cap(fresh) == 0 && omem_contract_get_max(fresh) == 0 &&
	       omem_contract_get_shares(fresh) == OMEM_CONTRACT_DEFAULT_SHARES &&
	       omem_contract_get_buffer_percent(fresh) == OMEM_CONTRACT_DEFAULT_BUFFER_PERCENT &&
	       !omem_contract_get_frozen(fresh) && !omem_contract_get_drain(fresh),
	       "a new contract has zero figures, the default shares and buffer, no maintenance");
	omem_contract_free(NULL);
	tap_ok(omem_contract_copy(NULL) == NULL, "free and copy accept NULL");

	contract = parse(namespaced);
	tap_ok(contract && omem_contract_get_min(contract) == 2 * GiB &&
	       omem_contract_get_cap(contract) == 4 * GiB && omem_contract_get_shares(contract) == 500 &&
	       omem_contract_get_buffer_percent(contract) == 20 && omem_contract_get_frozen(contract) &&
	       !omem_contract_get_drain(contract),
	       "the namespaced element parses");
	if (!contract)
		return;
	formatted = omem_contract_format_metadata(contract);
	tap_ok(formatted && !strcmp(formatted, namespaced), "it formats back to the same text");
	if (formatted && strcmp(formatted, namespaced))
		tap_diag("got:\n%s", formatted);

	bare_text = omem_contract_format_bare(contract);
	tap_ok(!strcmp(bare_text, "<contract version=\"1\"><min unit=\"bytes\">2147483648</min>"
				  "<cap unit=\"bytes\">4294967296</cap><shares>500</shares>"
				  "<buffer percent=\"20\"/><frozen/></contract>"),
	       "the bare form for virDomainSetMetadata has no namespace");
	bare = parse(bare_text);
	tap_ok(bare && omem_contract_get_min(bare) == 2 * GiB && omem_contract_get_cap(bare) == 4 * GiB &&
	       omem_contract_get_shares(bare) == 500 && omem_contract_get_buffer_percent(bare) == 20 &&
	       omem_contract_get_frozen(bare),
	       "the bare form, as virDomainGetMetadata returns it, parses to the same contract");

	units = parse("<contract version='1'><!-- a comment --><cap unit='GiB'> 3 </cap>"
		      "<min>1048576</min><buffer percent='0'></buffer></contract>");
	tap_ok(units && omem_contract_get_cap(units) == 3 * GiB && omem_contract_get_min(units) == GiB &&
	       omem_contract_get_buffer_percent(units) == 0 &&
	       omem_contract_get_shares(units) == OMEM_CONTRACT_DEFAULT_SHARES && !omem_contract_get_frozen(units),
	       "units, the KiB default, any order, comments and defaults are read");

	defaults = parse("<contract xmlns='urn:omem:contract:1' version='1'/>");
	tap_ok(defaults != NULL, "an empty contract in the default namespace parses");
	if (defaults) {
		omem_contract_apply_domain(defaults, 2 * GiB, 16 * GiB);
		tap_ok(omem_contract_get_min(defaults) == 2 * GiB && omem_contract_get_cap(defaults) == 16 * GiB,
		       "min and cap left out are boot and max");
		defaults_text = omem_contract_format_metadata(defaults);
		tap_ok(defaults_text && !strstr(defaults_text, "min") && !strstr(defaults_text, "cap") &&
		       strstr(defaults_text, "<omem:shares>1000</omem:shares>"),
		       "and stay left out when formatted, so they follow the domain");
	}

	omem_contract_set_boot(contract, 2 * GiB);
	omem_contract_set_max(contract, 8 * GiB);
	copy = omem_contract_copy(contract);
	omem_contract_set_frozen(copy, false);
	omem_contract_set_shares(copy, 7);
	omem_contract_set_buffer_percent(copy, 33);
	omem_contract_set_min(copy, 3 * GiB);
	omem_contract_set_cap(copy, 5 * GiB);
	g_free(formatted);
	formatted = omem_contract_format_metadata(copy);
	again = parse(formatted);
	tap_ok(again && omem_contract_get_min(again) == 3 * GiB && omem_contract_get_cap(again) == 5 * GiB &&
	       omem_contract_get_shares(again) == 7 && omem_contract_get_buffer_percent(again) == 33 &&
	       !omem_contract_get_frozen(again) && omem_contract_get_frozen(contract),
	       "setters, copy and a format/parse round trip agree");
	tap_ok(omem_contract_get_boot(copy) == 2 * GiB && omem_contract_get_max(copy) == 8 * GiB,
	       "the copy keeps boot and max");
}

/* <drain/>: parsed, formatted after frozen's place, round-tripped in both
 * forms, and switched off again by its setter. */
static void test_drain(void)
{
	static const char namespaced[] =
		"<omem:contract xmlns:omem=\"urn:omem:contract:1\" version=\"1\">\n"
		"  <omem:min unit=\"bytes\">2147483648</omem:min>\n"
		"  <omem:shares>1000</omem:shares>\n"
		"  <omem:buffer percent=\"10\"/>\n"
		"  <omem:drain/>\n"
		"</omem:contract>\n";
	static const char bare_expected[] =
		"<contract version=\"1\"><min unit=\"bytes\">2147483648</min><shares>1000</shares>"
		"<buffer percent=\"10\"/><drain/></contract>";
	g_autoptr(OmemContract) contract = parse(namespaced);
	g_autoptr(OmemContract) bare = NULL;
	g_autoptr(OmemContract) undrained = NULL;
	g_autoptr(OmemContract) anywhere = NULL;
	g_autoptr(OmemContract) both = NULL;
	g_autofree char *formatted = NULL;
	g_autofree char *bare_text = NULL;
	g_autofree char *undrained_text = NULL;

	tap_ok(contract && omem_contract_get_drain(contract) && !omem_contract_get_frozen(contract) &&
	       omem_contract_get_min(contract) == 2 * GiB,
	       "<omem:drain/> parses as drain, not frozen");
	if (!contract)
		return;
	formatted = omem_contract_format_metadata(contract);
	tap_ok(formatted && !strcmp(formatted, namespaced), "a draining contract formats back to the same text");
	if (formatted && strcmp(formatted, namespaced))
		tap_diag("got:\n%s", formatted);
	bare_text = omem_contract_format_bare(contract);
	tap_ok(!strcmp(bare_text, bare_expected), "its bare form ends in <drain/>");
	if (strcmp(bare_text, bare_expected))
		tap_diag("got: %s", bare_text);
	bare = parse(bare_text);
	tap_ok(bare && omem_contract_get_drain(bare) && omem_contract_get_min(bare) == 2 * GiB,
	       "the bare form reads back as draining");

	omem_contract_set_drain(contract, false);
	undrained_text = omem_contract_format_metadata(contract);
	undrained = parse(undrained_text);
	tap_ok(!strstr(undrained_text, "drain") && undrained && !omem_contract_get_drain(undrained),
	       "set_drain(false) drops the element");
	omem_contract_set_drain(contract, true);
	tap_ok(omem_contract_get_drain(contract), "set_drain(true) sets it again");

	anywhere = parse("<contract version='1'><drain> <!-- maintenance --> </drain><shares>5</shares></contract>");
	tap_ok(anywhere && omem_contract_get_drain(anywhere) && omem_contract_get_shares(anywhere) == 5,
	       "<drain> in any position, with whitespace and a comment inside, parses");

	/* Reading does not validate (docs/contract.md): a hand-edited domain
	 * with both still shows what it says. */
	both = parse("<contract version='1'><frozen/><drain/></contract>");
	tap_ok(both && omem_contract_get_frozen(both) && omem_contract_get_drain(both),
	       "a contract with frozen and drain still reads, both set");
}

static void test_parse_refusals(void)
{
	static const struct {
		const char *xml, *part, *what;
		OmemErrorCode code;
	} cases[] = {
		{ "<contract version='1'><min unit='Q'>12</min></contract>", "is not a size", "an unknown unit", OMEM_ERR_METADATA },
		{ "<contract version='1'><min>12Q</min></contract>", "is not a size", "a size like 12Q", OMEM_ERR_METADATA },
		{ "<contract version='1'><min>1e99</min></contract>", "is not a size", "1e99", OMEM_ERR_METADATA },
		{ "<contract version='1'><min>-1</min></contract>", "is not a size", "a negative size", OMEM_ERR_METADATA },
		{ "<contract version='1'><min></min></contract>", "is not a size", "an empty size", OMEM_ERR_METADATA },
		{ "<contract version='1'><cap unit='bytes'>18446744073709551616</cap></contract>", "64 bits", "2^64 bytes", OMEM_ERR_METADATA },
		{ "<contract version='1'><cap unit='KiB'>18014398509481984</cap></contract>", "64 bits", "2^54 KiB", OMEM_ERR_METADATA },
		{ "<contract version='1'><shares>-5</shares></contract>", "not a whole number", "negative shares", OMEM_ERR_METADATA },
		{ "<contract version='1'><shares></shares></contract>", "not a whole number", "empty shares", OMEM_ERR_METADATA },
		{ "<contract version='1'><shares>4294967296</shares></contract>", "not a whole number", "shares above 32 bits", OMEM_ERR_METADATA },
		{ "<contract version='1'><buffer percent='ten'/></contract>", "not a whole number", "a word as percent", OMEM_ERR_METADATA },
		{ "<contract version='1'><buffer/></contract>", "no percent", "buffer without percent", OMEM_ERR_METADATA },
		{ "<contract version='1'><buffer percent='5'>5</buffer></contract>", "content", "buffer with text", OMEM_ERR_METADATA },
		{ "<contract version='1'><frozen>yes</frozen></contract>", "content", "frozen with text", OMEM_ERR_METADATA },
		{ "<contract version='1'><frozen when='now'/></contract>", "unknown attribute 'when'", "frozen with an attribute", OMEM_ERR_METADATA },
		{ "<contract version='1'><drain>yes</drain></contract>", "<drain> has content", "drain with text", OMEM_ERR_METADATA },
		{ "<contract version='1'><drain><min>4</min></drain></contract>", "<drain> has content", "drain with a child", OMEM_ERR_METADATA },
		{ "<contract version='1'><drain until='never'/></contract>", "<drain> has an unknown attribute 'until'", "drain with an attribute", OMEM_ERR_METADATA },
		{ "<contract version='1'><drain/><drain/></contract>", "<drain> twice", "drain twice", OMEM_ERR_METADATA },
		{ "<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><drain/></omem:contract>", "<drain> is in namespace '(none)'", "a drain outside the namespace", OMEM_ERR_METADATA },
		{ "<contract version='1'><draining/></contract>", "only min, cap, shares, buffer, frozen and drain", "a misspelt drain", OMEM_ERR_METADATA },
		{ "<contract version='1'><min unit='b' scale='2'>4</min></contract>", "unknown attribute 'scale'", "an unknown size attribute", OMEM_ERR_METADATA },
		{ "<contract version='1'><min><b>4</b></min></contract>", "content", "markup inside a size", OMEM_ERR_METADATA },
		{ "<contract version='1'><max>4</max></contract>", "unknown element <max>", "an unknown element", OMEM_ERR_METADATA },
		{ "<contract version='1'><min>4</min><min>4</min></contract>", "twice", "a duplicate element", OMEM_ERR_METADATA },
		{ "<contract version='1'>text</contract>", "text or markup", "stray text", OMEM_ERR_METADATA },
		{ "<contract version='2'/>", "version is '2'", "version 2", OMEM_ERR_METADATA },
		{ "<contract/>", "version is '(none)'", "a missing version", OMEM_ERR_METADATA },
		{ "<contract version=' 1'/>", "version is ' 1'", "a padded version", OMEM_ERR_METADATA },
		{ "<contract version='1' mode='x'/>", "unknown attribute 'mode'", "an unknown contract attribute", OMEM_ERR_METADATA },
		{ "<policy version='1'/>", "not <contract>", "a wrong root element", OMEM_ERR_METADATA },
		{ "<x:contract xmlns:x='urn:other' version='1'/>", "namespace 'urn:other'", "a foreign namespace", OMEM_ERR_METADATA },
		{ "<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><min>4</min></omem:contract>", "namespace '(none)'", "a child outside the namespace", OMEM_ERR_METADATA },
		{ "<contract version='1' xmlns:o='urn:omem:contract:1'><o:min>4</o:min></contract>", "namespace 'urn:omem:contract:1'", "a namespaced child of a bare root", OMEM_ERR_METADATA },
		{ "<contract version='1'><x:min xmlns:x='urn:other'>4</x:min></contract>", "namespace 'urn:other'", "a child in a foreign namespace", OMEM_ERR_METADATA },
		{ "<contract version='1'>", "not well-formed", "unclosed XML", OMEM_ERR_METADATA },
		{ "", "not well-formed", "an empty document", OMEM_ERR_METADATA },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		OmemContract *contract = (OmemContract *)0x1;
		int r = omem_contract_parse_metadata(cases[i].xml, strlen(cases[i].xml), &contract);

		expect_error(r, cases[i].code, cases[i].part, cases[i].what);
		tap_ok(contract == (OmemContract *)0x1, "%s leaves the output untouched", cases[i].what);
	}
}

/* A valid contract: boot 2 GiB, max 16 GiB, min 4 GiB, cap 8 GiB. */
static OmemContract *valid_contract(void)
{
	OmemContract *contract = omem_contract_new();

	omem_contract_set_boot(contract, 2 * GiB);
	omem_contract_set_min(contract, 4 * GiB);
	omem_contract_set_cap(contract, 8 * GiB);
	omem_contract_set_max(contract, 16 * GiB);
	return contract;
}

static void test_validate(void)
{
	g_autoptr(OmemContract) contract = valid_contract();
	g_autoptr(OmemContract) edge = valid_contract();

	tap_ok(omem_contract_validate(contract) == 0, "a sound contract validates");
	omem_contract_set_min(edge, 2 * GiB);
	omem_contract_set_cap(edge, 16 * GiB);
	omem_contract_set_shares(edge, OMEM_CONTRACT_MAX_SHARES);
	omem_contract_set_buffer_percent(edge, 100);
	tap_ok(omem_contract_validate(edge) == 0, "boot = min, cap = max = 8 x boot, the largest shares and buffer validate");
	expect_error(omem_contract_validate(NULL), OMEM_ERR_INVALID_ARG, NULL, "validating NULL");

#define RULE(setter, value, part, what)                                                 \
	do {                                                                            \
		g_autoptr(OmemContract) broken = valid_contract();                      \
		setter(broken, value);                                                  \
		expect_error(omem_contract_validate(broken), OMEM_ERR_CONTRACT, part, what); \
	} while (0)

	RULE(omem_contract_set_min, GiB, "min (1073741824 bytes) is below boot (2147483648 bytes)", "min below boot");
	RULE(omem_contract_set_cap, 3 * GiB, "cap (3221225472 bytes) is below min (4294967296 bytes)", "cap below min");
	RULE(omem_contract_set_cap, 17 * GiB, "cap (18253611008 bytes) is above max (17179869184 bytes", "cap above max");
	RULE(omem_contract_set_max, 16 * GiB + 2 * MiB, "boot RAM (2147483648 bytes) is below an eighth of max (17181966336 bytes)", "boot below max / 8");
	RULE(omem_contract_set_min, 4 * GiB + 1, "min (4294967297 bytes) is not a multiple", "min off the block");
	RULE(omem_contract_set_cap, 8 * GiB - MiB, "cap (8588886016 bytes) is not a multiple", "cap off the block");
	RULE(omem_contract_set_boot, 2 * GiB + 4096, "boot (2147487744 bytes) is not a multiple", "boot off the block");
	RULE(omem_contract_set_max, 16 * GiB + 512, "max (17179869696 bytes) is not a multiple", "max off the block");
	RULE(omem_contract_set_shares, 0, "shares (0) are outside 1 to 1000000", "zero shares");
	RULE(omem_contract_set_shares, OMEM_CONTRACT_MAX_SHARES + 1, "shares (1000001)", "too many shares");
	RULE(omem_contract_set_buffer_percent, 101, "buffer (101%) is above 100%", "a buffer above 100 %");
#undef RULE

	{
		g_autoptr(OmemContract) draining = valid_contract();
		g_autoptr(OmemContract) both = valid_contract();

		omem_contract_set_drain(draining, true);
		tap_ok(omem_contract_validate(draining) == 0, "a draining contract validates");
		omem_contract_set_frozen(both, true);
		omem_contract_set_drain(both, true);
		expect_error(omem_contract_validate(both), OMEM_ERR_CONTRACT,
			     "both frozen (<frozen/>: hold the size) and draining (<drain/>: shrink to min)",
			     "frozen and drain together");
		omem_contract_set_frozen(both, false);
		tap_ok(omem_contract_validate(both) == 0, "dropping frozen makes it valid again");
	}
}

/* A domain with two NUMA cells of 1 GiB and 1024 MiB and two virtio-mem
 * devices of 4 and 8 GiB, the contract in omem's namespace and foreign
 * metadata beside it. */
static const char numa_domain[] =
	"<domain type='kvm'><name>numa</name>"
	"<metadata><app:x xmlns:app='urn:app'/>"
	"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'>"
	"<omem:min unit='GiB'>4</omem:min><omem:cap unit='GiB'>10</omem:cap><omem:frozen/>"
	"</omem:contract></metadata>"
	"<maxMemory slots='16' unit='GiB'>64</maxMemory><memory unit='GiB'>14</memory>"
	"<cpu><numa><cell id='0' cpus='0' memory='1048576' unit='KiB'/>"
	"<cell id='1' cpus='1' memory='1024' unit='MiB'/></numa></cpu>"
	"<devices><memory model='dimm'><target><size unit='GiB'>1</size></target></memory>"
	"<memory model='virtio-mem'><target><size unit='GiB'>4</size><node>0</node>"
	"<block unit='KiB'>2048</block><requested unit='KiB'>0</requested></target></memory>"
	"<memory model='virtio-mem'><target><size unit='GiB'>8</size><node>1</node>"
	"<block unit='MiB'>2</block><requested unit='GiB'>1</requested></target></memory>"
	"</devices></domain>";

static void test_from_domain_xml(void)
{
	static const char flat_domain[] =
		"<domain type='kvm'><name>flat</name><memory>6291456</memory>"
		"<metadata><omem:contract xmlns:omem='urn:omem:contract:1' version='1'/></metadata>"
		"<devices><memory model='virtio-mem'><target><size unit='GiB'>4</size>"
		"<block unit='KiB'>2048</block></target></memory></devices></domain>";
	static const struct {
		const char *xml, *part, *what;
		OmemErrorCode code;
	} cases[] = {
		{ "<domain><name>plain</name><memory>1048576</memory></domain>", "has no omem contract", "a domain without contract", OMEM_ERR_NOT_OMEM },
		{ "<domain><name>nodev</name><memory>1048576</memory><metadata><omem:contract xmlns:omem='urn:omem:contract:1' version='1'/></metadata></domain>",
		  "no virtio-mem device", "a contract without virtio-mem", OMEM_ERR_NOT_OMEM },
		{ "<domain><name>two</name><memory>1048576</memory><metadata><omem:contract xmlns:omem='urn:omem:contract:1' version='1'/><o:other xmlns:o='urn:omem:contract:1'/></metadata></domain>",
		  "more than one element", "two elements in omem's namespace", OMEM_ERR_METADATA },
		{ "<domain><name>bad</name><memory>1048576</memory><metadata><omem:contract xmlns:omem='urn:omem:contract:1' version='9'/></metadata></domain>",
		  "version is '9'", "a contract of an unknown version", OMEM_ERR_METADATA },
		{ "<network/>", "not a libvirt domain", "a network XML", OMEM_ERR_XML },
		{ "<domain>", "not well-formed", "broken XML", OMEM_ERR_XML },
		{ "<domain><name>c</name><cpu><numa><cell memory='1e9'/></numa></cpu></domain>", "is not a size", "a cell memory of 1e9", OMEM_ERR_XML },
		{ "<domain><name>c</name><cpu><numa><cell memory='16' unit='EiB'/><cell memory='1' unit='EiB'/></numa></cpu></domain>",
		  "too large", "NUMA cells summing past 2^64", OMEM_ERR_XML },
		{ "<domain><name>m</name><memory>1</memory><devices><memory model='virtio-mem'><target><size>4096</size><block>2048</block></target></memory></devices></domain>",
		  "smaller than its virtio-mem devices", "<memory> below the devices", OMEM_ERR_XML },
		{ "<domain><name>m</name><memory>8388608</memory><devices><memory model='virtio-mem'><target><size>4096</size></target></memory></devices></domain>",
		  "no <target> with <size> and <block>", "a device without block", OMEM_ERR_XML },
		{ "<domain><name>m</name><memory>8388608</memory><devices><memory model='virtio-mem'><target><size>4097</size><block>2048</block></target></memory></devices></domain>",
		  "not a non-zero multiple", "a size off the block", OMEM_ERR_XML },
		{ "<domain><name>m</name><memory>8388608</memory><devices><memory model='virtio-mem'><target><size>4096</size><block>2048</block><node>x</node></target></memory></devices></domain>",
		  "not a NUMA node number", "a bad node", OMEM_ERR_XML },
		{ "<domain><name>m</name><memory unit='EiB'>15</memory><devices><memory model='virtio-mem'><target><size unit='EiB'>15</size><block>2048</block></target></memory>"
		  "<memory model='virtio-mem'><target><size unit='EiB'>15</size><block>2048</block></target></memory></devices></domain>",
		  "too large", "devices summing past 2^64", OMEM_ERR_XML },
		{ "<domain><name>none</name></domain>", "neither NUMA cells nor <memory>", "a domain without memory", OMEM_ERR_XML },
	};
	g_autoptr(OmemContract) numa = NULL;
	g_autoptr(OmemContract) flat = NULL;

	tap_ok(omem_contract_from_domain_xml(numa_domain, &numa) == 0, "the NUMA domain's contract reads");
	tap_ok(numa && omem_contract_get_boot(numa) == 2 * GiB && omem_contract_get_max(numa) == 14 * GiB &&
	       omem_contract_get_min(numa) == 4 * GiB && omem_contract_get_cap(numa) == 10 * GiB &&
	       omem_contract_get_frozen(numa) && omem_contract_validate(numa) == 0,
	       "boot is the cells' sum, max adds only the virtio-mem devices");
	tap_ok(omem_contract_from_domain_xml(flat_domain, &flat) == 0 &&
	       omem_contract_get_boot(flat) == 2 * GiB && omem_contract_get_max(flat) == 6 * GiB &&
	       omem_contract_get_min(flat) == 2 * GiB && omem_contract_get_cap(flat) == 6 * GiB,
	       "without cells boot is <memory> (KiB by default) minus the devices");
	expect_error(omem_contract_from_domain_xml(NULL, &flat), OMEM_ERR_INVALID_ARG, NULL, "NULL domain XML");
	expect_error(omem_contract_from_domain_xml(numa_domain, NULL), OMEM_ERR_INVALID_ARG, NULL, "a NULL output");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		OmemContract *contract = (OmemContract *)0x1;

		expect_error(omem_contract_from_domain_xml(cases[i].xml, &contract), cases[i].code,
			     cases[i].part, cases[i].what);
		tap_ok(contract == (OmemContract *)0x1, "%s leaves the output untouched", cases[i].what);
	}
}

/* Whether @xml validates against libvirt-driver/schema/omem-contract.rng. */
static bool schema_accepts(xmlRelaxNG *schema, const char *xml)
{
	g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "test.xml", NULL,
					      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlRelaxNGValidCtxt *context;
	int r;

	if (!doc)
		return false;
	context = xmlRelaxNGNewValidCtxt(schema);
	xmlRelaxNGSetValidErrors(context, NULL, NULL, NULL);
	r = xmlRelaxNGValidateDoc(context, doc);
	xmlRelaxNGFreeValidCtxt(context);
	return r == 0;
}

/* libxml2's RelaxNG reports through the generic handler; keep TAP clean. */
static void quiet(void *context, const char *format, ...)
{
}

/* The schema and the parser agree on the element's form. */
static void test_schema(void)
{
	static const char *const accepted[] = {
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'/>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:frozen/>"
		"<omem:cap unit='GiB'>8</omem:cap><omem:min>1048576</omem:min>"
		"<omem:buffer percent='100'/><omem:shares>1</omem:shares></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:shares>2</omem:shares>"
		"<omem:drain/><omem:min>1048576</omem:min></omem:contract>",
	};
	static const char *const refused[] = {
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='2'/>",
		"<omem:contract xmlns:omem='urn:omem:contract:1'/>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:max>4</omem:max></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:min unit='Q'>4</omem:min></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:min>-1</omem:min></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:min>+1</omem:min></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:cap unit='bytes'>18446744073709551616</omem:cap></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:min>4</omem:min><omem:min>4</omem:min></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><min>4</min></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:frozen>yes</omem:frozen></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:drain>yes</omem:drain></omem:contract>",
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:drain/><omem:drain/></omem:contract>",
	};
	static const char both[] =
		"<omem:contract xmlns:omem='urn:omem:contract:1' version='1'><omem:frozen/><omem:drain/></omem:contract>";
	xmlRelaxNGParserCtxt *parser;
	xmlRelaxNG *schema;
	g_autoptr(OmemContract) contract = valid_contract();
	g_autoptr(OmemContract) draining = valid_contract();
	g_autoptr(OmemContract) both_parsed = NULL;
	g_autofree char *formatted = NULL;
	g_autofree char *draining_text = NULL;

	xmlSetGenericErrorFunc(NULL, quiet);
	parser = xmlRelaxNGNewParserCtxt(CONTRACT_SCHEMA);
	schema = parser ? xmlRelaxNGParse(parser) : NULL;
	xmlRelaxNGFreeParserCtxt(parser);
	if (!tap_ok(schema != NULL, "the RelaxNG schema compiles"))
		return;
	omem_contract_set_frozen(contract, true);
	formatted = omem_contract_format_metadata(contract);
	tap_ok(schema_accepts(schema, formatted), "a formatted contract validates");
	omem_contract_set_drain(draining, true);
	draining_text = omem_contract_format_metadata(draining);
	tap_ok(schema_accepts(schema, draining_text), "a formatted draining contract validates");
	/* The parser reads this one; validation is what refuses it. */
	tap_ok(!schema_accepts(schema, both) &&
	       omem_contract_parse_metadata(both, strlen(both), &both_parsed) == 0,
	       "the schema refuses frozen with drain, which the parser reads for validation to refuse");
	if (both_parsed) {
		omem_contract_apply_domain(both_parsed, 2 * GiB, 16 * GiB);
		expect_error(omem_contract_validate(both_parsed), OMEM_ERR_CONTRACT, "remove one of them",
			     "the parsed frozen-and-drain contract");
	}
	for (size_t i = 0; i < G_N_ELEMENTS(accepted); i++)
		tap_ok(schema_accepts(schema, accepted[i]), "the schema accepts accepted element %zu", i);
	for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(OmemContract) parsed = NULL;
		bool parser_refuses = omem_contract_parse_metadata(refused[i], strlen(refused[i]), &parsed) < 0;

		omem_error_reset();
		tap_ok(!schema_accepts(schema, refused[i]) && parser_refuses,
		       "the schema refuses refused element %zu, as the parser does", i);
	}
	tap_ok(!schema_accepts(schema, "<contract version='1'/>"),
	       "the schema describes the namespaced form only (the parser also reads the bare one)");
	xmlRelaxNGFree(schema);
	xmlSetGenericErrorFunc(NULL, NULL);
}

static void test_errors(void)
{
	omem_error_reset();
	tap_ok(omem_error_last() == NULL && !strcmp(omem_error_last_message(), "no error"),
	       "no error is recorded after a reset");
	omem_contract_validate(NULL);
	tap_ok(omem_error_last() && omem_error_last()->file && omem_error_last()->line > 0 &&
	       omem_error_last()->function && omem_error_last()->libvirt_code == 0,
	       "an error records where it was raised");
	omem_error_reset();
}

int main(void)
{
	test_sizes();
	test_parse_and_format();
	test_drain();
	test_parse_refusals();
	test_validate();
	test_from_domain_xml();
	test_schema();
	test_errors();
	return tap_done();
}

#!/bin/bash
# Bad input to virt-omem: each case is refused with a non-zero exit and
# exactly one "virt-omem: error:" line naming the problem, and nothing is
# applied (input is checked before libvirt is even contacted: the cases
# run against a URI that would refuse the connection).
. "$(dirname "$0")/lib.sh"

REFUSING=qemu+tcp://127.0.0.1:1/system

# Sizes, as SIZE, as --min of setmem-outsourced and as --max of convert.
check_size() {
    local size=$1 regex=$2 label=${3:-$1}
    vo_capture -c "$REFUSING" setmem-outsourced web1 "$size"
    expect_error 2 "setmem-outsourced SIZE '$label'" "$regex"
    vo_capture -c "$REFUSING" setmem-outsourced web1 1G --min "$size"
    expect_error 2 "setmem-outsourced --min '$label'" "--min: .*$regex"
    vo_capture convert --max "$size" "$CLI_DIR/plain-domain.xml"
    expect_error 2 "convert --max '$label'" "--max: .*$regex"
}
check_size -1 "negative values are not allowed"
check_size 1e99 "whole number"
check_size 12Q "unknown unit 'Q'"
check_size "" "empty size" "(empty)"
check_size 0x10 "hexadecimal"
check_size 18446744073709551616 "does not fit in 64 bits" "2^64 KiB"
check_size 18014398509481984 "more than 2\\^64 bytes" "2^54 KiB = 2^64 bytes"
check_size 1.5G "whole number"
check_size "5 M" "unknown unit ' M'"

vo_capture convert --boot 0 "$CLI_DIR/plain-domain.xml"
expect_error 2 "convert --boot 0" "size of 0 is not allowed"
vo_capture convert --shares 0 "$CLI_DIR/plain-domain.xml"
expect_error 2 "convert --shares 0" "--shares: .*out of range"
vo_capture convert --shares 1000001 "$CLI_DIR/plain-domain.xml"
expect_error 2 "convert --shares 1000001" "--shares: .*out of range"
vo_capture convert --buffer 101 "$CLI_DIR/plain-domain.xml"
expect_error 2 "convert --buffer 101" "--buffer: .*0 to 100"
vo_capture -c "$REFUSING" setmem-outsourced web1 1G --wait --timeout 1e3
expect_error 2 "--timeout 1e3" "--timeout: "
vo_capture -c "$REFUSING" drain web1 --wait --timeout 1e3
expect_error 2 "drain --timeout 1e3" "--timeout: "
vo_capture -c "$REFUSING" drain --all --wait --timeout 0
expect_error 2 "drain --timeout 0" "--timeout: "
vo_capture -c "$REFUSING" drain --all --wait --timeout -5
expect_error 2 "drain --timeout -5" "negative values are not allowed"

# XML.
printf '<domain type="kvm"><name>broken</name><memory>1048576' >"$SCRATCH/truncated.xml"
vo_capture convert "$SCRATCH/truncated.xml"
expect_error 2 "convert of truncated XML" "truncated.xml: "
vo_capture -c "$REFUSING" define "$SCRATCH/truncated.xml"
expect_error 2 "define of truncated XML is refused before connecting" "truncated.xml: "
echo 'hello, world' >"$SCRATCH/text.xml"
vo_capture convert "$SCRATCH/text.xml"
expect_error 2 "convert of text that is not XML" "text.xml: "
vo_capture_in "$SCRATCH/text.xml" convert -
expect_error 2 "convert of text on stdin" "standard input: "
echo '<network><name>default</name></network>' >"$SCRATCH/network.xml"
vo_capture convert "$SCRATCH/network.xml"
expect_error 2 "convert of XML that is not a domain" "network.xml: "
: >"$SCRATCH/empty.xml"
vo_capture convert "$SCRATCH/empty.xml"
expect_error 2 "convert of an empty file" "empty"
vo_capture convert "$SCRATCH/does-not-exist.xml"
expect_error 2 "convert of a missing file" "cannot open .*No such file"
vo_capture convert "$SCRATCH"
expect_error 2 "convert of a folder" "Is a directory"

# Foreign or other-version omem metadata.
sed 's|<metadata>|<metadata><omem:contract xmlns:omem="urn:omem:contract:1" version="2"/>|' \
    "$CLI_DIR/plain-domain.xml" >"$SCRATCH/version2.xml"
vo_capture convert "$SCRATCH/version2.xml"
expect_error 2 "convert of a domain with version 2 omem metadata" "version2.xml: "
sed 's|<metadata>|<metadata><omem:contract xmlns:omem="urn:omem:contract:1" version="1"><omem:min>lots</omem:min></omem:contract>|' \
    "$CLI_DIR/plain-domain.xml" >"$SCRATCH/garbage.xml"
vo_capture convert "$SCRATCH/garbage.xml"
expect_error 2 "convert of a domain with malformed omem metadata" "garbage.xml: "

# Domains and connections.
vo_capture dommemstat no-such-domain
expect_error 2 "an unknown domain" "domain 'no-such-domain' not found"
vo_capture setmem-outsourced no-such-domain 1G
expect_error 2 "setmem-outsourced of an unknown domain" "not found"
vo_capture revert no-such-domain
expect_error 2 "revert of an unknown domain" "not found"
vo_capture dommemstat plain
expect_error 2 "dommemstat of a domain that is not an omem domain" "plain"
vo_capture setmem-outsourced plain 1G
expect_error 2 "setmem-outsourced of a domain that is not an omem domain" "plain"
for command in freeze thaw drain undrain; do
    vo_capture "$command" no-such-domain
    expect_error 2 "$command of an unknown domain" "domain 'no-such-domain' not found"
    vo_capture "$command" plain
    expect_error 2 "$command of a domain that is not an omem domain" "domain 'plain': .*no omem contract"
    vo_capture "$command" ""
    expect_error 2 "$command of an empty domain name" "empty domain name"
    vo_capture -c "$REFUSING" "$command" --all
    expect_error 1 "$command --all on a refusing URI" "Connection refused"
done
vo_capture -c "$REFUSING" list
expect_error 1 "a remote URI that refuses the connection" \
    "cannot connect to qemu\\+tcp://127.0.0.1:1/system: .*Connection refused"
vo_capture -c "$REFUSING" dommemstat web1
expect_error 1 "dommemstat on a refusing URI" "Connection refused"
vo_capture -c "" list
expect_error 2 "an empty URI" "empty URI"

done_testing

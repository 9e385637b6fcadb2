"""Prints the domain XML nova's OmemLibvirtDriver hands libvirt for a tiny
omem server, made through nova's own stack (the functional base of
test_functional.py: nova-api, scheduler, conductor and a compute on
fakelibvirt, the placement fixture), so tests/nova/e2e.sh can boot it
as a real guest.

The flavor: 1 GiB of RAM (the max), omem:min_mb=256, omem:cap_mb=896.
The image: omem_guest=true and direct kernel boot (kernel_id, ramdisk_id,
os_command_line), q35.  The compute runs nova.conf's virt_type=qemu (TCG,
as this host's libvirtd runs guests).  Nothing of the XML is edited here.

Usage: driver_xml.py OUTPUT; exit 0 when OUTPUT holds the XML.  nova's
log and the test's result go to stderr."""

import sys
import unittest

import test_functional  # first: it imports shim_env (paths, state_path)

from oslo_utils.fixture import uuidsentinel as uuids

MAX_MB = 1024
MIN_MB = 256
CAP_MB = 896
# What the harness's guest (tests/guest/init) wants on its console.
COMMAND_LINE = 'console=ttyS0 quiet loglevel=4 panic=-1'
OUTPUT = None


class TinyOmemServerXml(test_functional.OmemServersTest):

    def test_write_xml(self):
        self.flags(virt_type='qemu', group='libvirt')
        self._start_host('compute1')
        # nova-api checks the image's kernel and ramdisk exist; the
        # compute's download of them is mocked by the functional base.
        self._add_image(uuids.kernel, {})
        self._add_image(uuids.ramdisk, {})
        image = self._add_image(uuids.direct_boot_image, {
            'omem_guest': 'true', 'kernel_id': uuids.kernel,
            'ramdisk_id': uuids.ramdisk, 'os_command_line': COMMAND_LINE,
            'hw_machine_type': 'q35'})
        flavor = self._create_flavor(
            memory_mb=MAX_MB, vcpu=1, disk=1, ephemeral=0,
            extra_spec=test_functional.omem_specs(
                MIN_MB, **{'omem:cap_mb': str(CAP_MB)}))
        self._boot(flavor, image_id=image)
        self.assertEqual(1, len(self.created_xml))
        xml = self.created_xml[-1]
        # As test_functional checks: virt-omem convert's output.
        self._assert_omem_xml(xml, MAX_MB, MIN_MB)
        with open(OUTPUT, 'w') as output:
            output.write(xml)


def main(argv):
    global OUTPUT
    if len(argv) != 2:
        print('usage: driver_xml.py OUTPUT', file=sys.stderr)
        return 2
    OUTPUT = argv[1]
    suite = unittest.defaultTestLoader.loadTestsFromName(
        'TinyOmemServerXml.test_write_xml', sys.modules[__name__])
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))

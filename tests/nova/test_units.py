"""Unit tests of the shim: validators, the flavor spec, the driver's XML
(plain untouched, omem = virt-omem convert's, valid), the inventory
planner, omemd's status reader, the backing after nova's migration
rewrite."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest
from unittest import mock

import shim_env

from lxml import etree

from nova.api.validation.extra_specs import validators
from nova import exception
from nova import objects
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import migration as libvirt_migration

from nova_omem import driver as omem_driver
from nova_omem import migration as omem_migration
from nova_omem import omemd_status
from nova_omem import placement
from nova_omem import spec

objects.register_all()

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, 'nova-domain.xml')) as f:
    NOVA_XML = f.read()
MIB = 1024 * 1024
GUARANTEED = 'resources:CUSTOM_OMEM_GUARANTEED_MB'


def convert(xml, *args):
    return subprocess.run([shim_env.VIRT_OMEM, 'convert', '-'] + list(args),
                          input=xml, capture_output=True, text=True,
                          check=True).stdout


def flavor(memory_mb, **specs):
    return objects.Flavor(name='f%d' % memory_mb, memory_mb=memory_mb,
                          extra_specs=specs)


def instance(memory_mb, system_metadata=None, **specs):
    if system_metadata is None:
        system_metadata = {'image_omem_guest': 'true'}
    return mock.Mock(flavor=flavor(memory_mb, **specs),
                     system_metadata=system_metadata)


def omem(min_mb, **more):
    return dict({'omem:enabled': 'true', 'omem:min_mb': str(min_mb),
                 GUARANTEED: str(min_mb)}, **more)


class TestValidators(unittest.TestCase):

    def test_loaded_through_the_entry_point(self):
        for key in ('omem:enabled', 'omem:min_mb', 'omem:cap_mb',
                    'omem:shares', 'omem:buffer_percent'):
            self.assertIn(key, validators.VALIDATORS)
            self.assertTrue(validators.VALIDATORS[key].description)

    def test_accepts(self):
        for key, value in (('omem:enabled', 'true'), ('omem:enabled', 'no'),
                           ('omem:min_mb', '512'), ('omem:cap_mb', '4096'),
                           ('omem:shares', '1'), ('omem:shares', '1000000'),
                           ('omem:buffer_percent', '0'),
                           ('omem:buffer_percent', '100')):
            validators.validate(key, value)

    def test_refuses_with_key_and_reason(self):
        for key, value, reason in (
                ('omem:enabled', 'maybe', 'omem:enabled'),
                ('omem:min_mb', '0', 'min value'),
                ('omem:min_mb', 'lots', 'omem:min_mb'),
                ('omem:shares', '0', 'min value'),
                ('omem:shares', '1000001', 'max value'),
                ('omem:buffer_percent', '101', 'max value'),
                ('omem:nonsense', '1', 'omem:nonsense')):
            with self.assertRaises(exception.ValidationError) as caught:
                validators.validate(key, value)
            message = caught.exception.format_message()
            self.assertIn(key, message)
            self.assertIn(reason, message)


class TestSpec(unittest.TestCase):

    def test_plain_flavors(self):
        self.assertIsNone(spec.flavor_spec(flavor(1024)))
        self.assertIsNone(spec.flavor_spec(
            flavor(1024, **{'omem:enabled': 'false', 'omem:min_mb': '512'})))

    def test_convert_args(self):
        omem_spec = spec.flavor_spec(flavor(2048, **omem(
            512, **{'omem:shares': '250', 'omem:buffer_percent': '20'})))
        self.assertEqual(['--max', '2048MiB', '--min', '512MiB',
                          '--shares', '250', '--buffer', '20'],
                         omem_spec.convert_args())
        omem_spec.check_placement_request()

    def test_cap_reaches_the_contract(self):
        omem_spec = spec.flavor_spec(flavor(2048, **omem(
            512, **{'omem:cap_mb': '1536'})))
        self.assertIn('--cap', omem_spec.convert_args())
        omem_xml = convert(NOVA_XML, *omem_spec.convert_args())
        cap = etree.fromstring(omem_xml.encode()).find(
            './metadata/{urn:omem:contract:1}contract/{urn:omem:contract:1}cap')
        self.assertIsNotNone(cap)
        self.assertEqual('bytes', cap.get('unit'))
        self.assertEqual(1536 * 1024 * 1024, int(cap.text))

    def test_placement_request_must_be_min(self):
        missing = spec.flavor_spec(flavor(2048, **{'omem:enabled': 'true',
                                                   'omem:min_mb': '512'}))
        self.assertRaisesRegex(spec.OmemSpecError, 'without resources',
                               missing.check_placement_request)
        other = spec.flavor_spec(flavor(2048, **dict(omem(512),
                                                     **{GUARANTEED: '1024'})))
        self.assertRaisesRegex(spec.OmemSpecError, 'must be equal',
                               other.check_placement_request)


class TestDriverXml(unittest.TestCase):
    """OmemLibvirtDriver._get_guest_xml on nova's XML, nova's part mocked:
    the functional tests run the whole thing."""

    def setUp(self):
        omem_driver.CONF.set_override('virt_omem_path', shim_env.VIRT_OMEM,
                                      group='omem')
        self.addCleanup(omem_driver.CONF.clear_override, 'virt_omem_path',
                        group='omem')
        self.driver = omem_driver.OmemLibvirtDriver.__new__(
            omem_driver.OmemLibvirtDriver)

    def _xml(self, an_instance, nova_xml=NOVA_XML):
        with mock.patch.object(libvirt_driver.LibvirtDriver, '_get_guest_xml',
                               return_value=nova_xml):
            return self.driver._get_guest_xml(None, an_instance, None, None,
                                              None)

    def test_plain_flavor_is_nova_s_own_text(self):
        self.assertIs(NOVA_XML, self._xml(instance(1024)))

    def test_omem_flavor_is_convert_s_output(self):
        xml = self._xml(instance(1024, **omem(512)))
        self.assertEqual(convert(NOVA_XML, '--max', '1024MiB', '--min',
                                 '512MiB'), xml)
        self.assertIn('virtio-mem', xml)
        if shutil.which('virt-xml-validate') is None:
            self.skipTest('virt-xml-validate missing (libvirt-clients)')
        with tempfile.NamedTemporaryFile('w', suffix='.xml') as f:
            f.write(xml)
            f.flush()
            result = subprocess.run(['virt-xml-validate', f.name, 'domain'],
                                    capture_output=True, text=True)
        self.assertEqual(0, result.returncode, result.stderr + result.stdout)

    def test_convert_s_refusals_name_the_flavor(self):
        locked = NOVA_XML.replace(
            '<vcpu>', '<memoryBacking><locked/></memoryBacking>\n  <vcpu>')
        with self.assertRaises(exception.InvalidInput) as caught:
            self._xml(instance(1024, **omem(512)), locked)
        self.assertIn('locked', caught.exception.format_message())
        self.assertIn('omem:min_mb=512', caught.exception.format_message())

    def test_image_without_omem_is_not_converted(self):
        an_instance = instance(1024, system_metadata={}, **omem(512))
        self.assertIs(NOVA_XML, self._xml(an_instance))


class TestPlanner(unittest.TestCase):

    def planner(self, **options):
        values = dict(wanted_ratio=1.5, hysteresis=0.1,
                      min_interval_seconds=600, fallback_budget_mb=0,
                      reserved_guaranteed_mb=0)
        values.update(options)
        return placement.InventoryPlanner(**values)

    def test_ratio_bounded_by_budget(self):
        plan = self.planner().plan(8704, 512, 1024 * MIB, 0)
        # 8 x 1024 guaranteed over 8192 usable: 1.0; the wanted 1.5 is
        # more than the budget backs.
        self.assertEqual(1.0, plan.memory_allocation_ratio)
        self.assertEqual(1024, plan.guaranteed_mb)
        plan = self.planner().plan(8704, 512, 8192 * MIB, 0)
        self.assertEqual(1.5, plan.memory_allocation_ratio)
        self.assertEqual([], plan.warnings)

    def test_damped(self):
        planner = self.planner()
        self.assertEqual(1.5, planner.plan(8704, 512, 8192 * MIB, 0)
                         .memory_allocation_ratio)
        # The budget drops: not before the interval has passed.
        self.assertEqual(1.5, planner.plan(8704, 512, 1300 * MIB, 10)
                         .memory_allocation_ratio)
        self.assertEqual(1.25, planner.plan(8704, 512, 1300 * MIB, 700)
                         .memory_allocation_ratio)
        # A change smaller than the hysteresis is never reported.
        self.assertEqual(1.25, planner.plan(8704, 512, 1350 * MIB, 2000)
                         .memory_allocation_ratio)

    def test_unreachable_keeps_the_last_good_budget(self):
        planner = self.planner()
        planner.plan(8704, 512, 4096 * MIB, 0)
        plan = planner.plan(8704, 512, None, 10, unreachable_reason='gone')
        self.assertEqual(4096, plan.guaranteed_mb)
        self.assertIn('gone', plan.warnings[0])

    def test_never_zero(self):
        plan = self.planner().plan(8704, 512, None, 0,
                                   unreachable_reason='not running')
        self.assertEqual(8192, plan.guaranteed_mb)
        self.assertTrue(plan.warnings)
        plan = self.planner(fallback_budget_mb=2048).plan(8704, 512, None, 0)
        self.assertEqual(2048, plan.guaranteed_mb)

    def test_inventory_records(self):
        inventory = {'MEMORY_MB': {'total': 8704, 'reserved': 512,
                                   'allocation_ratio': 1.0}}
        plan = placement.InventoryPlan(1.25, 3000, [])
        placement.apply_plan(inventory, plan)
        self.assertEqual(1.25, inventory['MEMORY_MB']['allocation_ratio'])
        guaranteed = inventory['CUSTOM_OMEM_GUARANTEED_MB']
        self.assertEqual((3000, 1.0, 3000), (guaranteed['total'],
                         guaranteed['allocation_ratio'],
                         guaranteed['max_unit']))


class TestOmemdStatus(unittest.TestCase):

    def serve(self, payload):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, 'status.sock')
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        self.addCleanup(server.close)

        def answer():
            connection, _ = server.accept()
            with connection:
                connection.sendall(payload)

        threading.Thread(target=answer, daemon=True).start()
        return path

    def test_budget(self):
        with open(os.path.join(HERE, '..', 'cli', 'status.json'), 'rb') as f:
            sample = f.read()
        path = self.serve(sample)
        self.assertEqual(json.loads(sample)['host']['budget_bytes'],
                         omemd_status.read_budget_bytes(path))

    def test_unreadable(self):
        for payload in (b'not json', b'{"version": 2}',
                        b'{"version": 1, "host": {}}'):
            path = self.serve(payload)
            self.assertRaises(omemd_status.OmemdUnreachable,
                              omemd_status.read_budget_bytes, path)
        self.assertRaises(omemd_status.OmemdUnreachable,
                          omemd_status.read_budget_bytes, '/nonexistent/sock')


class TestMigrationBacking(unittest.TestCase):

    def test_backing_restored_after_nova_s_rewrite(self):
        omem_spec = spec.flavor_spec(flavor(1024, **omem(512)))
        omem_xml = convert(NOVA_XML, *omem_spec.convert_args())
        tree = etree.fromstring(omem_xml.encode())
        # What nova's live migration does to <memoryBacking>.
        tree = libvirt_migration._update_memory_backing_xml(
            tree, objects.LibvirtLiveMigrateData())
        self.assertIsNone(tree.find('./memoryBacking/source'))
        migrated = etree.tostring(tree, encoding='unicode')
        restored = omem_migration.restore_omem_backing(
            shim_env.VIRT_OMEM, migrated, omem_spec)
        tree = etree.fromstring(restored.encode())
        self.assertEqual('memfd', tree.find('./memoryBacking/source')
                         .get('type'))
        self.assertEqual('shared', tree.find('./memoryBacking/access')
                         .get('mode'))
        self.assertIn('urn:omem:contract:1', restored)


if __name__ == '__main__':
    unittest.main()

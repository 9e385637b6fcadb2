"""omem through nova's own stack: nova-api, scheduler, conductor and a
compute running OmemLibvirtDriver on fakelibvirt, with the placement
fixture (python3-placement)."""

import datetime
import subprocess
from unittest import mock

import shim_env  # noqa: F401  (first: paths and state_path)

from lxml import etree
from oslo_utils.fixture import uuidsentinel as uuids

import nova.conf
from nova import context as nova_context
from nova import objects
from nova.tests.functional.api import client
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.tests.functional.libvirt import base

from nova_omem import conf as omem_conf

CONF = nova.conf.CONF
GUARANTEED = 'CUSTOM_OMEM_GUARANTEED_MB'
# The guaranteed memory the compute hosts report (no omemd runs here, so
# the configured fallback is what they offer).
BUDGET_MB = 1280
# 8 GiB hosts (fakelibvirt's HostInfo takes MiB in kB_mem, as getInfo).
HOST_MB = 8192


def omem_specs(min_mb, **more):
    specs = {'omem:enabled': 'true', 'omem:min_mb': str(min_mb),
             'resources:' + GUARANTEED: str(min_mb)}
    specs.update(more)
    return specs


def convert(xml, max_mb, min_mb):
    return subprocess.run(
        [shim_env.VIRT_OMEM, 'convert', '-', '--max', '%dMiB' % max_mb,
         '--min', '%dMiB' % min_mb],
        input=xml, capture_output=True, text=True, check=True).stdout


class OmemServersTest(base.ServersTestBase):
    ADMIN_API = True
    microversion = 'latest'

    def _setup_services(self):
        # nova's fixtures read $state_path/etc/nova/api-paste.ini; nova's
        # own test base resets a default set earlier, so override it here,
        # after the config fixture and before the API starts.
        self.flags(state_path=shim_env.STATE_PATH)
        super()._setup_services()

    def setUp(self):
        super().setUp()
        omem_conf.register_opts(CONF)
        self.flags(compute_driver='omem.OmemLibvirtDriver')
        self.flags(virt_omem_path=shim_env.VIRT_OMEM, budget_mb=BUDGET_MB,
                   status_socket='/nonexistent/omem-status.sock',
                   memory_allocation_ratio=1.5, group='omem')
        self.flags(allow_resize_to_same_host=True)
        # Every XML the driver hands libvirt, in order: (nova XML) pairs.
        self.created_xml = []
        original_create = nova.virt.libvirt.guest.Guest.create

        def record_create(cls, xml, host):
            self.created_xml.append(xml)
            return original_create(xml, host)

        self.stub_out('nova.virt.libvirt.guest.Guest.create', record_create)
        self.omem_image = self._add_image(uuids.omem_image,
                                          {'omem_guest': 'true'})
        self.plain_image = self._add_image(uuids.plain_image, {})

    @staticmethod
    def _no_disk_copy():
        # As nova's own libvirt functional tests do: fakelibvirt hosts
        # have no disks to move; the domain XML is still written anew.
        return mock.patch(
            'nova.virt.libvirt.driver.LibvirtDriver'
            '.migrate_disk_and_power_off', return_value='{}')

    def _start_host(self, hostname):
        return self.start_compute(hostname, host_info=fakelibvirt.HostInfo(
            cpu_nodes=1, cpu_sockets=1, cpu_cores=2, cpu_threads=2,
            kB_mem=HOST_MB))

    def _add_image(self, image_id, properties):
        stamp = datetime.datetime(2026, 1, 1)
        self.glance.create(None, {
            'id': image_id, 'name': str(image_id), 'created_at': stamp,
            'updated_at': stamp, 'deleted_at': None, 'deleted': False,
            'status': 'active', 'is_public': True, 'container_format': 'bare',
            'disk_format': 'qcow2', 'size': '1024', 'min_ram': 0,
            'min_disk': 0, 'protected': False, 'visibility': 'public',
            'tags': [], 'properties': properties})
        return image_id

    def _boot(self, flavor_id, image_id=None, expected_state='ACTIVE'):
        return self._create_server(
            image_uuid=image_id or self.omem_image, flavor_id=flavor_id,
            networks='none', expected_state=expected_state)

    def _allocated(self, server, resource_class):
        allocations = self._get_allocations_by_server_uuid(server['id'])
        return sum(a['resources'].get(resource_class, 0)
                   for a in allocations.values())

    def _assert_omem_xml(self, xml, max_mb, min_mb):
        """XML is convert's output for the same domain as nova's (convert
        is idempotent), with the contract of MAX_MB/MIN_MB."""
        self.assertEqual(convert(xml, max_mb, min_mb), xml)
        tree = etree.fromstring(xml)
        self.assertEqual(str(max_mb * 1024), tree.find('./memory').text)
        self.assertEqual('memfd',
                         tree.find('./memoryBacking/source').get('type'))
        self.assertIsNotNone(tree.find("./devices/memory[@model='virtio-mem']"))
        namespace = {'omem': 'urn:omem:contract:1'}
        minimum = tree.find('./metadata/omem:contract/omem:min', namespace)
        self.assertEqual(str(min_mb * 1024 * 1024), minimum.text)

    def test_bad_extra_specs_refused_at_the_api(self):
        self._start_host('compute1')
        flavor = self._create_flavor(memory_mb=2048)
        for key, value in (('omem:shares', '0'),
                           ('omem:buffer_percent', '101'),
                           ('omem:min_mb', 'lots'),
                           ('omem:enabled', 'maybe'),
                           ('omem:unknown', '1')):
            error = self.assertRaises(
                client.OpenStackApiException, self.admin_api.post_extra_spec,
                flavor, {'extra_specs': {key: value}})
            self.assertEqual(400, error.response.status_code, key)
            self.assertIn(key, error.response.text)

    def test_boot_resize_reboot(self):
        compute = self._start_host('compute1')
        rp_uuid = self.compute_rp_uuids[compute]
        inventory = self._get_provider_inventory(rp_uuid)
        self.assertEqual(BUDGET_MB, inventory[GUARANTEED]['total'])
        self.assertEqual(1.0, inventory[GUARANTEED]['allocation_ratio'])
        memory = inventory['MEMORY_MB']
        # Bounded by the budget: 8 x guaranteed, below the wanted 1.5.
        capacity = (memory['total'] - memory['reserved']) * \
            memory['allocation_ratio']
        self.assertLessEqual(capacity, 8 * BUDGET_MB)
        self.assertGreaterEqual(memory['allocation_ratio'], 1.0)
        self.assertLess(memory['allocation_ratio'], 1.5)

        flavor = self._create_flavor(memory_mb=2048, extra_spec=omem_specs(512))
        server = self._boot(flavor)
        self.assertEqual(2048, self._allocated(server, 'MEMORY_MB'))
        self.assertEqual(512, self._allocated(server, GUARANTEED))
        self._assert_omem_xml(self.created_xml[-1], 2048, 512)

        # Up: the contract follows the new flavor.
        # (During the resize, the old 512 MiB stay held for a revert.)
        bigger = self._create_flavor(memory_mb=4096,
                                     extra_spec=omem_specs(768))
        with self._no_disk_copy():
            server = self._resize_server(server, bigger)
        self._assert_omem_xml(self.created_xml[-1], 4096, 768)
        server = self._confirm_resize(server)
        self.assertEqual(4096, self._allocated(server, 'MEMORY_MB'))
        self.assertEqual(768, self._allocated(server, GUARANTEED))

        # Down.
        smaller = self._create_flavor(memory_mb=1024,
                                      extra_spec=omem_specs(256))
        with self._no_disk_copy():
            server = self._resize_server(server, smaller)
        self._assert_omem_xml(self.created_xml[-1], 1024, 256)
        server = self._confirm_resize(server)
        self.assertEqual(256, self._allocated(server, GUARANTEED))

        count = len(self.created_xml)
        server = self._reboot_server(server, hard=True)
        self.assertEqual(count + 1, len(self.created_xml))
        self._assert_omem_xml(self.created_xml[-1], 1024, 256)

        # Cold migration to a second host writes the domain there.
        self._start_host('compute2')
        with self._no_disk_copy():
            server = self._migrate_server(server)
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])
        self._assert_omem_xml(self.created_xml[-1], 1024, 256)
        server = self._confirm_resize(server)
        self.assertEqual(256, self._allocated(server, GUARANTEED))

        # Rescue regenerates the XML with the rescue disk.
        count = len(self.created_xml)
        self.api.post_server_action(server['id'], {'rescue': None})
        server = self._wait_for_state_change(server, 'RESCUE')
        self.assertEqual(count + 1, len(self.created_xml))
        self._assert_omem_xml(self.created_xml[-1], 1024, 256)

    def test_plain_flavor_untouched(self):
        self._start_host('compute1')
        flavor = self._create_flavor(memory_mb=1024)
        server = self._boot(flavor)
        xml = self.created_xml[-1]
        self.assertNotIn('urn:omem:contract:1', xml)
        self.assertNotIn('virtio-mem', xml)
        self.assertEqual(0, self._allocated(server, GUARANTEED))

    def test_refusals_become_the_fault(self):
        self._start_host('compute1')
        cases = (
            # min above the flavor's RAM and below an eighth of it:
            # convert's own refusals.
            (1024, omem_specs(1200), 'omem:min_mb=1200'),
            (2048, omem_specs(128), 'outside boot'),
            # placement must reserve what is guaranteed.
            (2048, dict(omem_specs(512), **{'resources:' + GUARANTEED: '256'}),
             'must be equal'),
        )
        for memory_mb, specs, reason in cases:
            flavor = self._create_flavor(memory_mb=memory_mb, extra_spec=specs)
            server = self._boot(flavor, expected_state='ERROR')
            self.assertIn(reason, server['fault']['message'], specs)

    def test_image_without_omem_boots_at_min(self):
        self._start_host('compute1')
        flavor = self._create_flavor(memory_mb=2048, extra_spec=omem_specs(512))
        server = self._boot(flavor, image_id=self.plain_image)
        tree = etree.fromstring(self.created_xml[-1])
        self.assertEqual(str(512 * 1024), tree.find('./memory').text)
        self.assertIsNone(tree.find("./devices/memory[@model='virtio-mem']"))
        faults = objects.InstanceFaultList.get_by_instance_uuids(
            nova_context.get_admin_context(), [server['id']])
        self.assertTrue(any('omem_guest' in f.message for f in faults))

    def test_guaranteed_memory_exhausted(self):
        self._start_host('compute1')
        flavor = self._create_flavor(memory_mb=2048,
                                     extra_spec=omem_specs(512))
        self._boot(flavor)
        self._boot(flavor)
        # 1024 of 1280 guaranteed MiB are taken: a third does not fit,
        # although MEMORY_MB has room for it.
        rp_uuid = self.compute_rp_uuids['compute1']
        usages = self._get_provider_usages(rp_uuid)
        inventory = self._get_provider_inventory(rp_uuid)['MEMORY_MB']
        room = ((inventory['total'] - inventory['reserved']) *
                inventory['allocation_ratio'] - usages['MEMORY_MB'])
        self.assertGreaterEqual(room, 2048)
        server = self._boot(flavor, expected_state='ERROR')
        self.assertIn('No valid host', server['fault']['message'])
        # A second host's guaranteed memory takes it.
        self._start_host('compute2')
        server = self._boot(flavor)
        self.assertEqual('compute2', server['OS-EXT-SRV-ATTR:host'])

    def test_live_migration_refused(self):
        self._start_host('compute1')
        self._start_host('compute2')
        flavor = self._create_flavor(memory_mb=2048, extra_spec=omem_specs(512))
        server = self._boot(flavor)
        host = server['OS-EXT-SRV-ATTR:host']
        # Calls are synchronous here, so the scheduler's "no valid host"
        # after the source's refusal reaches the API.
        self.assertRaises(
            client.OpenStackApiException, self.admin_api.post_server_action,
            server['id'], {'os-migrateLive': {'host': None,
                                              'block_migration': 'auto'}})
        self.assertIn('omem instances cannot live-migrate',
                      self.stdlog.logger.output)
        server = self.admin_api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(host, server['OS-EXT-SRV-ATTR:host'])

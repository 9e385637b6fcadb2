"""OmemLibvirtDriver: nova's libvirt driver, with omem flavors' domains
made by virt-omem convert.

Every path that writes a domain (spawn, hard reboot, resize and its
revert, cold migration, rescue, unshelve, evacuate) goes through
LibvirtDriver._get_guest_xml, so that is the one place the transform is
applied, with the flavor the instance has at that moment: after a resize
the contract follows the new flavor.  An ordinary flavor's XML is
returned untouched, byte for byte.  Live migration is refused for omem
instances until omem supports it (omemd's ivshmem peer device blocks
QEMU's migration)."""

import time

from oslo_log import log as logging

import nova.conf
from nova.compute import utils as compute_utils
from nova import exception
from nova.virt.libvirt import driver as libvirt_driver

from nova_omem import conf as omem_conf
from nova_omem import omemd_status
from nova_omem import placement
from nova_omem import spec
from nova_omem import transform

LOG = logging.getLogger(__name__)
CONF = nova.conf.CONF
omem_conf.register_opts(CONF)


class OmemGuestNotCapable(Exception):
    """Recorded as the instance's fault when its image lacks omem."""


class OmemLibvirtDriver(libvirt_driver.LibvirtDriver):

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only=read_only)
        omem_conf.register_opts(CONF)
        self._omem_planner = placement.InventoryPlanner(
            wanted_ratio=CONF.omem.memory_allocation_ratio,
            hysteresis=CONF.omem.ratio_hysteresis,
            min_interval_seconds=CONF.omem.ratio_min_interval,
            fallback_budget_mb=CONF.omem.budget_mb,
            reserved_guaranteed_mb=CONF.omem.reserved_guaranteed_mb)

    @staticmethod
    def _omem_spec(instance):
        """The instance's omem request; InvalidInput names what is wrong,
        which stops a build without rescheduling and becomes its fault."""
        try:
            omem_spec = spec.flavor_spec(instance.flavor)
            if omem_spec is not None:
                omem_spec.check_placement_request()
        except spec.OmemSpecError as error:
            raise exception.InvalidInput(reason='omem: %s' % error)
        return omem_spec

    def _get_guest_config(self, instance, network_info, image_meta,
                          disk_info, rescue=None, block_device_info=None,
                          context=None, mdevs=None, accel_info=None):
        guest = super()._get_guest_config(
            instance, network_info, image_meta, disk_info, rescue=rescue,
            block_device_info=block_device_info, context=context,
            mdevs=mdevs, accel_info=accel_info)
        omem_spec = self._omem_spec(instance)
        if omem_spec is not None and not spec.image_is_omem_guest(instance):
            # A guest that cannot take part boots at what is guaranteed,
            # which is all placement reserved for sure.
            self._omem_boot_at_min(guest, omem_spec)
        return guest

    @staticmethod
    def _omem_boot_at_min(guest, omem_spec):
        min_kib = omem_spec.min_mb * 1024
        cells = guest.cpu.numa.cells if guest.cpu and guest.cpu.numa else []
        if cells:
            total = sum(cell.memory for cell in cells)
            left = min_kib
            for cell in cells[:-1]:
                cell.memory = cell.memory * min_kib // total
                left -= cell.memory
            cells[-1].memory = left
        guest.memory = min_kib

    def _get_guest_xml(self, context, instance, network_info, disk_info,
                       image_meta, rescue=None, block_device_info=None,
                       mdevs=None, accel_info=None):
        xml = super()._get_guest_xml(
            context, instance, network_info, disk_info, image_meta,
            rescue=rescue, block_device_info=block_device_info,
            mdevs=mdevs, accel_info=accel_info)
        omem_spec = self._omem_spec(instance)
        if omem_spec is None:
            return xml
        if not spec.image_is_omem_guest(instance):
            self._omem_warn_not_capable(context, instance, omem_spec)
            return xml
        try:
            return transform.convert(CONF.omem.virt_omem_path, xml,
                                     omem_spec.convert_args())
        except transform.OmemTransformError as error:
            raise exception.InvalidInput(
                reason='omem flavor %s (RAM %d MiB, omem:min_mb=%d) cannot '
                       'be served: %s' % (instance.flavor.name,
                                          omem_spec.max_mb, omem_spec.min_mb,
                                          error))

    @staticmethod
    def _omem_warn_not_capable(context, instance, omem_spec):
        message = ('omem: image has no %s=true property, so the guest boots '
                   'with its guaranteed %d MiB instead of growing to %d MiB'
                   % (spec.IMAGE_PROPERTY, omem_spec.min_mb,
                      omem_spec.max_mb))
        LOG.warning(message, instance=instance)
        if context is None:
            return
        try:
            raise OmemGuestNotCapable(message)
        except OmemGuestNotCapable as error:
            compute_utils.add_instance_fault_from_exc(
                context, instance, error, fault_message=message)

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        if spec.flavor_spec(instance.flavor) is not None:
            raise exception.MigrationPreCheckError(
                reason='omem instances cannot live-migrate yet (omemd\'s '
                       'ivshmem device blocks QEMU migration); use cold '
                       'migration or resize')
        return super().check_can_live_migrate_source(
            context, instance, dest_check_data,
            block_device_info=block_device_info)

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        super().update_provider_tree(provider_tree, nodename,
                                     allocations=allocations)
        inventory = provider_tree.data(nodename).inventory
        memory = inventory['MEMORY_MB']
        budget, reason = None, None
        try:
            budget = omemd_status.read_budget_bytes(CONF.omem.status_socket)
        except omemd_status.OmemdUnreachable as error:
            reason = str(error)
        plan = self._omem_planner.plan(
            memory['total'], memory['reserved'], budget, time.monotonic(),
            unreachable_reason=reason)
        for warning in plan.warnings:
            LOG.warning(warning)
        provider_tree.update_inventory(
            nodename, placement.apply_plan(inventory, plan))

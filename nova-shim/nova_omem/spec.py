"""What an omem flavor and image ask for: the flavor's omem: extra specs
read into one object, and the image property that says the guest can take
part.  Only reading and the checks that are nova's own business (the
placement request); the contract's rules belong to virt-omem convert."""

import dataclasses
import typing as ty

from oslo_utils import strutils

NAMESPACE = 'omem'
GUARANTEED_RESOURCE_CLASS = 'CUSTOM_OMEM_GUARANTEED_MB'
# The image property that says the guest carries omem_client.ko and boots
# with memhp_default_state=online_movable.  Outside nova's hw_ namespace:
# nova's ImageMetaProps drops properties it does not know, so the driver
# reads it from the instance's system metadata (image_ prefix).
IMAGE_PROPERTY = 'omem_guest'


class OmemSpecError(ValueError):
    """An omem flavor that cannot be served; the message names the key."""


@dataclasses.dataclass(frozen=True)
class OmemFlavorSpec:
    """An omem flavor's request; sizes in MiB as nova's flavors have them."""
    max_mb: int            # the flavor's RAM
    min_mb: int            # guaranteed; the flavor's RAM when not given
    min_given: bool
    cap_mb: ty.Optional[int]
    shares: ty.Optional[int]
    buffer_percent: ty.Optional[int]
    guaranteed_request: ty.Optional[int]   # resources:CUSTOM_OMEM_GUARANTEED_MB

    def convert_args(self):
        """virt-omem convert's options for this flavor."""
        args = ['--max', '%dMiB' % self.max_mb]
        if self.min_given:
            args += ['--min', '%dMiB' % self.min_mb]
        if self.cap_mb is not None:
            args += ['--cap', '%dMiB' % self.cap_mb]
        if self.shares is not None:
            args += ['--shares', str(self.shares)]
        if self.buffer_percent is not None:
            args += ['--buffer', str(self.buffer_percent)]
        return args

    def check_placement_request(self):
        """The guaranteed memory placement reserves must be the contract's
        min, or the scheduler would promise what omemd does not hold."""
        if self.guaranteed_request is None:
            raise OmemSpecError(
                'omem flavor without resources:%s: set it to omem:min_mb '
                '(%d) so placement reserves the guaranteed memory'
                % (GUARANTEED_RESOURCE_CLASS, self.min_mb))
        if self.guaranteed_request != self.min_mb:
            raise OmemSpecError(
                'resources:%s is %d but omem:min_mb is %d: they must be '
                'equal' % (GUARANTEED_RESOURCE_CLASS,
                           self.guaranteed_request, self.min_mb))


def _int_spec(extra_specs, key):
    text = extra_specs.get(key)
    if text is None:
        return None
    try:
        return int(str(text).strip())
    except ValueError:
        raise OmemSpecError('%s=%r is not an integer' % (key, text))


def flavor_spec(flavor):
    """The omem request of a nova flavor, or None for an ordinary flavor."""
    extra_specs = flavor.extra_specs or {}
    enabled = extra_specs.get('omem:enabled')
    if enabled is None or not strutils.bool_from_string(enabled, strict=False):
        return None
    min_mb = _int_spec(extra_specs, 'omem:min_mb')
    return OmemFlavorSpec(
        max_mb=flavor.memory_mb,
        min_mb=min_mb if min_mb is not None else flavor.memory_mb,
        min_given=min_mb is not None,
        cap_mb=_int_spec(extra_specs, 'omem:cap_mb'),
        shares=_int_spec(extra_specs, 'omem:shares'),
        buffer_percent=_int_spec(extra_specs, 'omem:buffer_percent'),
        guaranteed_request=_int_spec(
            extra_specs, 'resources:' + GUARANTEED_RESOURCE_CLASS))


def image_is_omem_guest(instance):
    """True when the instance's image says its guest takes part."""
    system_metadata = instance.system_metadata or {}
    value = system_metadata.get('image_' + IMAGE_PROPERTY)
    return value is not None and strutils.bool_from_string(value, strict=False)

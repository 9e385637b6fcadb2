"""Validators for the omem: flavor extra specs, loaded by nova-api through
the stevedore group nova.api.extra_spec_validators (entry point "omem").
nova validates one key at a time here, so these check each value's type
and range; whether the figures fit the flavor (min against its RAM,
locked memory, hugepages, PCI passthrough) is virt-omem convert's
judgement on the domain, made by the driver (docs/nova.md, "Refusals")."""

import dataclasses

from nova.api.validation.extra_specs import base
from nova import exception

# The contract's own limits (docs/contract.md).
SHARES_MAX = 1000000
BUFFER_PERCENT_MAX = 100



@dataclasses.dataclass
class OmemExtraSpecValidator(base.ExtraSpecValidator):
    """nova's validator, with the key in every refusal: nova's range
    messages name only the value."""

    def validate(self, name, value):
        try:
            super().validate(name, value)
        except exception.ValidationError as error:
            raise exception.ValidationError(
                '%s=%r refused: %s' % (name, value, error.format_message()))


EXTRA_SPEC_VALIDATORS = [
    OmemExtraSpecValidator(
        name='omem:enabled',
        description=(
            'Whether the instance is an omem domain: flavor RAM is its '
            'largest size, omem:min_mb what is guaranteed, and omemd grows '
            'and shrinks it in between by virtio-mem.'),
        value={'type': bool},
    ),
    OmemExtraSpecValidator(
        name='omem:min_mb',
        description=(
            'Guaranteed RAM in MiB (the contract\'s min): at most the '
            'flavor\'s RAM and at least an eighth of it. Placement must '
            'reserve the same amount as resources:CUSTOM_OMEM_GUARANTEED_MB. '
            'Default: the flavor\'s RAM.'),
        value={'type': int, 'min': 1},
    ),
    OmemExtraSpecValidator(
        name='omem:cap_mb',
        description=(
            'The operator\'s limit in MiB, between omem:min_mb and the '
            'flavor\'s RAM. Default: the flavor\'s RAM.'),
        value={'type': int, 'min': 1},
    ),
    OmemExtraSpecValidator(
        name='omem:shares',
        description='Weight under contention for memory. Default: 1000.',
        value={'type': int, 'min': 1, 'max': SHARES_MAX},
    ),
    OmemExtraSpecValidator(
        name='omem:buffer_percent',
        description=(
            'Headroom omemd keeps above the guest\'s demand, in percent. '
            'Default: 10.'),
        value={'type': int, 'min': 0, 'max': BUFFER_PERCENT_MAX},
    ),
]


def register():
    return EXTRA_SPEC_VALIDATORS

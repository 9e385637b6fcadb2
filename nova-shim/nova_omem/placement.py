"""The two memory inventories of an omem host, as pure decisions:

- MEMORY_MB, consumed by every flavor's RAM (an omem flavor's max), with an
  allocation ratio the operator configures, bounded by what omemd's budget
  can back and damped so it changes rarely and never flaps;
- CUSTOM_OMEM_GUARANTEED_MB, ratio 1.0, total = what omemd may promise,
  consumed by omem flavors' omem:min_mb.

So the scheduler overcommits max but never promises more guaranteed
memory than exists.  The planner keeps the last good budget: an omemd
that does not answer leaves the inventory where it was, never at zero."""

import dataclasses
import math
import typing as ty

from nova_omem import spec

MIB = 1024 * 1024
# boot >= max/8 and min >= boot (docs/contract.md): the sum of omem VMs'
# max can never exceed 8 times the sum of their mins, so no ratio above
# this can be used by omem flavors that fit the guaranteed inventory.
MAX_OF_MIN_FACTOR = 8
# Ratios are reported in these steps, so noise in the budget does not
# become a new ratio at all.
RATIO_STEP = 0.05


@dataclasses.dataclass
class InventoryPlan:
    memory_allocation_ratio: float
    guaranteed_mb: int
    warnings: ty.List[str]


class InventoryPlanner:
    """Decides both inventories, update after update, for one host."""

    def __init__(self, wanted_ratio, hysteresis, min_interval_seconds,
                 fallback_budget_mb, reserved_guaranteed_mb):
        self.wanted_ratio = wanted_ratio
        self.hysteresis = hysteresis
        self.min_interval_seconds = min_interval_seconds
        self.fallback_budget_mb = fallback_budget_mb
        self.reserved_guaranteed_mb = reserved_guaranteed_mb
        self.last_good_budget_mb = None
        self.reported_ratio = None
        self.ratio_changed_at = None

    def _bounded_ratio(self, memory_total_mb, memory_reserved_mb,
                       guaranteed_mb):
        usable_mb = memory_total_mb - memory_reserved_mb
        if usable_mb <= 0:
            return 1.0
        bound = MAX_OF_MIN_FACTOR * guaranteed_mb / usable_mb
        ratio = min(self.wanted_ratio, bound)
        # Static sizing needs no omemd: never below 1.0.
        ratio = max(1.0, math.floor(ratio / RATIO_STEP) * RATIO_STEP)
        return round(ratio, 2)

    def plan(self, memory_total_mb, memory_reserved_mb, budget_bytes, now,
             unreachable_reason=None):
        """BUDGET_BYTES is omemd's budget, None when it did not answer
        (UNREACHABLE_REASON says why); NOW is a monotonic time in seconds."""
        warnings = []
        if budget_bytes is not None and budget_bytes > 0:
            self.last_good_budget_mb = budget_bytes // MIB
        elif self.last_good_budget_mb is not None:
            warnings.append(
                'omemd did not answer (%s): keeping the last good budget, '
                '%d MiB' % (unreachable_reason or 'no budget',
                            self.last_good_budget_mb))
        budget_mb = self.last_good_budget_mb
        if budget_mb is None:
            budget_mb = (self.fallback_budget_mb or
                         memory_total_mb - memory_reserved_mb)
            warnings.append(
                'omemd has not answered yet (%s): reporting %d MiB of '
                'guaranteed memory from the configuration'
                % (unreachable_reason or 'no budget', budget_mb))
        guaranteed_mb = max(1, budget_mb - self.reserved_guaranteed_mb)

        ratio = self._bounded_ratio(memory_total_mb, memory_reserved_mb,
                                    guaranteed_mb)
        if self.reported_ratio is None:
            self.reported_ratio, self.ratio_changed_at = ratio, now
        elif (abs(ratio - self.reported_ratio) >= self.hysteresis and
              now - self.ratio_changed_at >= self.min_interval_seconds):
            self.reported_ratio, self.ratio_changed_at = ratio, now
        return InventoryPlan(self.reported_ratio, guaranteed_mb, warnings)


def guaranteed_inventory(guaranteed_mb):
    """The placement inventory record of the guaranteed class."""
    return {
        'total': guaranteed_mb,
        'reserved': 0,
        'min_unit': 1,
        'max_unit': guaranteed_mb,
        'step_size': 1,
        'allocation_ratio': 1.0,
    }


def apply_plan(inventory, plan):
    """Put PLAN into nova's inventory dict (resource class -> record)."""
    inventory['MEMORY_MB']['allocation_ratio'] = plan.memory_allocation_ratio
    inventory[spec.GUARANTEED_RESOURCE_CLASS] = guaranteed_inventory(
        plan.guaranteed_mb)
    return inventory

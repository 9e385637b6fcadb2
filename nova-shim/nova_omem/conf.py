"""The [omem] section of nova.conf, read by the driver on the compute host."""

from oslo_config import cfg

omem_group = cfg.OptGroup(
    'omem', title='omem', help='omem: outsourced guest memory (docs/nova.md).')

omem_opts = [
    cfg.StrOpt('virt_omem_path', default='virt-omem',
               help='The virt-omem command; its "convert" makes every omem '
                    'domain XML, so the shim never transforms XML itself.'),
    cfg.StrOpt('status_socket', default='/run/omem/status.sock',
               help="omemd's status socket, read for the host budget."),
    cfg.FloatOpt('memory_allocation_ratio', default=1.5, min=1.0,
                 help='MEMORY_MB allocation ratio wanted for omem hosts; '
                      'bounded by what the budget can back (8 x the '
                      'guaranteed memory: boot >= max/8 and min >= boot).'),
    cfg.FloatOpt('ratio_hysteresis', default=0.1, min=0.0,
                 help='A new MEMORY_MB ratio smaller than this away from '
                      'the reported one is not reported, so it never flaps.'),
    cfg.IntOpt('ratio_min_interval', default=600, min=0,
               help='Seconds between two changes of the reported ratio.'),
    cfg.IntOpt('budget_mb', default=0, min=0,
               help='Guaranteed memory to report while omemd has never '
                    'answered since nova-compute started; 0: the host '
                    "MEMORY_MB total minus its reserve."),
    cfg.IntOpt('reserved_guaranteed_mb', default=0, min=0,
               help='Part of omemd\'s budget not offered as '
                    'CUSTOM_OMEM_GUARANTEED_MB (e.g. QEMU overheads).'),
]


def register_opts(conf):
    conf.register_group(omem_group)
    conf.register_opts(omem_opts, group=omem_group)


def list_opts():
    return {omem_group: omem_opts}

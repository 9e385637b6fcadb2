# nova imports compute_driver as nova.virt.<value>; installed as
# nova/virt/omem.py so that compute_driver = omem.OmemLibvirtDriver works.
from nova_omem.driver import OmemLibvirtDriver  # noqa: F401

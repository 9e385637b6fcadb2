"""omem for OpenStack nova: flavor extra-spec validators, a libvirt compute
driver that writes omem domains through virt-omem convert, and the
placement inventories that let the scheduler overcommit maximum memory
without over-promising guaranteed memory (docs/nova.md)."""

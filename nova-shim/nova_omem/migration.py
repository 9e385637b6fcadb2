"""What nova's live-migration rewrite strips from an omem domain, put
back: nova/virt/libvirt/migration.py empties <memoryBacking> of <source>
and <access> (memfd, shared), which omem's virtio-mem needs.  Converting
the rewritten XML again with the same flavor restores them, since convert
is idempotent on an omem domain; no XML is edited here."""

from nova_omem import transform


def restore_omem_backing(virt_omem_path, migrated_xml, omem_spec):
    """MIGRATED_XML (nova's get_updated_guest_xml) with omem's backing."""
    if omem_spec is None:
        return migrated_xml
    return transform.convert(virt_omem_path, migrated_xml,
                             omem_spec.convert_args())

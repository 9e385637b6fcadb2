"""The edit that lets this host's libvirtd start the domain XML nova's
driver wrote under fakelibvirt, and the check that it touched nothing of
omem's.  Used by tests/nova/e2e.sh.

Under fakelibvirt the XML names paths of a nova host that do not exist
here.  The edit changes only what must be local to this host:

  <name>                 the harness's omemtest-LABEL-PID (its cleanup
                         and omemd's --domains go by name)
  <os><kernel>, <initrd> the harness's kernel and busybox initramfs
                         (nova would have downloaded the image's
                         kernel_id and ramdisk_id into the instance dir)
  <devices><disk>        dropped: the initramfs guest needs no disk, and
                         nova's disk file is in the fake instance dir
  <devices><serial>      nova's pty (logged into the instance dir) becomes
                         the unix socket the harness's console reader uses

Nothing else changes; everything the transform wrote (memory sizes, NUMA
cells, virtio-mem device, memfd backing, PCI hotplug slot, balloon, kernel
command line, the omem contract) is the driver's, byte for byte, which
`compare` checks.

  host_local.py edit DRIVER_XML NAME KERNEL INITRD CONSOLE_SOCKET  > XML
  host_local.py compare DRIVER_XML EDITED_XML
  host_local.py contract XML     the contract element, canonical form
  host_local.py value XML XPATH  the string value of XPATH in XML

compare prints one line per omem part ("same PART") and exits 1 on the
first difference, naming it."""

import sys

from lxml import etree

CONTRACT_NAMESPACE = 'urn:omem:contract:1'
NAMESPACES = {'omem': CONTRACT_NAMESPACE}
# What the edit replaces or removes (XPath from the root).
HOST_LOCAL = ('./name', './os/kernel', './os/initrd', './devices/disk',
              './devices/serial')
# What omem's transform writes, each a list of elements (XPath).
OMEM_PARTS = (
    ('memory', './memory'),
    ('maxMemory', './maxMemory'),
    ('currentMemory', './currentMemory'),
    ('memoryBacking', './memoryBacking'),
    ('NUMA cells', './cpu/numa'),
    ('kernel command line', './os/cmdline'),
    ('virtio-mem device', "./devices/memory[@model='virtio-mem']"),
    ('PCI hotplug controllers', "./devices/controller[@type='pci']"),
    ('balloon', './devices/memballoon'),
    ('contract', './metadata/omem:contract'),
)


def read(path):
    return etree.parse(path, etree.XMLParser(remove_comments=False))


def remove(element):
    """Drop ELEMENT and the indentation before it."""
    parent = element.getparent()
    previous = element.getprevious()
    if previous is not None:
        previous.tail = element.tail
    else:
        parent.text = element.tail
    parent.remove(element)


def edit(driver_xml, name, kernel, initrd, console_socket):
    tree = read(driver_xml)
    root = tree.getroot()
    root.find('./name').text = name
    root.find('./os/kernel').text = kernel
    root.find('./os/initrd').text = initrd
    for disk in root.findall('./devices/disk'):
        remove(disk)
    serials = root.findall('./devices/serial')
    if len(serials) != 1:
        sys.exit('host_local: expected one <serial> in %s, found %d'
                 % (driver_xml, len(serials)))
    serial = serials[0]
    tail = serial.tail
    serial.clear()
    serial.tail = tail
    serial.set('type', 'unix')
    indent = (serial.getprevious().tail if serial.getprevious() is not None
              else serial.getparent().text) or '\n'
    serial.text = indent + '  '
    etree.SubElement(serial, 'source', mode='bind', path=console_socket)
    serial[0].tail = indent + '  '
    etree.SubElement(serial, 'target', port='0').tail = indent
    return etree.tostring(tree, encoding='unicode') + '\n'


def serialize(elements):
    return b''.join(etree.tostring(element, with_tail=False)
                    for element in elements)


def without_host_local(tree):
    copy = etree.fromstring(etree.tostring(tree))
    for path in HOST_LOCAL:
        for element in copy.findall(path):
            element.getparent().remove(element)
    return etree.tostring(copy)


def compare(driver_xml, edited_xml):
    driver, edited = read(driver_xml), read(edited_xml)
    for part, path in OMEM_PARTS:
        want = serialize(driver.getroot().xpath(path, namespaces=NAMESPACES))
        got = serialize(edited.getroot().xpath(path, namespaces=NAMESPACES))
        if not want:
            print('the driver wrote no %s (%s)' % (part, path))
            return 1
        if want != got:
            print('%s differs:\n  driver: %s\n  edited: %s'
                  % (part, want.decode(), got.decode()))
            return 1
        print('same %s' % part)
    if without_host_local(driver) != without_host_local(edited):
        print('the edit changed more than %s' % ', '.join(HOST_LOCAL))
        return 1
    print('same everything but %s' % ', '.join(HOST_LOCAL))
    return 0


def without_namespaces(element):
    """A copy of ELEMENT with its tags' namespaces dropped."""
    copy = etree.Element(etree.QName(element).localname, dict(element.attrib))
    copy.text = element.text
    for child in element:
        copy.append(without_namespaces(child))
    copy.tail = element.tail
    return copy


def contract(xml):
    """The contract element of XML (a domain, or what `virsh metadata`
    prints: libvirt gives it back without its namespace) in canonical
    form, without namespaces and whitespace between elements, so the
    driver's and libvirt's copies compare."""
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.parse(xml, parser).getroot()
    if etree.QName(root).localname == 'contract':
        element = root
    else:
        found = root.xpath('./metadata/omem:contract', namespaces=NAMESPACES)
        if not found:
            sys.exit('host_local: no omem contract in %s' % xml)
        element = found[0]
    print(etree.tostring(without_namespaces(element), method='c14n').decode())
    return 0


def main(argv):
    if len(argv) == 7 and argv[1] == 'edit':
        sys.stdout.write(edit(*argv[2:]))
        return 0
    if len(argv) == 4 and argv[1] == 'compare':
        return compare(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == 'contract':
        return contract(argv[2])
    if len(argv) == 4 and argv[1] == 'value':
        print(read(argv[2]).xpath('string(%s)' % argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))

"""The omem domain transform, called, never re-implemented: every omem
domain XML the shim hands libvirt is what `virt-omem convert` printed for
nova's own XML (docs/transform.md), and every refusal is convert's."""

import subprocess

# convert is pure XML work; anything this slow is stuck.
CONVERT_TIMEOUT_SECONDS = 30


class OmemTransformError(Exception):
    """convert refused the domain (or could not run); str() is its reason."""


def convert(virt_omem_path, domain_xml, args):
    """The omem domain XML for nova's DOMAIN_XML with convert's ARGS."""
    command = [virt_omem_path, 'convert', '-'] + list(args)
    try:
        result = subprocess.run(
            command, input=domain_xml, capture_output=True, text=True,
            timeout=CONVERT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise OmemTransformError('cannot run %s convert: %s'
                                 % (virt_omem_path, error))
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()
        reason = reason[-1] if reason else 'exit %d' % result.returncode
        # "virt-omem: error: standard input: " says nothing to nova's user.
        for prefix in ('virt-omem: error: ', 'standard input: '):
            if reason.startswith(prefix):
                reason = reason[len(prefix):]
        raise OmemTransformError(reason)
    return result.stdout

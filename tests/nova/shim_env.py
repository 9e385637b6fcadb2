"""Where the tests find the shim, virt-omem and nova's api-paste.ini.

The shell wrappers install nova-shim with nova-shim/install --root into a
scratch folder and export NOVA_SHIM_SITE; the tests import that installed
copy, so the install step and its entry points are what is tested.  The
re-export module lands in SITE/nova/virt/omem.py, which nova.virt's search
path is given, as if it were in Debian's nova package."""

import os
import sys

SITE = os.environ['NOVA_SHIM_SITE']
VIRT_OMEM = os.environ['VIRT_OMEM']
STATE_PATH = os.environ.get("NOVA_STATE_PATH")

sys.path.insert(0, SITE)

import nova.virt  # noqa: E402

nova.virt.__path__.append(os.path.join(SITE, 'nova', 'virt'))

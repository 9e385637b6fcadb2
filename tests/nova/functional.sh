#!/bin/bash
# The nova shim through nova's own functional stack (real nova-api,
# scheduler, conductor, compute with OmemLibvirtDriver on fakelibvirt, the
# placement fixture): tests/nova/test_functional.py as TAP.  ~30 s.
. "$(dirname "$0")/lib.sh"
nova_require placement api-paste
nova_setup
nova_run_tap test_functional

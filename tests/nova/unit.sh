#!/bin/bash
# The nova shim's unit tests (tests/nova/test_units.py) as TAP.
. "$(dirname "$0")/lib.sh"
nova_require
nova_setup
nova_run_tap test_units

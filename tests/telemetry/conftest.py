# The paired box of tests/fleet: a signed upload through the agent API.
from tests.fleet.conftest import box, paired_box, unclaimed  # noqa: F401

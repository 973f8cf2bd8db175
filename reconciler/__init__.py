"""reconciler: an identity synchronization engine configured as code.

Connectors, a connector space per connector, one metaverse, import →
synchronization → export with export memory confirmed by the next import;
driven by YAML playbooks that are planned and applied like Terraform.
"""

__version__ = "0.1.0"

# compiled copies of the hot modules, when built and matching their source (see reconciler.accel)
from reconciler.accel import install as _install_compiled

_install_compiled()

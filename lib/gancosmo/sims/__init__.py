"""The book's own physics: particle-mesh N-body, Born lensing, named suites, published data.

Entry points: :func:`run_pm`, :func:`convergence_maps`, :func:`load_suite` and the suite
functions ``p1_maps`` ... ``p5_2d``.
"""

from .lensing import convergence_maps
from .pm import ParticleMesh, PMResult, run_pm
from .suites import PROFILES, SUITES, Suite, load_suite, resolve_profile

__all__ = [
    "run_pm",
    "PMResult",
    "ParticleMesh",
    "convergence_maps",
    "load_suite",
    "Suite",
    "SUITES",
    "PROFILES",
    "resolve_profile",
]

"""gancosmo: the importable package behind the GAN-cosmology reproducibility book.

Subpackages: ``cosmology`` (pyccl-backed background and spectra), ``sims`` (particle-mesh
N-body, Born lensing, named data suites, published data loaders), ``stats`` (batched summary
statistics), ``data``, ``models``, ``train`` and ``viz``.
"""

__version__ = "0.1.0"

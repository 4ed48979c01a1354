"""Which committed files :func:`gancosmo.emulators.load` reads for each emulator name.

Kept apart from :mod:`gancosmo.emulators` (the record format, the checksums, the networks),
which is part of every chapter's code (:data:`gancosmo.scorecard.CHAPTER_CODE`): naming a new
chapter's emulator here changes no number of another chapter, so it does not mark their
committed results as made by older code.
"""

#: Emulator name -> file stem relative to the repository root (``.safetensors`` and ``.json``).
REGISTRY = {
    "p1": "results/p1/emulator_p1_cpu-long",
    "p2": "results/p2/emulator_p2_cpu-long",
    "p3": "results/p3/emulator_p3_cpu-long",
    "p3_z": "results/p3/emulator_p3_z_cpu-long",
    "p4": "results/p4/emulator_p4_cpu-long",
    "p5_2d": "results/p5/emulator_p5_2d_cpu-long",
    "p5_slices": "results/p5/emulator_p5_slices_cpu-long",
}

#: Emulators made of several networks are rebuilt by their chapter's module: network builder ->
#: module of ``gancosmo.evaluation`` whose ``emulator_from_record(name, record, state, device)``
#: returns the :class:`gancosmo.emulators.TrainedEmulator`. The files are read and
#: checksum-verified by :func:`gancosmo.emulators.load_verified` first.
CHAPTER_LOADERS = {"p4_pipeline": "p4", "p5_gan_autoencoder": "p5"}

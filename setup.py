"""The one compiled part: the anomaly detector's per-point kernel (everything else is in
pyproject.toml). Building it needs a C compiler and the Python headers."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "opscockpit.analysis.anomaly._kernel",
            ["opscockpit/analysis/anomaly/_kernel.c"],
            extra_compile_args=["-O2", "-std=c99", "-fno-fast-math", "-ffp-contract=off"],
        )
    ]
)

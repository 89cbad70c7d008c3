"""pip's way in: `pip install --no-build-isolation .` (in a virtual environment made with
--system-site-packages, so that Debian's numpy is seen) builds the Python module with CMake and installs
the package `gradflow`, offline, through setuptools (python3-setuptools). The version is CMake's
project(VERSION). GRADFLOW_BUILD_DIR names a build folder to use (an existing one is built as it is
configured, its other settings untouched); the default is build/pip, configured for the module only.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent
VERSION = re.search(r"project\(gradflow VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text()).group(1)


class CMakeModule(Extension):
    def __init__(self):
        super().__init__("gradflow._core", sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = pathlib.Path(os.environ.get("GRADFLOW_BUILD_DIR") or ROOT / "build" / "pip").resolve()
        if not (build / "CMakeCache.txt").exists():
            subprocess.check_call(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                                   f"-DPython3_EXECUTABLE={sys.executable}", "-DGRADFLOW_BUILD_TESTS=OFF",
                                   "-DGRADFLOW_BUILD_BENCH=OFF", "-DGRADFLOW_BUILD_CLI=OFF"])
        jobs = str(os.cpu_count() or 1)
        subprocess.check_call(["cmake", "--build", str(build), "--target", "gradflow_python", "-j", jobs])
        built = sorted((build / "python" / "gradflow").glob("_core*.so"))
        if not built:
            raise RuntimeError(f"the CMake build in {build} made no gradflow/_core*.so")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)


setup(
    name="gradflow",
    version=VERSION,
    description="Gradient flows and gradient descent, checked against Polyak-Lojasiewicz theory",
    python_requires=">=3.9",
    install_requires=["numpy"],
    packages=["gradflow"],
    package_dir={"gradflow": "python/gradflow"},
    package_data={"gradflow": ["__init__.pyi", "py.typed"]},
    ext_modules=[CMakeModule()],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)

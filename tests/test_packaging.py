"""setup.py ships every file the packages read at run time (a non-editable install copies
only the Python modules and what `package_data` names)."""

import fnmatch
import os
import runpy
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setup_arguments():
    """The keyword arguments setup.py passes to `setuptools.setup` (nothing is built)."""
    with mock.patch("setuptools.setup") as setup:
        cwd = os.getcwd()
        os.chdir(ROOT)  # setup.py reads README.md relative to its folder
        try:
            runpy.run_path(os.path.join(ROOT, "setup.py"), run_name="__main__")
        finally:
            os.chdir(cwd)
    return setup.call_args.kwargs


def shipped(package, relative, package_data):
    """Whether `package_data` ships the file `relative` (to `package`'s folder)."""
    return any(fnmatch.fnmatch(relative, pattern)
               for pattern in package_data.get(package, []) + package_data.get("", []))


def test_every_data_file_of_the_packages_is_package_data():
    kwargs = setup_arguments()
    packages, package_data = kwargs["packages"], kwargs.get("package_data", {})
    assert "pipelines.data" in packages and "tfgans" in packages
    data_files = []
    for package in packages:
        folder = os.path.join(ROOT, *package.split("."))
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            sub = f"{package}.{name}"
            if os.path.isdir(path) and sub not in packages and name != "__pycache__":
                # A folder that is not a package: its files are data (e.g. captions/).
                for base, _, files in os.walk(path):
                    data_files += [(package, os.path.relpath(os.path.join(base, f), folder))
                                   for f in files if not f.endswith((".pyc", ".py"))]
            elif os.path.isfile(path) and not name.endswith((".py", ".pyc")):
                data_files.append((package, name))
    assert ("pipelines.data", os.path.join("captions", "fashion_mnist.yaml")) in data_files
    missing = [f"{p}: {f}" for p, f in data_files if not shipped(p, f, package_data)]
    assert not missing, f"setup.py's package_data does not ship {missing}"

"""tfgans: GANs for TensorFlow and Keras 3."""

from setuptools import find_packages, setup

setup(
    name="tfgans",
    version="0.1.0",
    description="GAN library and training pipeline for TensorFlow and Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tfgans", "tfgans.*", "pipelines", "pipelines.*"]),
    # Data files read at run time (tests/test_packaging.py checks every non-Python file of
    # the packages is listed): the Fashion-MNIST descriptions of `fashion_mnist_captions`.
    package_data={"pipelines.data": ["captions/*.yaml"]},
    install_requires=[
        "tensorflow>=2.16,<3",
        "keras>=3.5,<4",
        "tensorflow-datasets>=4.9",
        # etils needs it for tensorflow-datasets, but `pip check` does not flag it.
        "importlib_resources",
        "tensorboard>=2.16",
        "pyyaml>=6",
        "numpy",
        "pillow",  # GIF latent walks (tfgans generate --interpolate N --out walk.gif)
    ],
    extras_require={
        # tensorflow-serving-api: the export tests build PredictRequests and warm-up files.
        "test": ["pytest>=8", "pytest-xdist>=3", "tensorflow-serving-api>=2.16"],
        "serving": ["tensorflow-serving-api>=2.16"],
        # benchmarks/recipe.py's FID-against-wall-time plot (docs/recipe_fid_vs_time.png).
        "bench": ["matplotlib>=3.7"],
    },
    entry_points={"console_scripts": ["tfgans=pipelines.cli:main"]},
)

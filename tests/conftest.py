"""Test set-up: quiet TensorFlow and two logical CPU devices for MirroredStrategy tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

# Two logical CPUs let MirroredStrategy run with 2 replicas on one machine. This must
# happen before TensorFlow initialises its devices, so it is done at import time.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mirrored():
    """One MirroredStrategy over the two logical CPUs per test process (several strategy
    objects in one process can clash on collective keys)."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

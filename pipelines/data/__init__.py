"""tf.data input pipelines: images float32 NHWC in [-1, 1], optional int32 labels [batch].

Sources: Fashion-MNIST through TFDS with no network (`fashion_mnist`), any TFDS image
dataset (`tfds_dataset`, or the name "tfds/<name>"), a folder of PNG / JPEG images
(`image_folder`) and in-memory arrays (`from_arrays`); `build_dataset` picks one by name.
`distributed_dataset` hands a pipeline to a `tf.distribute` strategy.
"""

from pipelines.data.arrays import from_arrays
from pipelines.data.build import DATASETS, build_dataset, check_dataset_name, dataset_names
from pipelines.data.common import DataError
from pipelines.data.distribute import distributed_dataset
from pipelines.data.folder import image_folder, list_image_folder, read_image_header
from pipelines.data.idx import load_fashion_mnist_arrays, read_idx
from pipelines.data.tfds_source import (
    default_data_dir,
    fashion_mnist,
    prepare_fashion_mnist,
    tfds_dataset,
)

__all__ = [
    "DATASETS",
    "DataError",
    "build_dataset",
    "check_dataset_name",
    "dataset_names",
    "default_data_dir",
    "distributed_dataset",
    "fashion_mnist",
    "from_arrays",
    "image_folder",
    "list_image_folder",
    "load_fashion_mnist_arrays",
    "prepare_fashion_mnist",
    "read_idx",
    "read_image_header",
    "tfds_dataset",
]

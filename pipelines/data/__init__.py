"""tf.data input pipelines: images float32 NHWC in [-1, 1], optional int32 labels [batch].

Sources: Fashion-MNIST through TFDS with no network (`fashion_mnist`), any TFDS image
dataset (`tfds_dataset`, or the name "tfds/<name>"), a folder of PNG / JPEG images
(`image_folder`) and in-memory arrays (`from_arrays`); `build_dataset` picks one by name.
Image -> image data (`dataset_family`: "paired" or "unpaired"): pix2pix A|B files, A/ + B/
folders, CycleGAN's trainA/trainB (`paired`), and tasks built from Fashion-MNIST
(`fashion_tasks`: edges2fashion, fashion_x4, fashion_inpaint, sneaker2boot).
Semi-supervised batches (`semi_supervised`): half from a few labelled examples, half
unlabelled (label -1).
`distributed_dataset` hands a pipeline to a `tf.distribute` strategy.
"""

from pipelines.data.arrays import from_arrays
from pipelines.data.build import (
    DATASETS,
    build_dataset,
    check_dataset_name,
    dataset_family,
    dataset_names,
    dataset_uses_path,
)
from pipelines.data.common import DataError
from pipelines.data.distribute import distributed_dataset
from pipelines.data.fashion_tasks import (
    SNEAKER2BOOT_CLASSES,
    edges2fashion,
    fashion_inpaint,
    fashion_x4,
    sneaker2boot,
)
from pipelines.data.folder import image_folder, list_image_folder, read_image_header
from pipelines.data.idx import load_fashion_mnist_arrays, read_idx
from pipelines.data.semi_supervised import labelled_subset, semi_supervised
from pipelines.data.paired import paired_ab_folder, paired_folders, unpaired_folders
from pipelines.data.tfds_source import (
    default_data_dir,
    fashion_mnist,
    prepare_fashion_mnist,
    tfds_dataset,
)

__all__ = [
    "DATASETS",
    "DataError",
    "SNEAKER2BOOT_CLASSES",
    "build_dataset",
    "check_dataset_name",
    "dataset_family",
    "dataset_names",
    "dataset_uses_path",
    "default_data_dir",
    "distributed_dataset",
    "edges2fashion",
    "fashion_inpaint",
    "fashion_mnist",
    "fashion_x4",
    "from_arrays",
    "image_folder",
    "list_image_folder",
    "load_fashion_mnist_arrays",
    "paired_ab_folder",
    "paired_folders",
    "prepare_fashion_mnist",
    "read_idx",
    "read_image_header",
    "labelled_subset",
    "semi_supervised",
    "sneaker2boot",
    "tfds_dataset",
    "unpaired_folders",
]

"""Feeding a `tf.distribute` strategy: one global batch per step, split across replicas."""

import tensorflow as tf

from pipelines.data import common
from pipelines.data.common import DataError


def distributed_dataset(strategy, source, global_batch_size=None, *, shard_per_input_pipeline=False):
    """Distributes a pipeline over `strategy`'s replicas.

    Two ways, both giving every replica its own part of each global batch:

    - default: `source` builds (or is) a dataset batched with the GLOBAL batch size, and
      `strategy.experimental_distribute_dataset` splits each batch across the replicas
      (replica 0 gets the first slice, ...). With several workers, DATA auto-sharding (set
      by every tfgans pipeline) gives each worker its own slices. The global batches are
      the same as on one device, so a run gives the same result on 1, 2 or N replicas.
    - `shard_per_input_pipeline=True`: `strategy.distribute_datasets_from_function`; each
      input pipeline (one per worker) builds its own dataset with the PER-REPLICA batch
      size and keeps only its shard of the examples
      (`shard(num_input_pipelines, input_pipeline_id)`, done by `build_dataset` when it
      gets the `input_context`). No worker reads the others' examples.

    Args:
        strategy: a `tf.distribute.Strategy`.
        source: a `tf.data.Dataset` (already batched with the global batch size; default
            way only) or a function `source(batch_size, input_context)` returning one, e.g.
            `lambda b, ctx: build_dataset("fashion_mnist", b, input_context=ctx)`.
        global_batch_size: images per step over all replicas; required when `source` is a
            function.
        shard_per_input_pipeline: use the second way.

    Returns:
        A `tf.distribute.DistributedDataset` for `model.fit` or `strategy.run`.

    Raises:
        DataError: the global batch size is missing, or not divisible by the number of
            replicas.
    """
    replicas = strategy.num_replicas_in_sync
    if isinstance(source, tf.data.Dataset):
        if shard_per_input_pipeline:
            raise DataError(
                "shard_per_input_pipeline=True needs a function source(batch_size, "
                "input_context), not a built dataset."
            )
        return strategy.experimental_distribute_dataset(common.with_options(source))
    if global_batch_size is None:
        raise DataError("`global_batch_size` is required when `source` is a function.")
    common.check_batch_size(global_batch_size)
    if global_batch_size % replicas:
        raise DataError(
            f"The global batch size {global_batch_size} is not divisible by the "
            f"{replicas} replicas: use a multiple of {replicas}."
        )
    if not shard_per_input_pipeline:
        dataset = source(global_batch_size, None)
        return strategy.experimental_distribute_dataset(common.with_options(dataset))

    def dataset_fn(input_context):
        return source(input_context.get_per_replica_batch_size(global_batch_size), input_context)

    return strategy.distribute_datasets_from_function(dataset_fn)

"""GAN trainers: keras.Models whose train_step holds all of tfgans' gradient code."""

from tfgans.training.gan import GAN, NonFiniteLossError, generation_labels, sample_noise

__all__ = ["GAN", "NonFiniteLossError", "generation_labels", "sample_noise"]

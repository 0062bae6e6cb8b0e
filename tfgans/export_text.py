"""The signatures of a text -> image export (`ExportSpec` kind "text_to_image"), used by
`tfgans.export.export_trainer`:

- `serving_default`: `text` string [N] + `noise` float32 [N, latent_dim] -> `images`
  float32 [N, H, W, C] in [0, 1];
- `generate`: `text` string [N] + `seed` int64 scalar -> `images` and `png_bytes` string
  [N]; image i's noise depends only on (seed, i), as in `StackGAN.sample`.

Tokenisation is in the graph (the model's `TextVectorization`), so clients send plain
strings; unknown words map to the out-of-vocabulary token.
"""

import keras
import tensorflow as tf


def text_to_image_archive(model, latent_dim, max_num_samples):
    """Returns (`keras.export.ExportArchive` with its endpoints, warm-up inputs) for a
    model `[text, noise] -> images in [-1, 1]`."""
    from tfgans.training.stackgan import generation_noise

    def images_from(text, noise):
        with tf.control_dependencies([
            tf.debugging.assert_equal(
                tf.shape(text)[0], tf.shape(noise)[0],
                message="`text` and `noise` must have the same number of rows"),
            tf.debugging.assert_less_equal(
                tf.size(text), max_num_samples,
                message=f"at most max_num_samples={max_num_samples} texts per request"),
        ]):
            noise = tf.debugging.assert_all_finite(
                noise, "`noise` must be finite (no NaN or Inf): the images would be NaN")
        images = tf.cast(model([text, noise], training=False), tf.float32)
        return tf.clip_by_value((images + 1.0) * 0.5, 0.0, 1.0)

    def serve(text, noise):
        return {"images": images_from(text, noise)}

    def generate(text, seed):
        with tf.control_dependencies([tf.debugging.assert_less_equal(
                tf.size(text), max_num_samples,
                message=f"at most max_num_samples={max_num_samples} texts per request")]):
            noise = generation_noise(tf.size(text), latent_dim, seed)
        images = images_from(text, noise)
        pixels = tf.cast(tf.round(images * 255.0), tf.uint8)
        png = tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"images": images, "png_bytes": png}

    text_spec = tf.TensorSpec([None], tf.string, name="text")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve,
                         [text_spec, tf.TensorSpec([None, latent_dim], tf.float32, name="noise")])
    archive.add_endpoint("generate", generate, [text_spec, tf.TensorSpec([], tf.int64, name="seed")])
    examples = {
        "serving_default": {"text": tf.constant(["a"]), "noise": tf.zeros([1, latent_dim])},
        "generate": {"text": tf.constant(["a"]), "seed": tf.constant(0, tf.int64)},
    }
    return archive, examples

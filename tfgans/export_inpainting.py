"""The signatures of an inpainting export (`ExportSpec` kind "inpainting"), used by
`tfgans.export.export_trainer`:

- `serving_default`: `images` float32 [N, H, W, C] in [0, 1] and `masks` float32
  [N, H, W, 1] (1 = a missing pixel; values above 0.5 count as 1) -> `images` in [0, 1];
- `translate`: `png_bytes` string [N] (PNGs of H x W x C) -> `png_bytes`, with the centre
  mask (the H/2 x W/2 square, `tfgans.models.inpainting.center_mask`);
- `translate_masked`: `png_bytes` string [N] + `mask_png_bytes` string [N] (one-channel
  PNGs of H x W, white (> 127) = missing) -> `png_bytes`.

The known pixels are returned as given (`out = mask * G + (1 - mask) * image`); through
PNGs they come back bit for bit.
"""

import keras
import tensorflow as tf

from tfgans.models.inpainting import center_mask, compose, generator_input


def inpainting_archive(model, image_shape, max_num_samples):
    """Returns (`keras.export.ExportArchive` with its endpoints, warm-up inputs) for a
    generator `generator_input(images, masks)` -> images in [-1, 1]."""
    height, width, channels = (int(s) for s in image_shape)
    centre = tf.constant(center_mask(height, width))

    def fill(images, masks):
        images = tf.debugging.assert_all_finite(
            tf.cast(images, tf.float32), "`images` must be finite (no NaN or Inf), in [0, 1]")
        with tf.control_dependencies([tf.debugging.assert_equal(
                tf.shape(images)[0], tf.shape(masks)[0],
                message="`images` and `masks` must have the same number of rows")]):
            masks = tf.cast(tf.cast(masks, tf.float32) > 0.5, tf.float32)
        x = images * 2.0 - 1.0
        out = compose(x, masks, tf.cast(model(generator_input(x, masks), training=False),
                                        tf.float32))
        return tf.clip_by_value((out + 1.0) * 0.5, 0.0, 1.0)

    def decode(png_bytes, depth):
        with tf.control_dependencies([tf.debugging.assert_less_equal(
                tf.size(png_bytes), max_num_samples,
                message=f"at most max_num_samples={max_num_samples} images per request")]):
            decoded = tf.map_fn(
                lambda b: tf.io.decode_png(b, channels=depth), png_bytes,
                fn_output_signature=tf.TensorSpec([None, None, depth], tf.uint8))
        return tf.cast(tf.ensure_shape(decoded, [None, height, width, depth]), tf.float32) / 255.0

    def encode(images):
        pixels = tf.cast(tf.round(images * 255.0), tf.uint8)
        return {"png_bytes": tf.map_fn(
            tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string))}

    def serve(images, masks):
        return {"images": fill(images, masks)}

    def translate(png_bytes):
        images = decode(png_bytes, channels)
        masks = tf.broadcast_to(centre, [tf.shape(images)[0], height, width, 1])
        return encode(fill(images, masks))

    def translate_masked(png_bytes, mask_png_bytes):
        return encode(fill(decode(png_bytes, channels), decode(mask_png_bytes, 1)))

    archive = keras.export.ExportArchive()
    archive.track(model)
    image_spec = tf.TensorSpec([None, height, width, channels], tf.float32, name="images")
    archive.add_endpoint("serving_default", serve, [
        image_spec, tf.TensorSpec([None, height, width, 1], tf.float32, name="masks")])
    archive.add_endpoint("translate", translate,
                         [tf.TensorSpec([None], tf.string, name="png_bytes")])
    archive.add_endpoint("translate_masked", translate_masked, [
        tf.TensorSpec([None], tf.string, name="png_bytes"),
        tf.TensorSpec([None], tf.string, name="mask_png_bytes")])
    blank = tf.reshape(tf.io.encode_png(tf.zeros([height, width, channels], tf.uint8)), [1])
    hole = tf.reshape(tf.io.encode_png(tf.cast(centre * 255.0, tf.uint8)), [1])
    examples = {
        "serving_default": {"images": tf.zeros([1, height, width, channels], tf.float32),
                            "masks": centre[tf.newaxis]},
        "translate": {"png_bytes": blank},
        "translate_masked": {"png_bytes": blank, "mask_png_bytes": hole},
    }
    return archive, examples

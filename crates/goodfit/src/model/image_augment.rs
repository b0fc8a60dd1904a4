//! Random changes to training pictures, drawn anew for every picture of every epoch:
//! torchvision's `RandomResizedCrop` (scale and aspect ratio as its defaults draw them),
//! `RandomHorizontalFlip`, `RandomRotation` (bilinear, zeros outside) and `ColorJitter`
//! (brightness, contrast, saturation by one factor range). Applied to the decoded picture
//! before it is resized and normalised, in training only; seeded, so a run repeats.
//!
//! The `image` crate decodes and resizes but has no random transforms or free rotation;
//! these few are written here on its RGB buffers.

use image::imageops::FilterType;
use image::RgbImage;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which augmentations run, and how strongly.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageAugment {
    /// Random resized crop: the smallest share of the picture's area a crop keeps (0: off;
    /// torchvision's default is 0.08).
    pub crop: f64,
    /// Flip left–right with probability ½.
    pub flip: bool,
    /// Rotate by up to this many degrees either way (0: off).
    pub rotate: f64,
    /// Colour jitter: brightness, contrast and saturation each scaled by a factor drawn from
    /// [1 − j, 1 + j] (0: off).
    pub jitter: f64,
}

impl ImageAugment {
    /// Whether any augmentation is on.
    pub fn is_on(&self) -> bool {
        self.crop > 0.0 || self.flip || self.rotate > 0.0 || self.jitter > 0.0
    }

    /// `picture` changed at random, resized to `size` × `size`.
    pub fn apply(&self, picture: &RgbImage, size: u32, rng: &mut ChaCha8Rng) -> RgbImage {
        let mut out = if self.crop > 0.0 {
            let (x, y, w, h) = self.crop_box(picture.width(), picture.height(), rng);
            let crop = image::imageops::crop_imm(picture, x, y, w, h).to_image();
            image::imageops::resize(&crop, size, size, FilterType::Triangle)
        } else if picture.dimensions() != (size, size) {
            image::imageops::resize(picture, size, size, FilterType::Triangle)
        } else {
            picture.clone()
        };
        if self.flip && rng.random::<bool>() {
            image::imageops::flip_horizontal_in_place(&mut out);
        }
        if self.rotate > 0.0 {
            let degrees = rng.random_range(-self.rotate..=self.rotate);
            out = rotate(&out, degrees.to_radians());
        }
        if self.jitter > 0.0 {
            let mut factor = || rng.random_range(1.0 - self.jitter..=1.0 + self.jitter) as f32;
            let (brightness, contrast, saturation) = (factor(), factor(), factor());
            jitter(&mut out, brightness, contrast, saturation);
        }
        out
    }

    /// torchvision's `RandomResizedCrop.get_params`: ten tries at an area share in
    /// [crop, 1] and a log-uniform aspect ratio in [3/4, 4/3] that fits, else the centre
    /// crop at the nearest allowed ratio.
    fn crop_box(&self, width: u32, height: u32, rng: &mut ChaCha8Rng) -> (u32, u32, u32, u32) {
        let area = f64::from(width) * f64::from(height);
        let (low, high) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
        for _ in 0..10 {
            let target = area * rng.random_range(self.crop.min(1.0)..=1.0);
            let ratio = rng.random_range(low..=high).exp();
            let w = (target * ratio).sqrt().round() as u32;
            let h = (target / ratio).sqrt().round() as u32;
            if w > 0 && h > 0 && w <= width && h <= height {
                let x = rng.random_range(0..=width - w);
                let y = rng.random_range(0..=height - h);
                return (x, y, w, h);
            }
        }
        let ratio = f64::from(width) / f64::from(height);
        let (w, h) = if ratio < 3.0 / 4.0 {
            (width, (f64::from(width) / (3.0 / 4.0)).round() as u32)
        } else if ratio > 4.0 / 3.0 {
            ((f64::from(height) * 4.0 / 3.0).round() as u32, height)
        } else {
            (width, height)
        };
        let (w, h) = (w.min(width), h.min(height));
        ((width - w) / 2, (height - h) / 2, w, h)
    }
}

/// `picture` rotated by `angle` radians about its centre, bilinear, zeros where the
/// rotated picture does not reach.
fn rotate(picture: &RgbImage, angle: f64) -> RgbImage {
    let (w, h) = picture.dimensions();
    let (cx, cy) = (f64::from(w - 1) / 2.0, f64::from(h - 1) / 2.0);
    let (sin, cos) = angle.sin_cos();
    RgbImage::from_fn(w, h, |x, y| {
        // The source of output pixel (x, y): rotated back.
        let (dx, dy) = (f64::from(x) - cx, f64::from(y) - cy);
        let sx = cos * dx + sin * dy + cx;
        let sy = -sin * dx + cos * dy + cy;
        if sx < 0.0 || sy < 0.0 || sx > f64::from(w - 1) || sy > f64::from(h - 1) {
            return image::Rgb([0, 0, 0]);
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (sx - f64::from(x0), sy - f64::from(y0));
        let mut pixel = [0u8; 3];
        for (c, value) in pixel.iter_mut().enumerate() {
            let at = |x: u32, y: u32| f64::from(picture.get_pixel(x, y)[c]);
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            *value = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(pixel)
    })
}

/// torchvision's brightness, contrast and saturation adjustments, in that order: scale;
/// blend with the mean grey level; blend with each pixel's grey (ITU-R 601 luma).
fn jitter(picture: &mut RgbImage, brightness: f32, contrast: f32, saturation: f32) {
    let grey = |p: &image::Rgb<u8>| {
        0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
    };
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    for p in picture.pixels_mut() {
        for c in 0..3 {
            p[c] = clamp(f32::from(p[c]) * brightness);
        }
    }
    let pixels = picture.pixels().len().max(1) as f32;
    let mean = picture.pixels().map(grey).sum::<f32>() / pixels;
    for p in picture.pixels_mut() {
        for c in 0..3 {
            p[c] = clamp(contrast * f32::from(p[c]) + (1.0 - contrast) * mean);
        }
        let g = grey(p);
        for c in 0..3 {
            p[c] = clamp(saturation * f32::from(p[c]) + (1.0 - saturation) * g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gradient() -> RgbImage {
        RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, 100])
        })
    }

    #[test]
    fn off_is_a_resize_and_each_change_is_seeded() {
        let picture = gradient();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let plain = ImageAugment::default();
        assert!(!plain.is_on());
        let resized = plain.apply(&picture, 20, &mut rng);
        assert_eq!(resized.dimensions(), (20, 20));
        let all = ImageAugment {
            crop: 0.3,
            flip: true,
            rotate: 15.0,
            jitter: 0.4,
        };
        let a = all.apply(&picture, 20, &mut ChaCha8Rng::seed_from_u64(7));
        let b = all.apply(&picture, 20, &mut ChaCha8Rng::seed_from_u64(7));
        let c = all.apply(&picture, 20, &mut ChaCha8Rng::seed_from_u64(8));
        assert_eq!(a, b, "the same seed, the same picture");
        assert_ne!(a, c);
        assert_ne!(a, resized);
    }

    #[test]
    fn crops_fit_and_flips_and_rotations_move_pixels_where_they_should() {
        let augment = ImageAugment {
            crop: 0.08,
            ..ImageAugment::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let (x, y, w, h) = augment.crop_box(40, 30, &mut rng);
            assert!(w > 0 && h > 0 && x + w <= 40 && y + h <= 30);
            let share = f64::from(w * h) / 1200.0;
            assert!(share >= 0.07, "{share}");
        }
        // A half turn about the centre maps each pixel to its mirror through the centre.
        let picture = gradient();
        let turned = rotate(&picture, std::f64::consts::PI);
        assert_eq!(turned.get_pixel(0, 0), picture.get_pixel(39, 29));
        assert_eq!(turned.get_pixel(10, 5), picture.get_pixel(29, 24));
        // Full saturation 0 makes grey; brightness 0 makes black.
        let mut grey = picture.clone();
        jitter(&mut grey, 1.0, 1.0, 0.0);
        let p = grey.get_pixel(20, 10);
        assert!(
            p[0].abs_diff(p[1]) <= 1 && p[1].abs_diff(p[2]) <= 1,
            "{p:?}"
        );
        let mut black = picture;
        jitter(&mut black, 0.0, 1.0, 1.0);
        assert!(black.pixels().all(|p| p.0 == [0, 0, 0]));
    }
}

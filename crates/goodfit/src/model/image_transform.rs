//! How an image model reads a picture: decoded (PNG or JPEG), turned to RGB (grayscale
//! repeated over 3 channels, alpha dropped), resized to the model's input size (bilinear,
//! when it is not that size already) and normalised per channel by the mean and standard
//! deviation the weights were trained with (`config.json`'s `mean`, `std`), as
//! torchvision's `Resize`, `ToTensor` and `Normalize` do.

use std::path::Path;

use candle_core::{Device, Tensor};
use image::imageops::FilterType;
use image::RgbImage;

use crate::error::{Error, Position, Result};

/// An image model's preprocessing.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageTransform {
    /// The side of the square input, in pixels.
    pub size: usize,
    /// Per-channel mean, on the 0–1 scale.
    pub mean: [f32; 3],
    /// Per-channel standard deviation, on the 0–1 scale.
    pub std: [f32; 3],
}

impl ImageTransform {
    /// The picture at `path` as a `[3, size, size]` tensor on `device`; an error names the
    /// file when it is missing or not an image goodfit can decode.
    pub fn load(&self, path: &Path, device: &Device) -> Result<Tensor> {
        let size = self.size as u32;
        let rgb = Self::decode(path)?;
        let rgb = if rgb.dimensions() == (size, size) {
            rgb
        } else {
            image::imageops::resize(&rgb, size, size, FilterType::Triangle)
        };
        self.tensor(&rgb, device)
    }

    /// The picture at `path`, decoded to RGB.
    pub fn decode(path: &Path) -> Result<RgbImage> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let decoded = image::load_from_memory(&bytes).map_err(|e| {
            Error::input(
                Position::file(path),
                format!("not an image goodfit can read (PNG or JPEG): {e}"),
            )
        })?;
        Ok(decoded.to_rgb8())
    }

    /// The picture at `path` as a PNG at most `side` pixels on its longer side, as a
    /// `data:` URI (for the report's gallery).
    pub fn thumbnail(path: &Path, side: u32) -> Result<String> {
        Self::thumbnail_of(Self::decode(path)?, side, path)
    }

    /// `picture` (read from `source`) as [`ImageTransform::thumbnail`] makes it.
    pub fn thumbnail_of(picture: RgbImage, side: u32, source: &Path) -> Result<String> {
        use base64::Engine;
        let picture = image::DynamicImage::ImageRgb8(picture);
        // Never enlarged: the page scales a small picture up itself.
        let small = if picture.width() <= side && picture.height() <= side {
            picture
        } else {
            picture.thumbnail(side, side)
        };
        let mut png = std::io::Cursor::new(Vec::new());
        small
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| {
                Error::Invalid(format!(
                    "cannot encode a thumbnail of {}: {e}",
                    source.display()
                ))
            })?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(png.into_inner());
        Ok(format!("data:image/png;base64,{encoded}"))
    }

    /// A `size` × `size` RGB picture as the normalised `[3, size, size]` input.
    pub fn tensor(&self, rgb: &RgbImage, device: &Device) -> Result<Tensor> {
        let plane = self.size * self.size;
        let mut values = vec![0f32; 3 * plane];
        for (i, pixel) in rgb.pixels().enumerate() {
            for c in 0..3 {
                values[c * plane + i] = (pixel[c] as f32 / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        Ok(Tensor::from_vec(values, (3, self.size, self.size), device)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grayscale_is_repeated_resized_and_normalised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        image::GrayImage::from_pixel(4, 2, image::Luma([255]))
            .save(&path)
            .unwrap();
        let transform = ImageTransform {
            size: 3,
            mean: [0.5; 3],
            std: [0.5, 0.25, 1.0],
        };
        let x = transform.load(&path, &Device::Cpu).unwrap();
        assert_eq!(x.dims(), [3, 3, 3]);
        let values: Vec<Vec<Vec<f32>>> = x.to_vec3().unwrap();
        assert!((values[0][1][1] - 1.0).abs() < 1e-6);
        assert!((values[1][2][0] - 2.0).abs() < 1e-6);
        assert!((values[2][0][2] - 0.5).abs() < 1e-6);

        std::fs::write(&path, b"not a picture").unwrap();
        let error = transform.load(&path, &Device::Cpu).unwrap_err().to_string();
        assert!(
            error.contains("g.png") && error.contains("PNG or JPEG"),
            "{error}"
        );
        let error = transform
            .load(&dir.path().join("missing.png"), &Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing.png"), "{error}");
    }
}

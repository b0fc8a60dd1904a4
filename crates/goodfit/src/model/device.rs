//! Where tensors live: `cpu`, or `cuda` / `cuda:N`. The CPU is what this project builds and
//! tests; a CUDA device opens only in a build of candle with its `cuda` feature (then
//! `Device::new_cuda` finds the GPU), and any other build says so in words.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

use crate::error::{Error, Result};

/// A device as the user names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The CPU.
    #[default]
    Cpu,
    /// The CUDA GPU of this ordinal.
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = Error;

    fn from_str(text: &str) -> Result<DeviceSpec> {
        let bad = || {
            Error::Invalid(format!(
                "--device '{text}' is not a device: use cpu, cuda or cuda:N"
            ))
        };
        match text.trim() {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(bad),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceSpec {
    /// Opens the device; a CUDA device in a build without CUDA support is an error that
    /// says how to get one.
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Cuda(n) => Device::new_cuda(n).map_err(|e| {
                Error::Invalid(format!(
                    "--device {self}: {e}; this goodfit was built for the CPU: build candle-core with its `cuda` feature (and the CUDA toolkit) for GPUs"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_and_a_missing_gpu_says_so() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:1".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(1));
        let error = "gpu".parse::<DeviceSpec>().unwrap_err().to_string();
        assert!(error.contains("--device 'gpu'"), "{error}");
        assert!(DeviceSpec::Cpu.open().unwrap().is_cpu());
        let error = DeviceSpec::Cuda(0).open().unwrap_err().to_string();
        assert!(
            error.contains("--device cuda:0") && error.contains("cuda"),
            "{error}"
        );
    }
}

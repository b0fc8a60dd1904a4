//! Reading a PyTorch state dict (`torch.save(model.state_dict(), "x.pth")`) without running
//! anything in it.
//!
//! A `.pth` is a zip of a pickle (`…/data.pkl`) and the raw tensor storages. Unpickling in
//! Python can call any function the file names (`os.system` included), which is why goodfit
//! never loads pickles in Python. Here the pickle is read by candle's pickle reader, a Rust
//! interpreter of the opcodes that builds a description and calls nothing; on top of that
//! every global the file names is checked against the few a state dict needs (an ordered
//! dict, the tensor-rebuild functions, the storage types) and the file is refused, naming the
//! global, when it names anything else. The tensors are then read by candle, in file order.

use std::io::{BufReader, Read};
use std::path::Path;

use candle_core::pickle::{Object, Stack};
use candle_core::{Device, Tensor};

use crate::error::{Error, Position, Result};

/// The globals a state dict names: `module.name`.
const ALLOWED: [&str; 14] = [
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
    "torch.storage.UntypedStorage",
];

/// The tensors of the state dict in `path`, in the order the file holds them.
///
/// # Errors
/// When the file is not a PyTorch zip archive, when its pickle names anything but what a
/// state dict needs, or when a tensor cannot be read; the error names the file.
pub fn read_state_dict(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let refuse = |why: String| Error::input(Position::file(path), why);
    // The first bytes tell the formats apart; only the legacy one is read whole here (the
    // zip one is read by entry below).
    let mut head = [0u8; LEGACY_MAGIC.len()];
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let legacy = file.read_exact(&mut head).is_ok() && head == LEGACY_MAGIC;
    if legacy {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        return read_legacy(&bytes[LEGACY_MAGIC.len()..]).map_err(refuse);
    }
    check_globals(path).map_err(refuse)?;
    let infos = candle_core::pickle::read_pth_tensor_info(path, false, None)
        .map_err(|e| refuse(format!("cannot read the state dict: {e}")))?;
    if infos.is_empty() {
        return Err(refuse("holds no tensors: not a state dict".into()));
    }
    let tensors = candle_core::pickle::PthTensors::new(path, None)
        .map_err(|e| refuse(format!("cannot read the state dict: {e}")))?;
    infos
        .iter()
        .map(|info| {
            let tensor = tensors
                .get(&info.name)
                .map_err(|e| refuse(format!("tensor '{}': {e}", info.name)))?
                .ok_or_else(|| refuse(format!("tensor '{}' is missing", info.name)))?;
            Ok((info.name.clone(), tensor.to_device(&Device::Cpu)?))
        })
        .collect()
}

/// The first pickle of PyTorch's legacy (pre-1.6, non-zip) format: protocol 2, the magic
/// number 0x1950a86a20f9469cfc6c as a 10-byte LONG1, STOP.
const LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";

/// One pickle from `r`, its globals checked.
fn next_pickle(r: &mut &[u8], what: &str) -> std::result::Result<Object, String> {
    let mut stack = Stack::empty();
    stack
        .read_loop(r)
        .map_err(|e| format!("{what}: not a pickle goodfit can read: {e}"))?;
    let object = stack
        .finalize()
        .map_err(|e| format!("{what}: not a pickle goodfit can read: {e}"))?;
    let mut globals = Vec::new();
    collect_globals(&object, &mut globals);
    match globals.iter().find(|g| !ALLOWED.contains(&g.as_str())) {
        Some(bad) => Err(format!(
            "{what} names `{bad}`, which a state dict never does: goodfit reads only tensors and refuses pickles that call anything else"
        )),
        None => Ok(object),
    }
}

/// The rest of a legacy file after its magic number: the protocol version, the system
/// information, the state dict (its tensors pointing at storages by key), the list of
/// storage keys, then each storage as its element count (8 bytes, little-endian) and data.
fn read_legacy(mut r: &[u8]) -> std::result::Result<Vec<(String, Tensor)>, String> {
    next_pickle(&mut r, "the protocol version")?;
    next_pickle(&mut r, "the system information")?;
    let Object::Dict(entries) = next_pickle(&mut r, "the state dict")? else {
        return Err("the pickled object is not a state dict".into());
    };
    let Object::List(keys) = next_pickle(&mut r, "the storage keys")? else {
        return Err("no list of storage keys".into());
    };
    let mut infos = Vec::new();
    for (name, value) in entries {
        if let Some(info) = value
            .into_tensor_info(name, Path::new(""))
            .map_err(|e| format!("a tensor goodfit cannot read: {e}"))?
        {
            infos.push(info);
        }
    }
    let mut storages = std::collections::HashMap::new();
    for key in keys {
        let Object::Unicode(key) = key else {
            return Err("a storage key is not text".into());
        };
        let count = r
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
            .ok_or("the file ends before its storages")?;
        r = &r[8..];
        let dtype = infos
            .iter()
            .find(|i| i.path.trim_start_matches('/') == key)
            .map(|i| i.dtype)
            .ok_or_else(|| format!("storage {key} belongs to no tensor"))?;
        let size = count
            .checked_mul(dtype.size_in_bytes())
            .filter(|&n| n <= r.len())
            .ok_or_else(|| format!("storage {key} runs past the end of the file"))?;
        storages.insert(key, (&r[..size], count, dtype));
        r = &r[size..];
    }
    infos
        .into_iter()
        .map(|info| {
            let key = info.path.trim_start_matches('/');
            let &(bytes, count, dtype) = storages
                .get(key)
                .ok_or_else(|| format!("tensor '{}': its storage is missing", info.name))?;
            let storage = Tensor::from_raw_buffer(bytes, dtype, &[count], &Device::Cpu)
                .map_err(|e| e.to_string())?;
            let tensor = strided(&storage, &info.layout)
                .map_err(|e| format!("tensor '{}': {e}", info.name))?;
            Ok((info.name, tensor))
        })
        .collect()
}

/// The tensor `layout` describes over the one-dimensional `storage` (a view PyTorch saved
/// as it was, e.g. a transposed weight), copied out; every index is checked to lie inside
/// the storage.
fn strided(storage: &Tensor, layout: &candle_core::Layout) -> candle_core::Result<Tensor> {
    let count = storage.elem_count();
    let start = layout.start_offset() / storage.dtype().size_in_bytes();
    let dims = layout.dims();
    let numel = layout.shape().elem_count();
    let furthest = start
        + dims
            .iter()
            .zip(layout.stride())
            .map(|(&d, &s)| d.saturating_sub(1) * s)
            .sum::<usize>();
    if numel > 0 && furthest >= count {
        candle_core::bail!("runs past its storage of {count} values")
    }
    if layout.is_contiguous() {
        return storage.narrow(0, start, numel)?.reshape(dims);
    }
    // Any other view: the index of each element in row-major order, gathered.
    let mut index = Vec::with_capacity(numel);
    let mut position = vec![0usize; dims.len()];
    for _ in 0..numel {
        let offset: usize = position
            .iter()
            .zip(layout.stride())
            .map(|(p, s)| p * s)
            .sum();
        index.push((start + offset) as u32);
        for axis in (0..dims.len()).rev() {
            position[axis] += 1;
            if position[axis] < dims[axis] {
                break;
            }
            position[axis] = 0;
        }
    }
    let index = Tensor::from_vec(index, numel, storage.device())?;
    storage.index_select(&index, 0)?.reshape(dims)
}

/// Parses every pickle in the archive and checks the globals it names.
fn check_globals(path: &Path) -> std::result::Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format!("not a PyTorch archive (a zip of a pickle and tensors): {e}"))?;
    let pickles: Vec<String> = archive
        .file_names()
        .filter_map(|name| name.ok())
        .filter(|name| name.ends_with(".pkl"))
        .map(|name| name.into_owned())
        .collect();
    if pickles.is_empty() {
        return Err("not a PyTorch archive: no pickle in it".into());
    }
    for name in pickles {
        let mut bytes = Vec::new();
        archive
            .by_name(&name)
            .map_err(|e| e.to_string())?
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        next_pickle(&mut bytes.as_slice(), &name)?;
    }
    Ok(())
}

/// Every `module.name` global in `object`.
fn collect_globals(object: &Object, out: &mut Vec<String>) {
    match object {
        Object::Class {
            module_name,
            class_name,
        } => out.push(format!("{module_name}.{class_name}")),
        Object::Tuple(items) | Object::List(items) => {
            items.iter().for_each(|o| collect_globals(o, out));
        }
        Object::Dict(pairs) => pairs.iter().for_each(|(k, v)| {
            collect_globals(k, out);
            collect_globals(v, out);
        }),
        Object::Reduce { callable, args } | Object::Build { callable, args } => {
            collect_globals(callable, out);
            collect_globals(args, out);
        }
        Object::PersistentLoad(inner) => collect_globals(inner, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A `.pth`-shaped zip holding `pickle` as `archive/data.pkl`.
    fn archive(dir: &Path, pickle: &[u8]) -> std::path::PathBuf {
        let path = dir.join("x.pth");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("archive/data.pkl", options).unwrap();
        zip.write_all(pickle).unwrap();
        zip.finish().unwrap();
        path
    }

    #[test]
    fn a_pickle_that_calls_os_system_is_refused_unrun() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        // What `pickle.dumps` makes of an object whose `__reduce__` returns
        // `(os.system, ("touch <marker>",))`: protocol 2, GLOBAL 'posix system', the
        // command as a tuple, REDUCE, STOP.
        let command = format!("touch {}", marker.display());
        let mut pickle = b"\x80\x02cposix\nsystem\nq\x00X".to_vec();
        pickle.extend((command.len() as u32).to_le_bytes());
        pickle.extend(command.as_bytes());
        pickle.extend(b"q\x01\x85q\x02Rq\x03.");
        let path = archive(dir.path(), &pickle);
        let error = read_state_dict(&path).unwrap_err().to_string();
        assert!(
            error.contains("posix.system") && error.contains("x.pth"),
            "{error}"
        );
        assert!(!marker.exists(), "nothing ran");
    }

    #[test]
    fn files_that_are_not_state_dicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("t.pth");
        std::fs::write(&text, "hello").unwrap();
        let error = read_state_dict(&text).unwrap_err().to_string();
        assert!(error.contains("not a PyTorch archive"), "{error}");
        // An empty ordered dict: allowed globals, no tensors.
        let path = archive(
            dir.path(),
            b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.",
        );
        let error = read_state_dict(&path).unwrap_err().to_string();
        assert!(error.contains("no tensors"), "{error}");
    }
}

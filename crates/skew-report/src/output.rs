//! The output edge: PNG encoding, and atomic writes (`skew_fs`), so a failed report never
//! leaves a partial or blank file.

use std::path::Path;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot {action}: {reason}")]
pub struct WriteError {
    /// The file.
    pub path: String,
    /// What was being done.
    pub action: &'static str,
    /// Why.
    pub reason: String,
}

/// Encodes an RGB8 buffer of `width` × `height` as PNG.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.add_text_chunk("Software".into(), "skew report".into())
            .map_err(|e| e.to_string())?;
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(rgb).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Writes `bytes` to `path` atomically ([`skew_fs::write_atomic`]): readers see the old file
/// or the new one, never a part; on any error the temporary file is removed and `path` is
/// untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    skew_fs::write_atomic(path, bytes).map_err(|e| WriteError {
        path: path.display().to_string(),
        action: e.step.action(),
        reason: e.source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip() {
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| i as u8).collect();
        let bytes = encode_png(&rgb, 4, 3).unwrap();
        let dec = png::Decoder::new(&bytes[..]);
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (4, 3));
        assert_eq!(&buf[..info.buffer_size()], &rgb[..]);
        assert!(encode_png(&rgb, 5, 5).is_err(), "wrong size is an error");
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let d = std::env::temp_dir().join(format!("skew-report-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("r.png");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let e = write_atomic(&d.join("missing/dir/r.png"), b"x").unwrap_err();
        assert!(
            e.to_string().contains("cannot create a temporary file"),
            "{e}"
        );
    }
}

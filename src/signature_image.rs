//! A signature drawn on a screen, as the browser sends it: a PNG that must
//! be small, of a signature's proportions, and actually drawn on.

/// The largest drawing accepted, in bytes.
pub const MAX_BYTES: usize = 300 * 1024;
const MAX_WIDTH: u32 = 2000;
const MAX_HEIGHT: u32 = 1000;
/// Fewer inked pixels than this is an empty pad or a stray tap.
const MIN_INK_PIXELS: usize = 150;

/// Checks a drawn signature; the error says, in Spanish, what is wrong.
pub fn check_drawn(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "la imagen de la firma pesa más de {} KB",
            MAX_BYTES / 1024
        ));
    }
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|_| "la firma no es una imagen PNG válida".to_owned())?;
    let info = reader.info();
    if info.width > MAX_WIDTH || info.height > MAX_HEIGHT {
        return Err(format!(
            "la imagen de la firma mide {}×{}; el máximo es {MAX_WIDTH}×{MAX_HEIGHT}",
            info.width, info.height
        ));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "la imagen de la firma es demasiado grande".to_owned())?;
    let mut pixels = vec![0; size];
    let frame = reader
        .next_frame(&mut pixels)
        .map_err(|_| "la firma no es una imagen PNG válida".to_owned())?;
    let channels = frame.color_type.samples();
    let inked = pixels[..frame.buffer_size()]
        .chunks_exact(channels)
        .filter(|pixel| is_ink(pixel))
        .count();
    if inked < MIN_INK_PIXELS {
        return Err("el recuadro de la firma está vacío: pida a la persona que firme".into());
    }
    Ok(())
}

/// A dark, visible pixel: ink on the pad.
fn is_ink(pixel: &[u8]) -> bool {
    let (gray, alpha) = match pixel {
        [g] => (*g, 255),
        [g, a] => (*g, *a),
        [r, g, b] => (luma(*r, *g, *b), 255),
        [r, g, b, a] => (luma(*r, *g, *b), *a),
        _ => return false,
    };
    alpha > 128 && gray < 128
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u16::from(r) * 3 + u16::from(g) * 6 + u16::from(b)) / 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white-on-transparent canvas of `w`×`h` with a black line `ink` pixels long.
    fn drawing(w: u32, h: u32, ink: u32) -> Vec<u8> {
        let mut pixels = vec![0u8; (w * h * 4) as usize];
        for x in 0..ink.min(w) {
            let at = ((h / 2 * w + x) * 4) as usize;
            pixels[at..at + 4].copy_from_slice(&[0, 0, 0, 255]);
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("header");
        writer.write_image_data(&pixels).expect("pixels");
        drop(writer);
        out
    }

    #[test]
    fn a_drawn_signature_is_accepted_and_an_empty_pad_is_not() {
        assert_eq!(check_drawn(&drawing(600, 200, 400)), Ok(()));
        assert!(check_drawn(&drawing(600, 200, 10)).unwrap_err().contains("vacío"));
        assert!(
            check_drawn(&drawing(2400, 200, 400))
                .unwrap_err()
                .contains("2400×200")
        );
        assert!(check_drawn(b"%PDF-1.7 not an image").unwrap_err().contains("PNG"));
    }
}

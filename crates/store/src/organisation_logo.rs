//! The clinic's logo, shown in the header of its staff pages and its portal.
//!
//! Only raster images are taken — PNG, JPEG and WebP, recognised by their first bytes,
//! never by the name or the type a browser claims — and at most [`MAX_BYTES`]: an SVG
//! can carry script, and the logo is served to every visitor of the portal. The image
//! is kept in its own table; the organisation row holds its version, a digest of the
//! bytes, which the pages put in the logo's address so that browsers cache it for good.

use sha2::{Digest, Sha256};

use crate::db::{Exec, Tx, execute, rows};
use crate::error::{Error, Result};

/// The largest logo taken: 256 KiB, plenty for a header image.
pub const MAX_BYTES: usize = 256 * 1024;

/// A stored logo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: &'static str,
    /// The image.
    pub bytes: Vec<u8>,
}

/// The image type of `bytes` by their signature, or an error naming the field `logo`
/// that says what is accepted.
pub fn check(bytes: &[u8]) -> Result<&'static str> {
    if bytes.is_empty() {
        return Err(Error::invalid("logo", "Choose an image file for the logo."));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Error::invalid(
            "logo",
            format!(
                "The logo is {} KiB; it must be at most {} KiB.",
                bytes.len().div_ceil(1024),
                MAX_BYTES / 1024
            ),
        ));
    }
    content_type_of(bytes).ok_or_else(|| {
        Error::invalid(
            "logo",
            "The logo must be a PNG, JPEG or WebP image (SVG and other files are not taken).",
        )
    })
}

fn content_type_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The version of an image: the first 16 hex digits of its SHA-256.
fn version_of(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Replaces the organisation's logo with `bytes` (checked by [`check`]) and returns its
/// new version.
pub async fn set(tx: &mut Tx, org: i64, bytes: &[u8], now_ns: i64) -> Result<String> {
    let content_type = check(bytes)?;
    let version = version_of(bytes);
    execute!(
        tx.exec(),
        "DELETE FROM organisation_logos WHERE org_id = $1",
        org
    )?;
    execute!(
        tx.exec(),
        "INSERT INTO organisation_logos (org_id, content_type, bytes, updated_at_ns) \
         VALUES ($1, $2, $3, $4)",
        org,
        content_type,
        bytes,
        now_ns
    )?;
    execute!(
        tx.exec(),
        "UPDATE organisations SET logo_version = $2 WHERE id = $1",
        org,
        &version
    )?;
    Ok(version)
}

/// Removes the organisation's logo; whether it had one.
pub async fn remove(tx: &mut Tx, org: i64) -> Result<bool> {
    let removed = execute!(
        tx.exec(),
        "DELETE FROM organisation_logos WHERE org_id = $1",
        org
    )?;
    execute!(
        tx.exec(),
        "UPDATE organisations SET logo_version = NULL WHERE id = $1",
        org
    )?;
    Ok(removed > 0)
}

/// The organisation's logo, if it has one.
pub async fn get(exec: Exec<'_>, org: i64) -> Result<Option<Logo>> {
    let row: Option<(String, Vec<u8>)> = rows!(
        exec,
        fetch_optional,
        (String, Vec<u8>),
        "SELECT content_type, bytes FROM organisation_logos WHERE org_id = $1",
        org
    )?;
    Ok(row.and_then(|(_, bytes)| {
        // The type is read from the bytes again, so only a type `check` knows is served.
        content_type_of(&bytes).map(|content_type| Logo {
            content_type,
            bytes,
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(check(b"\x89PNG\r\n\x1a\nrest").unwrap(), "image/png");
        assert_eq!(check(&[0xFF, 0xD8, 0xFF, 0xE0, 0]).unwrap(), "image/jpeg");
        assert_eq!(check(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), "image/webp");
        for refused in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            b"<html><script>alert(1)</script>",
            b"GIF89a",
            b"RIFF\0\0\0\0WAVE",
        ] {
            let e = check(refused).unwrap_err();
            assert_eq!(e.field(), Some("logo"));
            assert!(e.to_string().contains("PNG, JPEG or WebP"), "{e}");
        }
        assert!(
            check(b"")
                .unwrap_err()
                .to_string()
                .contains("Choose an image")
        );
        let big = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0; MAX_BYTES]].concat();
        assert!(
            check(&big)
                .unwrap_err()
                .to_string()
                .contains("at most 256 KiB")
        );
        assert!(check(&big[..MAX_BYTES]).is_ok());
    }

    #[test]
    fn a_version_is_sixteen_hex_digits_of_the_digest() {
        let v = version_of(b"logo");
        assert_eq!(v.len(), 16);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(v, version_of(b"other logo"));
    }
}

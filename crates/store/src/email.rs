//! Email addresses: the one plain, lower-cased form every address is stored in (staff,
//! practitioners, patients, sign-ups), so that comparing two addresses is comparing
//! two strings.

use crate::error::{Error, Result};

/// Normalises and checks an email address: a plain address, lower-cased, and nothing
/// else. The part before the `@` uses the characters a mailbox name may have without
/// quoting (letters, digits and ``.!#$%&'*+/=?^_`{|}~-``, dots never first, last or
/// doubled); the part after it is a host name (labels of letters, digits and hyphens,
/// with a dot, or `localhost`). No display name, angle brackets, quoting or spaces of
/// any kind: the address stored is exactly the one mail goes to, so what a stranger
/// types can never put words in the clinic's emails or reach an account under a
/// disguise.
pub fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    if is_plain_address(&email) {
        Ok(email)
    } else {
        Err(Error::invalid("email", "is not an email address"))
    }
}

fn is_plain_address(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let domain_ok = domain.len() <= 253
        && (domain == "localhost" || (domain.contains('.') && domain.split('.').all(label_ok)));
    email.len() <= 254 && local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::normalise_email;

    #[test]
    fn only_plain_addresses() {
        assert_eq!(
            normalise_email(" Ada.Lane+x@Example.COM ").unwrap(),
            "ada.lane+x@example.com"
        );
        assert_eq!(
            normalise_email("o'brien@mail.example").unwrap(),
            "o'brien@mail.example"
        );
        assert_eq!(
            normalise_email("admin@localhost").unwrap(),
            "admin@localhost"
        );
        for bad in [
            "\"your password is x\"<ada@example.com>",
            "<ada@example.com>",
            "ada@example.com.",
            "ada\u{2800}x@example.com",
            "ada@exa mple.com",
            "ada@@example.com",
            ".ada@example.com",
            "ada..lane@example.com",
            "ada@example",
            "ada@-example.com",
            "ada@example.com>",
            "Ada Lane <ada@example.com>",
            "ada@exämple.com",
            "",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }
}

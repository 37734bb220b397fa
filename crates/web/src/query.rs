//! Values the server puts into the query strings of the addresses it builds (the
//! `next=` of a sign-in redirect, the editor's layer), percent-encoded by the
//! `percent-encoding` crate.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What stays as it is: letters, digits, the unreserved marks and `/`, so a path
/// carried in `next=` stays readable.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// `value` percent-encoded for a query string: every byte but letters, digits,
/// `-_.~/` becomes `%XX`.
pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, KEPT).to_string()
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn a_path_stays_readable_and_the_rest_is_encoded() {
        assert_eq!(
            encode("/o/demo/portal/book?day=1&x=é"),
            "/o/demo/portal/book%3Fday%3D1%26x%3D%C3%A9"
        );
        assert_eq!(encode("a b+c~d"), "a%20b%2Bc~d");
    }
}
